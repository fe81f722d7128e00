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

import functools
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, BindParameter, Integer, bindparam, case, delete, select
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

# The statements that do not depend on the dialect, built once, their values bound ("b_…").
_BLOCK = select(_c.until, _c.reason).where(
    _c.key == bindparam("b_key"), _c.window_start == KEY_WINDOW
)
_BLOCKED = select(_c.until, _c.reason).where(
    _c.key == bindparam("b_key"), _c.window_start == KEY_WINDOW, _c.until > bindparam("b_now")
)
_PRUNE = delete(shared_limits).where(_c.until < bindparam("b_before"))


class _Upserts(NamedTuple):
    """The upserts of one dialect (see :func:`_upserts`)."""

    reserve: Any
    observe: Any
    block: Any
    take_slot: Any


@functools.cache
def _upserts(dialect: str, wide: bool) -> _Upserts:
    """The dialect's upserts, built once. A bound parameter stands where a value was given: one
    compared with or added to a column takes the column's type; one that stands alone (a value
    of a ``CASE``) is typed as ``literal(<int>)`` would type it: a :class:`BigInteger` when
    ``wide`` (the value needs 32 bits or more), else an :class:`Integer` (see :func:`_wide`)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    alone = BigInteger if wide else Integer
    conflict = [_c.key, _c.window_start]

    # reserve: b_key, b_window_start, b_used (= b_cost), b_until, b_ceiling (= b_limit, and
    # b_limit_value), b_cost.
    reserve = insert(shared_limits).values(
        key=bindparam("b_key"),
        window_start=bindparam("b_window_start"),
        used=bindparam("b_used"),
        until=bindparam("b_until"),
        ceiling=bindparam("b_ceiling"),
    )
    cost: BindParameter[int] = bindparam("b_cost")
    ceiling = case(
        (
            (_c.ceiling.is_(None)) | (_c.ceiling > bindparam("b_limit")),
            bindparam("b_limit_value", type_=alone),
        ),
        else_=_c.ceiling,
    )
    reserve_statement = reserve.on_conflict_do_update(
        index_elements=conflict,
        set_={"used": _c.used + cost, "ceiling": ceiling},
        where=_c.used + cost <= ceiling,
    ).returning(_c.used)

    # observe: b_key, b_window_start, b_used, b_until; b_observed (= b_observed_value).
    observe = insert(shared_limits).values(
        key=bindparam("b_key"),
        window_start=bindparam("b_window_start"),
        used=bindparam("b_used"),
        until=bindparam("b_until"),
    )
    observe_statement = observe.on_conflict_do_update(
        index_elements=conflict,
        set_={
            "used": case(
                (
                    _c.used < bindparam("b_observed"),
                    bindparam("b_observed_value", type_=alone),
                ),
                else_=_c.used,
            )
        },
    ).returning(_c.used)

    # block: b_key, b_until, b_reason; b_set_until (= b_until), b_set_reason (= b_reason).
    block = insert(shared_limits).values(
        key=bindparam("b_key"),
        window_start=KEY_WINDOW,
        used=0,
        until=bindparam("b_until"),
        reason=bindparam("b_reason"),
    )
    set_until: BindParameter[int] = bindparam("b_set_until")
    block_statement = block.on_conflict_do_update(
        index_elements=conflict,
        set_={"until": set_until, "reason": bindparam("b_set_reason")},
        where=_c.until < set_until,
    ).returning(_c.until, _c.reason)

    # take_slot: b_key, b_until; b_first (= b_first_value), b_step.
    slot = insert(shared_limits).values(
        key=bindparam("b_key"), window_start=KEY_WINDOW, used=0, until=bindparam("b_until")
    )
    next_slot = case(
        (_c.until > bindparam("b_first"), _c.until),
        else_=bindparam("b_first_value", type_=alone),
    ) + bindparam("b_step")
    slot_statement = slot.on_conflict_do_update(
        index_elements=conflict, set_={"until": next_slot}
    ).returning(_c.until)
    return _Upserts(reserve_statement, observe_statement, block_statement, slot_statement)


def _wide(value: int) -> bool:
    """Whether ``literal(value)`` is a ``BIGINT`` (else an ``INTEGER``)."""
    return value.bit_length() >= 32


class SqlSharedLimits:
    """Windows, blocks and slots in the ``shared_limits`` table, shared by every process on
    the database (see the module docstring).

    :param engine: the repository's engine.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        # Autocommit: each statement commits as the server runs it (see the module docstring).
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        dialect = "postgresql" if engine.dialect.name == "postgresql" else "sqlite"
        self._upserts = (_upserts(dialect, wide=False), _upserts(dialect, wide=True))
        self._pruned_at: int | None = None

    async def reserve(
        self, key: str, *, window_start: datetime, window: timedelta, cost: int, limit: int
    ) -> int | None:
        """See :meth:`tradecore.ports.SharedLimits.reserve`."""
        start = micros(window_start)
        parameters = {
            "b_key": key,
            "b_window_start": start,
            "b_used": cost,
            "b_until": start + span(window),
            "b_ceiling": limit,
            "b_cost": cost,
            "b_limit": limit,
            "b_limit_value": limit,
        }
        row = await self._one(self._upserts[_wide(limit)].reserve, parameters, prune_at=start)
        return None if row is None else int(row[0])

    async def observe(
        self, key: str, *, window_start: datetime, window: timedelta, used: int
    ) -> int:
        """See :meth:`tradecore.ports.SharedLimits.observe`."""
        start = micros(window_start)
        parameters = {
            "b_key": key,
            "b_window_start": start,
            "b_used": used,
            "b_until": start + span(window),
            "b_observed": used,
            "b_observed_value": used,
        }
        row = await self._one(self._upserts[_wide(used)].observe, parameters)
        return used if row is None else int(row[0])

    async def block(self, key: str, *, until: datetime, reason: str) -> Block:
        """See :meth:`tradecore.ports.SharedLimits.block`."""
        end = micros(until)
        parameters = {
            "b_key": key,
            "b_until": end,
            "b_reason": reason,
            "b_set_until": end,
            "b_set_reason": reason,
        }
        row = await self._one(self._upserts[False].block, parameters, prune_at=end)
        if row is not None:
            return Block(from_micros(int(row[0])), str(row[1]))
        # A longer block was in force: it stays, and is what binds.
        current = await self._one(_BLOCK, {"b_key": key})
        if current is None:  # pragma: no cover - pruned in between: the new block ended anyway
            return Block(until, reason)
        return Block(from_micros(int(current[0])), str(current[1] or reason))

    async def blocked(self, key: str, *, now: datetime) -> Block | None:
        """See :meth:`tradecore.ports.SharedLimits.blocked`."""
        row = await self._one(_BLOCKED, {"b_key": key, "b_now": micros(now)})
        if row is None:
            return None
        return Block(from_micros(int(row[0])), str(row[1] or "slot"))

    async def take_slot(self, key: str, *, earliest: datetime, interval: timedelta) -> datetime:
        """See :meth:`tradecore.ports.SharedLimits.take_slot`."""
        first, step = micros(earliest), span(interval)
        parameters = {
            "b_key": key,
            "b_until": first + step,
            "b_first": first,
            "b_first_value": first,
            "b_step": step,
        }
        row = await self._one(self._upserts[_wide(first)].take_slot, parameters, prune_at=first)
        if row is None:  # pragma: no cover - an upsert without WHERE always returns its row
            raise AssertionError("the slot upsert returned no row")
        return from_micros(int(row[0]) - step)

    async def prune(self, *, before: datetime) -> int:
        """Delete the rows whose window, block or last slot ended before ``before``; how many."""
        async with self._engine.connect() as db:
            try:
                result = await db.execute(_PRUNE, {"b_before": micros(before)})
            except DBAPIError as exc:
                raise database_error(exc) from None
        return int(result.rowcount or 0)

    async def _one(
        self, statement: Any, parameters: dict[str, Any], *, prune_at: int | None = None
    ) -> Any | None:
        async with self._engine.connect() as db:
            try:
                row = (await db.execute(statement, parameters)).first()
            except DBAPIError as exc:
                raise database_error(exc) from None
        if prune_at is not None and (
            self._pruned_at is None or prune_at - self._pruned_at > _PRUNE_EVERY
        ):
            self._pruned_at = prune_at
            await self.prune(before=from_micros(prune_at - span(PRUNE_AFTER)))
        return row
