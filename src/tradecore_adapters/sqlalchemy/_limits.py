"""The shared limits in the database: :class:`SqlSharedLimits`, the SQL
:class:`~tradecore.ports.SharedLimits`.

One row of ``shared_limits`` per key and window. Each change is ONE statement, atomic on both
backends without a transaction of its own (SQLite >= 3.35 and PostgreSQL):
``INSERT … ON CONFLICT (key, window_start) DO UPDATE SET … [WHERE …] RETURNING …``. A reservation
adds its cost only ``WHERE used + cost <= ceiling`` (the smallest limit given to the window): when two processes race for the last weight of
a minute, the database lets exactly one through (the other's statement returns no row). Times are
integer microseconds since the epoch (see :mod:`tradecore_adapters.shared_limits`), so the
arithmetic is the same in both dialects.

These statements run outside any unit of work, on their own pooled connection in autocommit mode:
a row is locked only while the server runs the statement, so a process stopped or cut off between
two statements (SIGSTOP, a frozen VM) never leaves a limit's row locked for the others. On SQLite
each is a write that waits for the write lock like any other (up to the busy timeout).
Rows whose window or block ended more than :data:`~tradecore_adapters.shared_limits.PRUNE_AFTER`
ago are deleted now and then (at most every ten minutes per process).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tradecore.ports import Block
from tradecore_adapters.shared_limits import (
    KEY_WINDOW,
    PRUNE_AFTER,
    from_micros,
    micros,
    span,
)
from tradecore_adapters.sqlalchemy._unit import database_error
from tradecore_adapters.sqlalchemy.schema import shared_limits

__all__ = ["SqlSharedLimits"]

_PRUNE_EVERY = span(timedelta(minutes=10))
_c = shared_limits.c


class SqlSharedLimits:
    """Windows, blocks and slots in the ``shared_limits`` table, shared by every process on
    the database (see the module docstring).

    :param engine: the repository's engine.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        # Autocommit: each statement commits as the server runs it (see the module docstring).
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._pruned_at: int | None = None

    async def reserve(
        self, key: str, *, window_start: datetime, window: timedelta, cost: int, limit: int
    ) -> int | None:
        """See :meth:`tradecore.ports.SharedLimits.reserve`."""
        start = micros(window_start)
        insert = self._insert(shared_limits).values(
            key=key, window_start=start, used=cost, until=start + span(window), ceiling=limit
        )
        ceiling = case(
            ((_c.ceiling.is_(None)) | (_c.ceiling > limit), literal(limit)), else_=_c.ceiling
        )
        statement = insert.on_conflict_do_update(
            index_elements=[_c.key, _c.window_start],
            set_={"used": _c.used + cost, "ceiling": ceiling},
            where=_c.used + cost <= ceiling,
        ).returning(_c.used)
        row = await self._one(statement, prune_at=start)
        return None if row is None else int(row[0])

    async def observe(
        self, key: str, *, window_start: datetime, window: timedelta, used: int
    ) -> int:
        """See :meth:`tradecore.ports.SharedLimits.observe`."""
        start = micros(window_start)
        insert = self._insert(shared_limits).values(
            key=key, window_start=start, used=used, until=start + span(window)
        )
        statement = insert.on_conflict_do_update(
            index_elements=[_c.key, _c.window_start],
            set_={"used": case((_c.used < used, literal(used)), else_=_c.used)},
        ).returning(_c.used)
        row = await self._one(statement)
        return used if row is None else int(row[0])

    async def block(self, key: str, *, until: datetime, reason: str) -> Block:
        """See :meth:`tradecore.ports.SharedLimits.block`."""
        end = micros(until)
        insert = self._insert(shared_limits).values(
            key=key, window_start=KEY_WINDOW, used=0, until=end, reason=reason
        )
        statement = insert.on_conflict_do_update(
            index_elements=[_c.key, _c.window_start],
            set_={"until": end, "reason": reason},
            where=_c.until < end,
        ).returning(_c.until, _c.reason)
        row = await self._one(statement, prune_at=end)
        if row is not None:
            return Block(from_micros(int(row[0])), str(row[1]))
        # A longer block was in force: it stays, and is what binds.
        current = await self._one(
            select(_c.until, _c.reason).where(_c.key == key, _c.window_start == KEY_WINDOW)
        )
        if current is None:  # pragma: no cover - pruned in between: the new block ended anyway
            return Block(until, reason)
        return Block(from_micros(int(current[0])), str(current[1] or reason))

    async def blocked(self, key: str, *, now: datetime) -> Block | None:
        """See :meth:`tradecore.ports.SharedLimits.blocked`."""
        row = await self._one(
            select(_c.until, _c.reason).where(
                _c.key == key, _c.window_start == KEY_WINDOW, _c.until > micros(now)
            ),
        )
        if row is None:
            return None
        return Block(from_micros(int(row[0])), str(row[1] or "slot"))

    async def take_slot(self, key: str, *, earliest: datetime, interval: timedelta) -> datetime:
        """See :meth:`tradecore.ports.SharedLimits.take_slot`."""
        first, step = micros(earliest), span(interval)
        insert = self._insert(shared_limits).values(
            key=key, window_start=KEY_WINDOW, used=0, until=first + step
        )
        statement = insert.on_conflict_do_update(
            index_elements=[_c.key, _c.window_start],
            set_={"until": case((_c.until > first, _c.until), else_=literal(first)) + step},
        ).returning(_c.until)
        row = await self._one(statement, prune_at=first)
        if row is None:  # pragma: no cover - an upsert without WHERE always returns its row
            raise AssertionError("the slot upsert returned no row")
        return from_micros(int(row[0]) - step)

    async def prune(self, *, before: datetime) -> int:
        """Delete the rows whose window, block or last slot ended before ``before``; how many."""
        async with self._engine.connect() as db:
            try:
                result = await db.execute(delete(shared_limits).where(_c.until < micros(before)))
            except DBAPIError as exc:
                raise database_error(exc) from None
        return int(result.rowcount or 0)

    async def _one(self, statement: Any, *, prune_at: int | None = None) -> Any | None:
        async with self._engine.connect() as db:
            try:
                row = (await db.execute(statement)).first()
            except DBAPIError as exc:
                raise database_error(exc) from None
        if prune_at is not None and (
            self._pruned_at is None or prune_at - self._pruned_at > _PRUNE_EVERY
        ):
            self._pruned_at = prune_at
            await self.prune(before=from_micros(prune_at - span(PRUNE_AFTER)))
        return row
