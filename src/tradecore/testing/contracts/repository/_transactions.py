"""Contract tests of units of work: isolation of uncommitted writes, rollback, concurrency."""

from __future__ import annotations

import asyncio

import pytest

from tradecore.domain import BrokerConnection
from tradecore.errors import NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_connection, make_position, make_trade, make_user
from tradecore.testing.contracts.repository._helpers import (
    T0,
    ContractBase,
    add_connection,
    add_owner,
    keys,
)


class _Boom(Exception):
    pass


class TransactionTests(ContractBase):
    """Units of work: commit, rollback, reading own writes, concurrent units."""

    @pytest.mark.asyncio
    async def test_uncommitted_writes_are_invisible_to_others_and_discarded_on_exit(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository)
        bob = make_user(name="bob")
        async with repository.unit_of_work() as writer:
            await writer.users.add(bob)
            await writer.trades.add_new(
                alice.user.id, [make_trade(connection_id=alice.connection.id)]
            )
            async with repository.unit_of_work() as reader:
                with pytest.raises(NotFound):
                    await reader.users.get(bob.id)
                assert [u.name for u in await reader.users.list()] == ["alice"]
                assert await reader.trades.count(alice.user.id) == 0
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.users.get_by_name("bob")
            assert await uow.trades.count(alice.user.id) == 0

    @pytest.mark.asyncio
    async def test_an_exception_in_the_block_rolls_back(self, repository: RepositoryPort) -> None:
        alice = await add_owner(repository)

        async def fail_midway() -> None:
            async with repository.unit_of_work() as uow:
                await uow.connections.remove(alice.user.id, alice.connection.id)
                await uow.users.add(make_user(name="bob"))
                raise _Boom

        with pytest.raises(_Boom):
            await fail_midway()
        async with repository.unit_of_work() as uow:
            assert await uow.connections.get(alice.user.id, alice.connection.id) == alice.connection
            assert [u.name for u in await uow.users.list()] == ["alice"]

    @pytest.mark.asyncio
    async def test_committed_writes_survive_a_later_exception(
        self, repository: RepositoryPort
    ) -> None:
        async def fail_after_a_commit() -> None:
            async with repository.unit_of_work() as uow:
                await uow.users.add(make_user(name="alice"))
                await uow.commit()
                await uow.users.add(make_user(name="bob"))
                raise _Boom

        with pytest.raises(_Boom):
            await fail_after_a_commit()
        async with repository.unit_of_work() as uow:
            assert [u.name for u in await uow.users.list()] == ["alice"]

    @pytest.mark.asyncio
    async def test_rollback_discards_the_units_writes(self, repository: RepositoryPort) -> None:
        async with repository.unit_of_work() as uow:
            await uow.users.add(make_user(name="alice"))
            await uow.rollback()
            with pytest.raises(NotFound):
                await uow.users.get_by_name("alice")
            await uow.users.add(make_user(name="bob"))
            await uow.commit()
        async with repository.unit_of_work() as uow:
            assert [u.name for u in await uow.users.list()] == ["bob"]

    @pytest.mark.asyncio
    async def test_a_unit_reads_its_own_writes(self, repository: RepositoryPort) -> None:
        user = make_user()
        connection = make_connection(user_id=user.id)
        async with repository.unit_of_work() as uow:
            await uow.users.add(user)
            await uow.connections.add(connection)
            await uow.trades.add_new(user.id, [make_trade(connection_id=connection.id)])
            await uow.positions.sync_snapshot(
                user.id,
                connection.id,
                "spot",
                [make_position(connection_id=connection.id)],
                as_of=T0,
            )
            await uow.cursors.set(user.id, connection.id, "spot", "c1")
            assert await uow.users.get(user.id) == user
            assert list(await uow.connections.list(user.id)) == [connection]
            assert await uow.trades.count(user.id) == 1
            assert len(await uow.positions.list(user.id)) == 1
            assert await uow.cursors.get(user.id, connection.id, "spot") == "c1"
            await uow.connections.remove(user.id, connection.id)
            assert await uow.trades.count(user.id) == 0
            assert list(await uow.positions.list(user.id)) == []
            with pytest.raises(NotFound):
                await uow.connections.get(user.id, connection.id)

    @pytest.mark.asyncio
    async def test_concurrent_units_on_different_connections_both_keep_their_writes(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        second = await add_connection(repository, owner, "second")
        user_id = owner.user.id
        first_ready, second_ready = asyncio.Event(), asyncio.Event()

        async def sync(
            connection: BrokerConnection, mine: asyncio.Event, other: asyncio.Event
        ) -> None:
            # Both units are open and have read before either commits. Unless the store
            # serializes writers, both have also written: the classic lost-update set-up.
            async with repository.unit_of_work() as uow:
                await uow.connections.get(user_id, connection.id)
                if self.serializes_writes:
                    mine.set()
                    await other.wait()
                await uow.trades.add_new(
                    user_id,
                    [make_trade(connection_id=connection.id, broker_trade_id=connection.name)],
                )
                await uow.positions.sync_snapshot(
                    user_id,
                    connection.id,
                    "spot",
                    [make_position(connection_id=connection.id)],
                    as_of=T0,
                )
                await uow.cursors.set(user_id, connection.id, "spot", connection.name)
                if not self.serializes_writes:
                    mine.set()
                    await other.wait()
                await uow.commit()

        await asyncio.wait_for(
            asyncio.gather(
                sync(owner.connection, first_ready, second_ready),
                sync(second, second_ready, first_ready),
            ),
            timeout=30,
        )
        async with repository.unit_of_work() as uow:
            for connection in (owner.connection, second):
                trades = await uow.trades.list(user_id, connection_id=connection.id)
                assert keys(trades) == [connection.name]
                assert len(await uow.positions.list(user_id, connection_id=connection.id)) == 1
                assert await uow.cursors.get(user_id, connection.id, "spot") == connection.name
