"""A sync that fails half-way, then runs again, on the SQL repository (SQLite and PostgreSQL):
trades are stored with the cursor after them (here every page: ``trades_per_write=2``), so what
was stored before the failure stays, the re-run goes on from its cursor, and every trade is
stored exactly once."""

from __future__ import annotations

import pytest

from tradecore.domain import Account, BrokerConnection
from tradecore.errors import BrokerUnavailable
from tradecore.services import sync_connection
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import make_connection, make_position, make_trade, make_user
from tradecore_adapters.sqlalchemy import SqlRepository


def _broker(clock: FakeClock, connection: BrokerConnection, *, fail_call: int) -> FakeBroker:
    # Seven fills, two a page; the get_trades call numbered fail_call (from 1) fails once.
    account = Account(connection_id=connection.id, account_id="spot", currency="USD")
    trades = [make_trade(connection_id=connection.id, broker_trade_id=str(n)) for n in range(7)]
    broker = FakeBroker(
        clock=clock,
        connection_id=connection.id,
        accounts=[account],
        trades=trades,
        positions=[make_position(connection_id=connection.id, account_id="spot")],
        page_size=2,
    )
    calls = 0

    async def before_call(method: str) -> None:
        nonlocal calls
        if method == "get_trades":
            calls += 1
            if calls == fail_call:
                raise BrokerUnavailable("down for maintenance", broker="fake")

    broker.before_call = before_call
    return broker


async def test_a_sync_failing_half_way_keeps_its_pages_and_the_rerun_stores_the_rest_once(
    repository: SqlRepository,
) -> None:
    clock = FakeClock()
    connection = make_connection()
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user(id=connection.user_id))
        await uow.connections.add(connection)
        await uow.commit()
    broker = _broker(clock, connection, fail_call=3)
    user_id = connection.user_id

    with pytest.raises(BrokerUnavailable):
        await sync_connection(
            repository=repository,
            broker=broker,
            connection=connection,
            clock=clock,
            trades_per_write=2,
        )

    async with repository.unit_of_work() as uow:
        stored = sorted(int(t.broker_trade_id) for t in await uow.trades.list(user_id))
        assert stored == [0, 1, 2, 3], "the two pages fetched before the failure are kept"
        assert await uow.cursors.get(user_id, connection.id, "spot") == "4", "with their cursor"
        assert await uow.positions.list(user_id) == [], "no positions from a failed sync"

    result = await sync_connection(
        repository=repository,
        broker=broker,
        connection=connection,
        clock=clock,
        trades_per_write=2,
    )

    assert (result.trades_seen, result.trades_new) == (3, 3), "the re-run asks from the cursor"
    async with repository.unit_of_work() as uow:
        stored = sorted(int(t.broker_trade_id) for t in await uow.trades.list(user_id))
        assert stored == list(range(7)), "every trade stored exactly once"
        assert await uow.cursors.get(user_id, connection.id, "spot") == "7"
        assert len(await uow.positions.list(user_id)) == 1
