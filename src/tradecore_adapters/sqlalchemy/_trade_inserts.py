"""The bulk insert of trades, through the database driver (many rows per call), each
trade stored once (``ON CONFLICT DO NOTHING`` on the natural key), and the number of rows that
were new.

SQLAlchemy's own path (an ``INSERT … RETURNING`` of dicts, each value through its column type's
bind processor) costs several times the insert itself, so trades go to the driver as plain
values, converted exactly as :class:`~._types.ExactDecimal` and :class:`~._types.UtcDateTime`
convert them:

* **SQLite**: one ``executemany`` of plain tuples (multi-row ``VALUES`` statements were tried:
  more CPU and memory in the sync benchmark, see benchmarks/README.md). The new rows are counted
  by ``total_changes()``: the ignored duplicates do not count.
* **PostgreSQL**: one ``INSERT … SELECT * FROM unnest(…)`` of one typed array per column, sent
  in psycopg's binary format (one round trip and one statement per call, whatever the number of
  rows); the new rows are the statement's row count.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
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


_TOTAL_CHANGES = text("SELECT total_changes()")
_SQLITE_INSERT = (
    f"INSERT INTO trades ({_COLUMNS}) VALUES ({', '.join('?' for _ in TRADE_COLUMNS)}) {_CONFLICT}"
)


async def insert_trades_sqlite(db: AsyncConnection, user_id: str, kept: Iterable[Trade]) -> int:
    """Insert ``kept`` in order (of duplicate keys the first is kept); the number of new rows."""
    values = [sqlite_trade_values(user_id, trade) for trade in kept]
    before = await db.scalar(_TOTAL_CHANGES)
    await db.exec_driver_sql(_SQLITE_INSERT, values)
    after = await db.scalar(_TOTAL_CHANGES)
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
    + ", ".join(f"%b::{_PG_TYPES.get(column, 'text')}[]" for column in TRADE_COLUMNS)
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
    # %b: psycopg sends the arrays in its binary format (numeric as digits, text as bytes),
    # without scanning every element to quote it as the text format does.
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
