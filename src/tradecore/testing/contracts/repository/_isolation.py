"""Contract tests that one user can neither see nor change another user's rows."""

from __future__ import annotations

import pytest
from attrs import evolve

from tradecore.domain import OrderStatus
from tradecore.errors import NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_order, make_run, make_strategy, make_trade
from tradecore.testing.contracts.repository._helpers import (
    T0,
    ContractBase,
    add_owner,
    committing,
    minutes,
)


class IsolationTests(ContractBase):
    """Isolation: another user's rows are invisible (``NotFound`` or empty) and unchanged."""

    @pytest.mark.asyncio
    async def test_another_user_cannot_see_or_change_a_connection(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob", "bobs")
        stolen = evolve(alice.connection, user_id=bob.user.id, name="stolen")
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.connections.get(bob.user.id, alice.connection.id)
            with pytest.raises(NotFound):
                await uow.connections.get_by_name(bob.user.id, alice.connection.name)
            assert [c.id for c in await uow.connections.list(bob.user.id)] == [bob.connection.id]
            with pytest.raises(NotFound):
                await uow.connections.update(stolen)
            with pytest.raises(NotFound):
                await uow.connections.remove(bob.user.id, alice.connection.id)
        async with repository.unit_of_work() as uow:
            assert await uow.connections.get(alice.user.id, alice.connection.id) == alice.connection

    @pytest.mark.asyncio
    async def test_another_user_cannot_read_or_write_trades_positions_or_cursors(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        await self._fill_connection(repository, alice, alice.connection)
        cid = alice.connection.id
        async with repository.unit_of_work() as uow:
            assert list(await uow.trades.list(bob.user.id)) == []
            assert list(await uow.trades.list(bob.user.id, connection_id=cid)) == []
            assert await uow.trades.count(bob.user.id, connection_id=cid) == 0
            assert list(await uow.positions.list(bob.user.id, connection_id=cid)) == []
            assert await uow.cursors.get(bob.user.id, cid, "spot") is None
        bobs_trade = make_trade(connection_id=cid, broker_trade_id="bob")
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.trades.add_new(bob.user.id, [bobs_trade])
            await uow.commit()
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.positions.sync_snapshot(
                    bob.user.id, cid, "spot", [], as_of=T0 + minutes(9)
                )
            await uow.commit()
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.cursors.set(bob.user.id, cid, "spot", "hijacked")
            await uow.commit()
        await self._assert_connection_is_full(repository, alice)

    @pytest.mark.asyncio
    async def test_another_user_cannot_see_or_change_orders(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        order = make_order(connection_id=alice.connection.id)
        async with committing(repository) as uow:
            await uow.orders.add(alice.user.id, order)
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.orders.get(bob.user.id, order.client_order_id)
            assert list(await uow.orders.list(bob.user.id)) == []
            assert list(await uow.orders.list(bob.user.id, connection_id=alice.connection.id)) == []
            with pytest.raises(NotFound):
                await uow.orders.update(bob.user.id, evolve(order, status=OrderStatus.CANCELED))
            with pytest.raises(NotFound):
                await uow.orders.add(
                    bob.user.id, make_order(connection_id=alice.connection.id, client_order_id="b")
                )
        async with repository.unit_of_work() as uow:
            assert await uow.orders.get(alice.user.id, order.client_order_id) == order

    @pytest.mark.asyncio
    async def test_another_user_cannot_see_or_change_strategies(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        strategy = make_strategy(user_id=alice.user.id, connection_id=alice.connection.id)
        async with committing(repository) as uow:
            await uow.strategies.add(strategy)
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.strategies.get(bob.user.id, strategy.id)
            with pytest.raises(NotFound):
                await uow.strategies.get_by_name(bob.user.id, strategy.name)
            assert list(await uow.strategies.list(bob.user.id)) == []
            with pytest.raises(NotFound):
                await uow.strategies.update(evolve(strategy, user_id=bob.user.id))
            with pytest.raises(NotFound):
                await uow.strategies.remove(bob.user.id, strategy.id)
            with pytest.raises(NotFound):  # bob's strategy on alice's connection
                await uow.strategies.add(
                    make_strategy(user_id=bob.user.id, connection_id=alice.connection.id)
                )
        async with repository.unit_of_work() as uow:
            assert await uow.strategies.get(alice.user.id, strategy.id) == strategy

    @pytest.mark.asyncio
    async def test_another_user_cannot_see_or_change_runs(self, repository: RepositoryPort) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        run = make_run(user_id=alice.user.id)
        async with committing(repository) as uow:
            await uow.runs.add(run)
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.runs.get(bob.user.id, run.id)
            assert list(await uow.runs.list(bob.user.id)) == []
            with pytest.raises(NotFound):
                await uow.runs.update(evolve(run, user_id=bob.user.id))
        async with repository.unit_of_work() as uow:
            assert await uow.runs.get(alice.user.id, run.id) == run
