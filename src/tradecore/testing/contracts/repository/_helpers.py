"""What the repository contract's test mixins share: the public helpers and a common base.

:func:`add_owner`, :func:`add_connection` and :func:`committing` (and :class:`Owner`) are
public through :mod:`tradecore.testing.contracts.repository`, for adapter-specific tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import ClassVar

from attrs import frozen

from tradecore.domain import BrokerConnection, Trade, User
from tradecore.ports.repository import RepositoryPort, UnitOfWork
from tradecore.testing.builders import (
    DEFAULT_TIME,
    make_automation_config,
    make_connection,
    make_order,
    make_position,
    make_run,
    make_strategy,
    make_trade,
    make_user,
)

T0 = DEFAULT_TIME


def minutes(n: int) -> timedelta:
    """``n`` minutes, to place things in time relative to :data:`T0`."""
    return timedelta(minutes=n)


@frozen
class Owner:
    """A stored user with one stored connection."""

    user: User
    connection: BrokerConnection


async def add_owner(
    repository: RepositoryPort, name: str = "alice", connection_name: str = "main"
) -> Owner:
    """Store a user named ``name`` with a connection named ``connection_name`` and commit."""
    user = make_user(name=name)
    connection = make_connection(user_id=user.id, name=connection_name)
    async with committing(repository) as uow:
        await uow.users.add(user)
        await uow.connections.add(connection)
    return Owner(user, connection)


async def add_connection(repository: RepositoryPort, owner: Owner, name: str) -> BrokerConnection:
    """Store another connection of ``owner`` and commit."""
    connection = make_connection(user_id=owner.user.id, name=name)
    async with committing(repository) as uow:
        await uow.connections.add(connection)
    return connection


@asynccontextmanager
async def committing(repository: RepositoryPort) -> AsyncIterator[UnitOfWork]:
    """A unit of work that commits when its block ends without an error."""
    async with repository.unit_of_work() as uow:
        yield uow
        await uow.commit()


def keys(trades: Sequence[Trade]) -> list[str]:
    """The broker trade ids, in order."""
    return [trade.broker_trade_id for trade in trades]


class ContractBase:
    """Base of every test mixin: the class flag they read and the helpers they call.

    :class:`~tradecore.testing.contracts.repository.RepositoryPortContract` sets the flag and
    declares the ``repository`` fixture.
    """

    serializes_writes: ClassVar[bool]

    async def _fill_connection(
        self,
        repository: RepositoryPort,
        owner: Owner,
        connection: BrokerConnection,
        *,
        strategy_name: str = "dca-btc",
    ) -> None:
        # Two trades, one position, a cursor, an order and a strategy on the connection; a run
        # and an automation config for the user.
        user_id, cid = owner.user.id, connection.id
        async with committing(repository) as uow:
            await uow.trades.add_new(
                user_id,
                [make_trade(connection_id=cid, broker_trade_id=str(n)) for n in (1, 2)],
            )
            await uow.positions.sync_snapshot(
                user_id, cid, "spot", [make_position(connection_id=cid)], as_of=T0
            )
            await uow.cursors.set(user_id, cid, "spot", "cursor-1")
            await uow.orders.add(
                user_id, make_order(connection_id=cid, client_order_id=f"o-{cid[:8]}")
            )
            await uow.strategies.add(
                make_strategy(user_id=user_id, connection_id=cid, name=strategy_name)
            )
            await uow.runs.add(make_run(user_id=user_id))
            await uow.automation.save(make_automation_config(user_id=user_id))

    async def _assert_connection_is_full(self, repository: RepositoryPort, owner: Owner) -> None:
        user_id, cid = owner.user.id, owner.connection.id
        async with repository.unit_of_work() as uow:
            assert await uow.trades.count(user_id, connection_id=cid) == 2
            assert len(await uow.positions.list(user_id, connection_id=cid)) == 1
            assert await uow.cursors.get(user_id, cid, "spot") == "cursor-1"
            assert len(await uow.orders.list(user_id, connection_id=cid)) == 1
            strategies = await uow.strategies.list(user_id)
            assert [s.connection_id for s in strategies].count(cid) == 1

    async def _assert_connection_is_empty(self, repository: RepositoryPort, owner: Owner) -> None:
        user_id, cid = owner.user.id, owner.connection.id
        async with repository.unit_of_work() as uow:
            assert await uow.trades.count(user_id, connection_id=cid) == 0
            assert list(await uow.positions.list(user_id, connection_id=cid)) == []
            assert await uow.cursors.get(user_id, cid, "spot") is None
            assert list(await uow.orders.list(user_id, connection_id=cid)) == []
            assert [s for s in await uow.strategies.list(user_id) if s.connection_id == cid] == []
