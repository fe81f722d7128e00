"""Contract tests of ``uow.positions`` (snapshots) and ``uow.cursors``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from attrs import evolve

from tradecore.domain import new_id
from tradecore.errors import NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_position, make_trade
from tradecore.testing.contracts.repository._helpers import (
    T0,
    ContractBase,
    add_connection,
    add_owner,
    committing,
    minutes,
)


class PositionAndCursorTests(ContractBase):
    """Position snapshots (newer replaces, stale ignored, missing removed) and cursors."""

    # -- positions -------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_snapshot_stores_positions_listed_by_account_and_symbol(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        cid = owner.connection.id
        spot = [
            make_position(connection_id=cid, symbol="ETHUSDT", quantity=Decimal("-1.5")),
            make_position(
                connection_id=cid,
                symbol="BTCUSDT",
                quantity=Decimal("0.00000001"),
                average_price=Decimal("123456789.123456789"),
                market_value=Decimal("1.23"),
                unrealized_pnl=Decimal("-0.01"),
            ),
        ]
        margin = [make_position(connection_id=cid, account_id="margin", symbol="ADAUSDT")]
        async with committing(repository) as uow:
            assert (
                await uow.positions.sync_snapshot(owner.user.id, cid, "spot", spot, as_of=T0) == 2
            )
            await uow.positions.sync_snapshot(owner.user.id, cid, "margin", margin, as_of=T0)
        async with repository.unit_of_work() as uow:
            stored = await uow.positions.list(owner.user.id)
            only_main = await uow.positions.list(owner.user.id, connection_id=cid)
        assert [(p.account_id, p.instrument.symbol) for p in stored] == [
            ("margin", "ADAUSDT"),
            ("spot", "BTCUSDT"),
            ("spot", "ETHUSDT"),
        ]
        assert list(stored) == [margin[0], spot[1], spot[0]] == list(only_main)
        assert str(stored[1].average_price) == "123456789.123456789"

    @pytest.mark.asyncio
    async def test_newer_snapshot_replaces_positions(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        cid = owner.connection.id
        old = make_position(connection_id=cid, quantity=Decimal("1"), as_of=T0)
        new = make_position(connection_id=cid, quantity=Decimal("2"), as_of=T0 + minutes(5))
        async with committing(repository) as uow:
            await uow.positions.sync_snapshot(owner.user.id, cid, "spot", [old], as_of=T0)
        async with committing(repository) as uow:
            written = await uow.positions.sync_snapshot(
                owner.user.id, cid, "spot", [new], as_of=T0 + minutes(5)
            )
        assert written == 1
        async with repository.unit_of_work() as uow:
            assert list(await uow.positions.list(owner.user.id)) == [new]

    @pytest.mark.asyncio
    async def test_older_snapshot_never_overwrites_a_newer_one(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        cid = owner.connection.id
        btc = make_position(connection_id=cid, quantity=Decimal("2"), as_of=T0 + minutes(5))
        eth = make_position(connection_id=cid, symbol="ETHUSDT", as_of=T0 + minutes(5))
        stale = make_position(connection_id=cid, quantity=Decimal("1"), as_of=T0)
        async with committing(repository) as uow:
            await uow.positions.sync_snapshot(
                owner.user.id, cid, "spot", [btc, eth], as_of=T0 + minutes(5)
            )
        async with committing(repository) as uow:
            written = await uow.positions.sync_snapshot(
                owner.user.id, cid, "spot", [stale], as_of=T0
            )
        assert written == 0
        async with repository.unit_of_work() as uow:
            assert list(await uow.positions.list(owner.user.id)) == [btc, eth]

    @pytest.mark.asyncio
    async def test_positions_missing_from_a_newer_snapshot_are_removed(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        cid = owner.connection.id
        btc = make_position(connection_id=cid, as_of=T0)
        eth = make_position(connection_id=cid, symbol="ETHUSDT", as_of=T0)
        async with committing(repository) as uow:
            await uow.positions.sync_snapshot(owner.user.id, cid, "spot", [btc, eth], as_of=T0)
        later = evolve(btc, as_of=T0 + minutes(1))
        async with committing(repository) as uow:
            await uow.positions.sync_snapshot(
                owner.user.id, cid, "spot", [later], as_of=T0 + minutes(1)
            )
        async with repository.unit_of_work() as uow:
            assert list(await uow.positions.list(owner.user.id)) == [later]
        async with committing(repository) as uow:
            await uow.positions.sync_snapshot(owner.user.id, cid, "spot", [], as_of=T0 + minutes(2))
        async with repository.unit_of_work() as uow:
            assert list(await uow.positions.list(owner.user.id)) == []

    @pytest.mark.asyncio
    async def test_snapshot_leaves_other_accounts_and_connections_untouched(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        other = await add_connection(repository, owner, "other")
        cid = owner.connection.id
        margin = make_position(connection_id=cid, account_id="margin", as_of=T0)
        elsewhere = make_position(connection_id=other.id, as_of=T0)
        async with committing(repository) as uow:
            await uow.positions.sync_snapshot(owner.user.id, cid, "margin", [margin], as_of=T0)
            await uow.positions.sync_snapshot(
                owner.user.id, other.id, "spot", [elsewhere], as_of=T0
            )
        async with committing(repository) as uow:
            await uow.positions.sync_snapshot(owner.user.id, cid, "spot", [], as_of=T0 + minutes(9))
        async with repository.unit_of_work() as uow:
            assert list(await uow.positions.list(owner.user.id, connection_id=cid)) == [margin]
            assert list(await uow.positions.list(owner.user.id, connection_id=other.id)) == [
                elsewhere
            ]

    # -- cursors ---------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_cursor_is_none_until_set_and_kept_per_account(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        user_id, cid = owner.user.id, owner.connection.id
        async with repository.unit_of_work() as uow:
            assert await uow.cursors.get(user_id, cid, "spot") is None
        async with committing(repository) as uow:
            await uow.cursors.set(user_id, cid, "spot", "1700000000000:42")
            await uow.cursors.set(user_id, cid, "margin", "7")
        async with committing(repository) as uow:
            await uow.cursors.set(user_id, cid, "spot", "1700000000999:43")
        async with repository.unit_of_work() as uow:
            assert await uow.cursors.get(user_id, cid, "spot") == "1700000000999:43"
            assert await uow.cursors.get(user_id, cid, "margin") == "7"
            with pytest.raises(NotFound):
                await uow.cursors.set(user_id, new_id(), "spot", "1")

    @pytest.mark.asyncio
    async def test_a_cursor_reset_drops_only_that_account_and_keeps_the_trades(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        other = await add_connection(repository, owner, "second")
        user_id, cid = owner.user.id, owner.connection.id
        trade = make_trade(connection_id=cid, account_id="spot", broker_trade_id="28457")
        async with committing(repository) as uow:
            await uow.trades.add_new(user_id, [trade])
            await uow.cursors.set(user_id, cid, "spot", '{"next":{"BTCUSDT":1e23}}')
            await uow.cursors.set(user_id, cid, "margin", "7")
            await uow.cursors.set(user_id, other.id, "spot", "kept")
        async with repository.unit_of_work() as uow:
            assert await uow.cursors.keys(user_id, cid) == ["margin", "spot"]
        async with committing(repository) as uow:
            assert await uow.cursors.reset(user_id, cid, "spot") is True
            assert await uow.cursors.get(user_id, cid, "spot") is None  # within the unit too
        async with repository.unit_of_work() as uow:
            assert await uow.cursors.get(user_id, cid, "spot") is None
            assert await uow.cursors.get(user_id, cid, "margin") == "7"
            assert await uow.cursors.get(user_id, other.id, "spot") == "kept"
            assert await uow.cursors.keys(user_id, cid) == ["margin"]
            assert [t.broker_trade_id for t in await uow.trades.list(user_id)] == ["28457"]
        async with committing(repository) as uow:
            assert await uow.cursors.reset(user_id, cid, "spot") is False, "nothing to drop"

    @pytest.mark.asyncio
    async def test_a_cursor_reset_is_rolled_back_with_its_unit_and_scoped_to_the_user(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        bob = await add_owner(repository, name="bob")
        user_id, cid = owner.user.id, owner.connection.id
        async with committing(repository) as uow:
            await uow.cursors.set(user_id, cid, "spot", "c1")
        async with repository.unit_of_work() as uow:
            assert await uow.cursors.reset(user_id, cid, "spot") is True
            # no commit: the reset is dropped with the unit
        async with repository.unit_of_work() as uow:
            assert await uow.cursors.get(user_id, cid, "spot") == "c1"
            assert await uow.cursors.keys(bob.user.id, cid) == []
            with pytest.raises(NotFound):
                await uow.cursors.reset(bob.user.id, cid, "spot")
            with pytest.raises(NotFound):
                await uow.cursors.reset(user_id, new_id(), "spot")
        async with repository.unit_of_work() as uow:
            assert await uow.cursors.get(user_id, cid, "spot") == "c1"
