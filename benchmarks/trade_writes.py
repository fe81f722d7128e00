"""Benchmark: write 100,000 trades into SQLite through the SQL repository, beside a plain
``sqlite3`` ``executemany`` of the same rows, in the same run; with ``--postgresql URL``, into
PostgreSQL through the repository beside SQLAlchemy's ``INSERT … ON CONFLICT DO NOTHING …
RETURNING`` of the same rows (the repository's path before issue 20).

    python benchmarks/trade_writes.py [--trades 100000] [--rounds 3]
    python benchmarks/trade_writes.py --postgresql postgresql://127.0.0.1:5432/test [--page 4000]

Both sides write into a fresh database migrated to the same schema (same natural-key index and
other indexes, WAL, synchronous=NORMAL), in one transaction, with the same
``INSERT ... ON CONFLICT DO NOTHING``. The repository side starts from domain ``Trade`` objects
(the conversion to rows is part of its work); the raw side gets the rows already as tuples, so it
measures the database alone. Target: the repository reaches at least half the raw rate.

On PostgreSQL (a database ``bench_trades_<pid>`` made on the server and dropped afterwards, fresh
for every side and round) both sides start from domain ``Trade`` objects and write them in pages
of ``--page`` trades, one transaction each, as a sync writes a page, then count the new rows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradecore.domain import Side, Trade
from tradecore.testing.builders import make_connection, make_instrument, make_user
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy._rows import TRADE_COLUMNS
from tradecore_adapters.sqlalchemy._trade_inserts import sqlite_trade_values
from tradecore_adapters.sqlalchemy.migrate import upgrade
from tradecore_adapters.sqlalchemy.schema import trades as trades_table

SYMBOLS = [make_instrument(symbol) for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT")]
START = datetime(2024, 1, 1, tzinfo=UTC)


def make_trades(connection_id: str, count: int) -> list[Trade]:
    """``count`` distinct fills with realistic exact amounts."""
    return [
        Trade(
            connection_id=connection_id,
            account_id="spot",
            broker_trade_id=str(1_000_000 + n),
            broker_order_id=str(500_000 + n // 3),
            instrument=SYMBOLS[n % len(SYMBOLS)],
            side=Side.BUY if n % 2 else Side.SELL,
            quantity=Decimal(n % 977 + 1).scaleb(-5),
            price=Decimal(4_200_000 + n % 10_007).scaleb(-2),
            fee=Decimal(n % 97 + 1).scaleb(-8),
            fee_asset="BNB",
            executed_at=START + timedelta(seconds=7 * n),
        )
        for n in range(count)
    ]


async def repository_round(directory: Path, trades_count: int) -> float:
    url = f"sqlite:///{directory / 'repository.db'}"
    await upgrade(url)
    repository = await SqlRepository.open(url, key_ring=KeyRing.from_keys([KeyRing.generate_key()]))
    try:
        user = make_user()
        connection = make_connection(user_id=user.id)
        async with repository.unit_of_work() as uow:
            await uow.users.add(user)
            await uow.connections.add(connection)
            await uow.commit()
        trades = make_trades(connection.id, trades_count)
        started = time.perf_counter()
        async with repository.unit_of_work() as uow:
            added = await uow.trades.add_new(user.id, trades)
            await uow.commit()
        elapsed = time.perf_counter() - started
        assert added == trades_count, added
        return elapsed
    finally:
        await repository.aclose()


async def raw_round(directory: Path, trades_count: int) -> float:
    path = directory / "raw.db"
    await upgrade(f"sqlite:///{path}")
    user = make_user()
    connection = make_connection(user_id=user.id)
    rows = [
        sqlite_trade_values(user.id, trade) for trade in make_trades(connection.id, trades_count)
    ]
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
            db.execute(f"PRAGMA {pragma}")
        db.execute(
            "INSERT INTO users (id, name, created_at) VALUES (?, ?, ?)",
            (user.id, user.name, "2024-01-01 00:00:00.000000"),
        )
        db.execute(
            "INSERT INTO broker_connections (id, user_id, broker, name, settings, secrets_enc, "
            "key_id, active, created_at) VALUES (?, ?, 'paper', 'main', '{}', 'x', 'k', 1, ?)",
            (connection.id, user.id, "2024-01-01 00:00:00.000000"),
        )
        insert = (
            f"INSERT INTO trades ({', '.join(TRADE_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in TRADE_COLUMNS)}) "
            "ON CONFLICT (connection_id, account_id, symbol, broker_trade_id) DO NOTHING"
        )
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.executemany(insert, rows)
        db.execute("COMMIT")
        elapsed = time.perf_counter() - started
        (stored,) = db.execute("SELECT count(*) FROM trades").fetchone()
        assert stored == trades_count, stored
        return elapsed
    finally:
        db.close()


def postgres_database(server_url: str, name: str, *, create: bool) -> str:
    import psycopg
    from sqlalchemy import make_url

    url = make_url(server_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            db.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


async def postgresql_round(server_url: str, trades_count: int, page: int, side: str) -> float:
    """One side on a fresh database: ``repository`` (``add_new``) or ``sqlalchemy`` (the
    previous path: an ``INSERT … ON CONFLICT DO NOTHING … RETURNING id`` of row dicts)."""
    from sqlalchemy.dialects import postgresql

    from tradecore_adapters.sqlalchemy._rows import trade_row

    name = f"bench_trades_{os.getpid()}"
    url = postgres_database(server_url, name, create=True)
    repository = None
    try:
        await upgrade(url)
        repository = await SqlRepository.open(
            url, key_ring=KeyRing.from_keys([KeyRing.generate_key()])
        )
        user = make_user()
        connection = make_connection(user_id=user.id)
        async with repository.unit_of_work() as uow:
            await uow.users.add(user)
            await uow.connections.add(connection)
            await uow.commit()
        trades = make_trades(connection.id, trades_count)
        statement: Any = (
            postgresql.insert(trades_table)
            .on_conflict_do_nothing(
                index_elements=["connection_id", "account_id", "symbol", "broker_trade_id"]
            )
            .returning(trades_table.c.id)
        )
        added = 0
        started = time.perf_counter()
        for start in range(0, trades_count, page):
            chunk = trades[start : start + page]
            if side == "repository":
                async with repository.unit_of_work() as uow:
                    added += await uow.trades.add_new(user.id, chunk)
                    await uow.commit()
            else:
                async with repository._engine.begin() as db:
                    result = await db.execute(statement, [trade_row(user.id, t) for t in chunk])
                    added += len(result.all())
        elapsed = time.perf_counter() - started
        assert added == trades_count, added
        return elapsed
    finally:
        if repository is not None:
            await repository.aclose()
        postgres_database(server_url, name, create=False)


async def postgresql_main(args: argparse.Namespace) -> None:
    times: dict[str, list[float]] = {"repository": [], "sqlalchemy": []}
    for number in range(args.rounds):
        sides = list(times) if number % 2 == 0 else list(times)[::-1]
        for side in sides:
            times[side].append(
                await postgresql_round(args.postgresql, args.trades, args.page, side)
            )
    rates = {side: args.trades / statistics.median(values) for side, values in times.items()}
    print(f"trades per round:        {args.trades:,} in pages of {args.page:,} ", end="")
    print(f"({args.rounds} rounds, median shown), PostgreSQL")
    print(f"SqlRepository.add_new:   {rates['repository']:>10,.0f} trades/s")
    print(f"INSERT … RETURNING:      {rates['sqlalchemy']:>10,.0f} trades/s (the path before)")
    print(f"repository / before:     {rates['repository'] / rates['sqlalchemy']:>10.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgresql", metavar="URL", help="a PostgreSQL server instead")
    parser.add_argument("--page", type=int, default=4_000, help="trades per transaction (PG)")
    args = parser.parse_args()
    if args.postgresql:
        await postgresql_main(args)
        return
    repository_times, raw_times = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            repository_times.append(await repository_round(Path(tmp), args.trades))
        with tempfile.TemporaryDirectory() as tmp:
            raw_times.append(await raw_round(Path(tmp), args.trades))
    repository_rate = args.trades / statistics.median(repository_times)
    raw_rate = args.trades / statistics.median(raw_times)
    print(f"trades per round:        {args.trades:,} ({args.rounds} rounds, median shown)")
    print(f"SqlRepository.add_new:   {repository_rate:>10,.0f} trades/s")
    print(f"sqlite3 executemany:     {raw_rate:>10,.0f} trades/s")
    print(f"repository / raw:        {repository_rate / raw_rate:>10.2f} (target >= 0.50)")


if __name__ == "__main__":
    asyncio.run(main())
