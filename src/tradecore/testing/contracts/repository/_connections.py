"""Contract tests of ``uow.connections``: exact round trips, names, updates and removal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from attrs import evolve

from tradecore.domain import new_id
from tradecore.errors import AlreadyExists, NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_connection, make_tokens, make_user
from tradecore.testing.contracts.repository._helpers import (
    ContractBase,
    Owner,
    add_connection,
    add_owner,
    committing,
)


class ConnectionTests(ContractBase):
    """Broker connections: per-user names, exact secrets and tokens, removal cascade."""

    @pytest.mark.asyncio
    async def test_connection_round_trips_settings_secrets_and_tokens_exactly(
        self, repository: RepositoryPort
    ) -> None:
        user = make_user()
        connection = make_connection(
            user_id=user.id,
            broker="saxo",
            settings={"environment": "sim", "base_url": "https://gateway.example/sim/openapi"},
            secrets={"app_key": "k-123", "app_secret": "s3cr3t/+== ünïcode"},
            tokens=make_tokens(access_token="a" * 600, refresh_token="r-1"),
            active=False,
        )
        async with committing(repository) as uow:
            await uow.users.add(user)
            await uow.connections.add(connection)
        async with repository.unit_of_work() as uow:
            stored = await uow.connections.get(user.id, connection.id)
        assert stored == connection
        assert stored.secrets["app_secret"].reveal() == "s3cr3t/+== ünïcode"
        assert stored.tokens is not None
        assert stored.tokens.access_token.reveal() == "a" * 600

    @pytest.mark.asyncio
    async def test_token_refresh_state_round_trips_exactly(
        self, repository: RepositoryPort
    ) -> None:
        # A refresh recorded as started (its marker) and a "log in again" mark survive a round
        # trip, and a later update clears them (the token store relies on both).
        owner = await add_owner(repository, connection_name="saxo-sim")
        started = evolve(
            make_tokens(access_token="a-7", refresh_token="r-7"),
            version=7,
            rotating_since=datetime(2026, 11, 20, 12, 0, 1, 250000, tzinfo=UTC),
            rotating_by="host-1:4242:ab12",
        )
        async with committing(repository) as uow:
            connection = await uow.connections.get_for_update(owner.user.id, owner.connection.id)
            connection.tokens = started
            await uow.connections.update(connection)
        async with repository.unit_of_work() as uow:
            stored = (await uow.connections.get(owner.user.id, owner.connection.id)).tokens
        assert stored == started
        assert stored is not None
        assert stored.rotating_since == started.rotating_since
        assert stored.rotating_by == "host-1:4242:ab12"

        lost = evolve(
            started, login_required="the refresh never saved", rotating_since=None, rotating_by=None
        )
        async with committing(repository) as uow:
            connection = await uow.connections.get_for_update(owner.user.id, owner.connection.id)
            connection.tokens = lost
            await uow.connections.update(connection)
        async with repository.unit_of_work() as uow:
            stored = (await uow.connections.get(owner.user.id, owner.connection.id)).tokens
        assert stored == lost

    @pytest.mark.asyncio
    async def test_connections_are_listed_by_name_and_filtered_by_active(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository, connection_name="main")
        async with committing(repository) as uow:
            await uow.connections.add(make_connection(user_id=owner.user.id, name="binance"))
            await uow.connections.add(
                make_connection(user_id=owner.user.id, name="old", active=False)
            )
        async with repository.unit_of_work() as uow:
            everything = await uow.connections.list(owner.user.id)
            active = await uow.connections.list(owner.user.id, active_only=True)
            by_name = await uow.connections.get_by_name(owner.user.id, "main")
        assert [c.name for c in everything] == ["binance", "main", "old"]
        assert [c.name for c in active] == ["binance", "main"]
        assert by_name == owner.connection

    @pytest.mark.asyncio
    async def test_connection_name_is_unique_per_user_only(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice", "main")
        bob = await add_owner(repository, "bob", "main")
        assert bob.connection.name == alice.connection.name
        async with repository.unit_of_work() as uow:
            with pytest.raises(AlreadyExists):
                await uow.connections.add(
                    make_connection(user_id=alice.user.id, name="main", id=new_id())
                )
        async with repository.unit_of_work() as uow:
            with pytest.raises(AlreadyExists):
                await uow.connections.add(
                    make_connection(user_id=alice.user.id, name="other", id=alice.connection.id)
                )

    @pytest.mark.asyncio
    async def test_connection_of_a_missing_user_raises_not_found(
        self, repository: RepositoryPort
    ) -> None:
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.connections.add(make_connection(user_id=new_id()))

    @pytest.mark.asyncio
    async def test_updating_a_connection_replaces_it(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        rotated = evolve(
            owner.connection,
            name="renamed",
            settings={"environment": "live"},
            secrets={},
            tokens=make_tokens(access_token="new-access", refresh_token="new-refresh"),
            active=False,
        )
        async with committing(repository) as uow:
            await uow.connections.update(rotated)
        async with repository.unit_of_work() as uow:
            assert await uow.connections.get(owner.user.id, owner.connection.id) == rotated
            with pytest.raises(NotFound):
                await uow.connections.get_by_name(owner.user.id, "main")

    @pytest.mark.asyncio
    async def test_missing_connection_raises_not_found(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        ghost = make_connection(user_id=owner.user.id, name="ghost")
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.connections.get(owner.user.id, ghost.id)
            with pytest.raises(NotFound):
                await uow.connections.get_by_name(owner.user.id, "ghost")
            with pytest.raises(NotFound):
                await uow.connections.update(ghost)
            with pytest.raises(NotFound):
                await uow.connections.remove(owner.user.id, ghost.id)

    @pytest.mark.asyncio
    async def test_removing_a_connection_removes_its_rows_and_keeps_the_others(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        kept = await add_connection(repository, owner, "kept")
        await self._fill_connection(repository, owner, owner.connection)
        await self._fill_connection(repository, owner, kept, strategy_name="kept-strategy")
        async with committing(repository) as uow:
            await uow.connections.remove(owner.user.id, owner.connection.id)
        async with repository.unit_of_work() as uow:
            assert [c.id for c in await uow.connections.list(owner.user.id)] == [kept.id]
            assert [s.name for s in await uow.strategies.list(owner.user.id)] == ["kept-strategy"]
            assert await uow.trades.count(owner.user.id) == 2
        # The same connection id again: its old rows must not come back.
        async with committing(repository) as uow:
            await uow.connections.add(owner.connection)
        await self._assert_connection_is_empty(repository, owner)
        await self._assert_connection_is_full(repository, Owner(owner.user, kept))


class ConnectionLockTests(ContractBase):
    """``get_for_update``: one unit at a time holds a connection, and the next sees its work."""

    @pytest.mark.asyncio
    async def test_get_for_update_reads_the_connection_and_scopes_it_by_user(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository, connection_name="main")
        other = await add_owner(repository, name="bob", connection_name="main")
        async with repository.unit_of_work() as uow:
            locked = await uow.connections.get_for_update(owner.user.id, owner.connection.id)
            assert locked == owner.connection
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.connections.get_for_update(other.user.id, owner.connection.id)

    @pytest.mark.asyncio
    async def test_a_second_locker_waits_and_then_sees_what_the_first_committed(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository, connection_name="main")
        order: list[str] = []
        first_holds = asyncio.Event()

        async def first() -> None:
            async with repository.unit_of_work() as uow:
                connection = await uow.connections.get_for_update(
                    owner.user.id, owner.connection.id
                )
                order.append("first locked")
                first_holds.set()
                await asyncio.sleep(0.3)  # the second locker must still be waiting here
                connection.tokens = make_tokens(access_token="rotated", refresh_token="r-2")
                await uow.connections.update(connection)
                order.append("first commits")
                await uow.commit()

        async def second() -> str | None:
            await first_holds.wait()
            async with repository.unit_of_work() as uow:
                connection = await uow.connections.get_for_update(
                    owner.user.id, owner.connection.id
                )
                order.append("second locked")
                await uow.commit()
            return None if connection.tokens is None else connection.tokens.access_token.reveal()

        _, seen = await asyncio.wait_for(asyncio.gather(first(), second()), timeout=20)
        assert order == ["first locked", "first commits", "second locked"]
        assert seen == "rotated"
