"""Benchmark: write 100,000 trades into SQLite through the SQL repository, beside a plain
``sqlite3`` ``executemany`` of the same rows, in the same run.

    python benchmarks/trade_writes.py [--trades 100000] [--rounds 3]

Both sides write into a fresh database migrated to the same schema (same natural-key index and
other indexes, WAL, synchronous=NORMAL), in one transaction, with the same
``INSERT ... ON CONFLICT DO NOTHING``. The repository side starts from domain ``Trade`` objects
(the conversion to rows is part of its work); the raw side gets the rows already as tuples, so it
measures the database alone. Target: the repository reaches at least half the raw rate.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tradecore.domain import Side, Trade
from tradecore.testing.builders import make_connection, make_instrument, make_user
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy._rows import TRADE_COLUMNS
from tradecore_adapters.sqlalchemy._trade_inserts import sqlite_trade_values
from tradecore_adapters.sqlalchemy.migrate import upgrade

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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
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
