"""Half a million trades for one user on SQLite: a page costs the page, not the history.

The trades go in through the SQL repository's own bulk path (one ``executemany`` of the tuples
SQLite stores, :func:`sqlite_trade_values`), not through the use cases one by one. The proof
is not a timing: SQLite counts the virtual-machine instructions each statement runs (its
progress handler, called every :data:`STEP` instructions), and a page of 50 must cost a small
fraction of one pass over the user's trades, on the first page, the second, and one in the
middle of the history; the query plans must walk an index in page order (no sort of every
matching row); and each page returns exactly its rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event
from sqlalchemy.util import await_only

from tradecore.ports import PageKey
from tradecore.services import Portfolio, ServiceContext
from tradecore.testing import FakeClock
from tradecore.testing.builders import DEFAULT_TIME, make_connection, make_trade, make_user
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy._rows import TRADE_COLUMNS
from tradecore_adapters.sqlalchemy._trade_inserts import sqlite_trade_values
from tradecore_adapters.sqlalchemy._types import sqlite_datetime
from tradecore_adapters.sqlalchemy.migrate import upgrade

TRADES = 500_000
BOBS = 5_000
STEP = 100  # instructions per progress-handler call
INSERT = (
    f"INSERT INTO trades ({', '.join(TRADE_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in TRADE_COLUMNS)})"
)


class Steps:
    """Counts SQLite's progress-handler calls while :attr:`on`."""

    def __init__(self) -> None:
        self.on = False
        self.count = 0

    def __call__(self) -> int:
        if self.on:
            self.count += 1
        return 0  # go on

    @contextmanager
    def measure(self) -> Iterator[None]:
        self.count, self.on = 0, True
        try:
            yield
        finally:
            self.on = False


def rows(user_id: str, connection_id: str, count: int, prefix: str) -> Iterator[tuple[Any, ...]]:
    # The stored tuple of one trade, with its id, symbol and time changed per row: trade n is
    # executed n seconds after DEFAULT_TIME (every tenth one is ETHUSDT).
    template = list(sqlite_trade_values(user_id, make_trade(connection_id=connection_id)))
    symbol, trade_id, executed = (
        TRADE_COLUMNS.index(name) for name in ("symbol", "broker_trade_id", "executed_at")
    )
    for n in range(count):
        template[symbol] = "ETHUSDT" if n % 10 == 0 else "BTCUSDT"
        template[trade_id] = f"{prefix}{n}"
        template[executed] = sqlite_datetime(DEFAULT_TIME + timedelta(seconds=n))
        yield tuple(template)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seeded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Any, ...]]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('scale')) / 'scale.db'}"
    await upgrade(url)
    repository = await SqlRepository.open(url, key_ring=KeyRing.from_keys([KeyRing.generate_key()]))
    alice, bob = make_user(name="alice"), make_user(name="bob")
    mains = [make_connection(user_id=user.id, name="main") for user in (alice, bob)]
    async with repository.unit_of_work() as uow:
        for user, connection in zip((alice, bob), mains, strict=True):
            await uow.users.add(user)
            await uow.connections.add(connection)
        await uow.commit()
    async with repository.engine.connect() as db:
        # The engine runs SQLite in autocommit mode and the unit of work opens its own
        # transactions (BEGIN IMMEDIATE), as this does: one transaction, not 505,000.
        await db.exec_driver_sql("BEGIN IMMEDIATE")
        await db.exec_driver_sql(INSERT, list(rows(alice.id, mains[0].id, TRADES, "a")))
        await db.exec_driver_sql(INSERT, list(rows(bob.id, mains[1].id, BOBS, "b")))
        await db.exec_driver_sql("COMMIT")

    steps = Steps()

    @event.listens_for(repository.engine.sync_engine, "checkout")
    def count_steps(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        # Inside SQLAlchemy's greenlet, so the driver's coroutine can be awaited here.
        await_only(dbapi_connection.driver_connection.set_progress_handler(steps, STEP))

    yield repository, steps, alice.id, bob.id, mains[0].id
    await repository.aclose()


@pytest.mark.asyncio(loop_scope="module")
async def test_a_page_of_500000_trades_reads_only_the_page(seeded: tuple[Any, ...]) -> None:
    repository, steps, alice, _, _ = seeded
    portfolio = Portfolio(ServiceContext(repository=repository, clock=FakeClock(DEFAULT_TIME)))

    with steps.measure():
        first = await portfolio.trade_page(alice, limit=50)
    first_cost = steps.count
    with steps.measure():
        second = await portfolio.trade_page(alice, cursor=first.next_cursor, limit=50)
    second_cost = steps.count
    async with repository.unit_of_work() as uow:
        middle_key = PageKey(DEFAULT_TIME + timedelta(seconds=TRADES // 2), TRADES // 2 + 1)
        with steps.measure():
            middle = await uow.trades.page(alice, before=middle_key, limit=50)
        middle_cost = steps.count
        with steps.measure():
            assert await uow.trades.count(alice) == TRADES  # one pass over her trades' index
        one_pass = steps.count

    newest = [f"a{n}" for n in range(TRADES - 1, TRADES - 101, -1)]
    assert [t.broker_trade_id for t in first.items + second.items] == newest
    assert [t.broker_trade_id for t in middle.items][:2] == [
        f"a{TRADES // 2 - 1}",
        f"a{TRADES // 2 - 2}",
    ]
    assert len(middle.items) == 50
    # A page of 50 costs well under a hundredth of one pass over the 500,000 (measured: a
    # page is about 15 steps of 100 instructions, the pass about 15,000).
    for cost in (first_cost, second_cost, middle_cost):
        assert 0 < cost * 100 < one_pass, (first_cost, second_cost, middle_cost, one_pass)


@pytest.mark.asyncio(loop_scope="module")
async def test_every_page_query_walks_an_index_in_page_order(seeded: tuple[Any, ...]) -> None:
    repository, _, alice, bob, connection_id = seeded
    async with repository.unit_of_work() as uow:
        # Filters the store applies, each the way the page query is built.
        bobs = await uow.trades.page(bob, limit=500)
        assert {t.broker_trade_id[0] for t in bobs.items} == {"b"}
        filtered = await uow.trades.page(
            alice, connection_id=connection_id, symbol="ethusdt", limit=20
        )
        assert [t.broker_trade_id for t in filtered.items][:2] == ["a499990", "a499980"]
    statements: list[tuple[str, Any]] = []

    @event.listens_for(repository.engine.sync_engine, "before_cursor_execute")
    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM trades" in statement:
            statements.append((statement, parameters))

    try:
        async with repository.unit_of_work() as uow:
            key = PageKey(DEFAULT_TIME + timedelta(seconds=1000), 1001)
            await uow.trades.page(alice, before=key, limit=50)
            await uow.trades.page(alice, connection_id=connection_id, before=key, limit=50)
            await uow.trades.page(alice, symbol="BTCUSDT", since=DEFAULT_TIME, limit=50)
    finally:
        event.remove(repository.engine.sync_engine, "before_cursor_execute", keep)
    assert len(statements) == 3
    async with repository.engine.connect() as db:
        for (statement, parameters), index in zip(
            statements,
            (
                "ix_trades_user_id_executed_at_id",
                "ix_trades_user_id_connection_id_executed_at_id",
                "ix_trades_user_id_executed_at_id",
            ),
            strict=True,
        ):
            assert "LIMIT" in statement
            result = await db.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = " | ".join(str(row[-1]) for row in result)
            assert index in plan, plan
            assert "TEMP B-TREE" not in plan, plan  # no sort of every matching row
