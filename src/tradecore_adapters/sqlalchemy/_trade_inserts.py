"""The bulk insert of trades, through the database driver: one statement for many rows, each
trade stored once (``ON CONFLICT DO NOTHING`` on the natural key), and the number of rows that
were new.

SQLAlchemy's own path (an ``INSERT … RETURNING`` of dicts, each value through its column type's
bind processor) costs several times the insert itself, so trades go to the driver as plain
values, converted exactly as :class:`~._types.ExactDecimal` and :class:`~._types.UtcDateTime`
convert them:

* **SQLite**: multi-row ``INSERT … VALUES (…), (…), …``, as many rows per statement as SQLite's
  limit on bound variables allows. Not ``executemany``: that runs one statement per row, and the
  ``sqlite3`` module takes the GIL back between rows, so while the event loop's thread is busy
  (decoding the next pages) every row waits for the GIL: 5-8 times slower than one statement per
  a thousand rows in benchmarks/README.md. The new rows are counted by ``total_changes()``.
* **PostgreSQL**: one ``INSERT … SELECT * FROM unnest(…)`` of one typed array per column (one
  round trip and one statement per call, whatever the number of rows); the new rows are the
  statement's row count.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from functools import cache
from itertools import chain, islice
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradecore.domain import Trade
from tradecore_adapters.sqlalchemy._rows import TRADE_COLUMNS

__all__ = ["TRADE_KEY", "insert_trades_postgresql", "insert_trades_sqlite", "sqlite_trade_values"]

TRADE_KEY = ("connection_id", "account_id", "symbol", "broker_trade_id")
"""The natural key of a trade: inserting it again changes nothing."""

_COLUMNS = ", ".join(TRADE_COLUMNS)
_CONFLICT = f"ON CONFLICT ({', '.join(TRADE_KEY)}) DO NOTHING"
_ROW_PLACEHOLDERS = f"({', '.join('?' for _ in TRADE_COLUMNS)})"


@cache
def sqlite_rows_per_statement() -> int:
    """How many trades one SQLite ``INSERT`` binds: 2,000, or fewer when the library's limit on
    bound variables is lower (by default 32,766 since SQLite 3.32, 999 before)."""
    with sqlite3.connect(":memory:") as probe:
        variables = probe.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, min(2_000, variables // len(TRADE_COLUMNS)))


@cache
def _sqlite_insert(rows: int) -> str:
    values = ", ".join([_ROW_PLACEHOLDERS] * rows)
    return f"INSERT INTO trades ({_COLUMNS}) VALUES {values} {_CONFLICT}"


async def insert_trades_sqlite(db: AsyncConnection, user_id: str, kept: Iterable[Trade]) -> int:
    """Insert ``kept`` in order (of duplicate keys the first is kept); the number of new rows."""
    per_statement = sqlite_rows_per_statement()
    rows = (sqlite_trade_values(user_id, trade) for trade in kept)
    before = await db.scalar(text("SELECT total_changes()"))
    while chunk := list(islice(rows, per_statement)):
        await db.exec_driver_sql(_sqlite_insert(len(chunk)), tuple(chain.from_iterable(chunk)))
    after = await db.scalar(text("SELECT total_changes()"))
    return int(after) - int(before)


def sqlite_trade_values(user_id: str, trade: Trade) -> tuple[Any, ...]:
    """A trade as the tuple SQLite stores, in :data:`TRADE_COLUMNS` order: the values of
    :func:`~._rows.trade_row`, converted as :class:`ExactDecimal` and :class:`UtcDateTime` do.

    A :class:`Trade`'s amounts are finite Decimals and its time is aware UTC (its validators, or
    the decoder behind :func:`~tradecore.domain.trade.unchecked_trade`, made sure), so they are
    written as they are: ``str`` of the Decimal, and the time's ISO text without its offset."""
    instrument = trade.instrument
    return (
        user_id,
        trade.connection_id,
        trade.account_id,
        instrument.symbol,
        instrument.asset_type.value,
        instrument.broker_key,
        instrument.base,
        instrument.quote,
        trade.broker_trade_id,
        trade.broker_order_id,
        trade.client_order_id,
        trade.side.value,
        str(trade.quantity),
        str(trade.price),
        str(trade.fee),
        trade.fee_asset,
        trade.executed_at.isoformat(" ", "microseconds")[:26],  # without "+00:00"
    )


_PG_TYPES = {
    "quantity": "numeric",
    "price": "numeric",
    "fee": "numeric",
    "executed_at": "timestamptz",
}
_POSTGRESQL_INSERT = (
    f"INSERT INTO trades ({_COLUMNS}) SELECT * FROM unnest("
    + ", ".join(f"%s::{_PG_TYPES.get(column, 'text')}[]" for column in TRADE_COLUMNS)
    + f") {_CONFLICT}"
)


async def insert_trades_postgresql(
    db: AsyncConnection, user_id: str, kept: Collection[Trade]
) -> int:
    """Insert ``kept`` (no two with the same key) as one statement; the number of new rows.

    The amounts go as ``numeric`` (every digit and the scale kept, as :class:`ExactDecimal`),
    the times as ``timestamptz`` (aware UTC, as :class:`UtcDateTime`)."""
    if not kept:
        return 0
    rows = (_postgresql_trade_values(user_id, trade) for trade in kept)
    columns = tuple(list(column) for column in zip(*rows, strict=True))
    result = await db.exec_driver_sql(_POSTGRESQL_INSERT, columns)
    return int(result.rowcount)


def _postgresql_trade_values(user_id: str, trade: Trade) -> tuple[Any, ...]:
    # The values of trade_row, in TRADE_COLUMNS order: Decimals and the aware time as they are.
    instrument = trade.instrument
    return (
        user_id,
        trade.connection_id,
        trade.account_id,
        instrument.symbol,
        instrument.asset_type.value,
        instrument.broker_key,
        instrument.base,
        instrument.quote,
        trade.broker_trade_id,
        trade.broker_order_id,
        trade.client_order_id,
        trade.side.value,
        trade.quantity,
        trade.price,
        trade.fee,
        trade.fee_asset,
        trade.executed_at,
    )
