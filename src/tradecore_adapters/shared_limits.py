"""The shared limits of one process: :class:`LocalLimits`, the in-memory
:class:`~tradecore.ports.SharedLimits`.

It is what the memory repository offers (tests, the paper demo) and what an adapter falls back on
when it is built without shared limits (a plugin's own tests): every adapter of the process then
still shares one state, but other processes know nothing of it. The SQL repository's
:class:`~tradecore_adapters.sqlalchemy.SqlSharedLimits` shares the same rules through the
database. Both store times as integer microseconds since the epoch, so they count alike.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from attrs import define

from tradecore.ports import Block

__all__ = ["KEY_WINDOW", "PRUNE_AFTER", "LocalLimits", "from_micros", "micros", "span"]

KEY_WINDOW = 0
"""The window of a key's block and slot row (a window row starts after the epoch)."""

PRUNE_AFTER = timedelta(hours=1)
"""Rows whose window or block ended this long ago are forgotten."""


def micros(moment: datetime) -> int:
    """``moment`` (aware) as integer microseconds since the epoch."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    """Integer microseconds since the epoch as an aware UTC datetime."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)


def span(duration: timedelta) -> int:
    """``duration`` in integer microseconds."""
    return (duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds


@define
class _Row:
    used: int
    until: int
    reason: str | None = None
    ceiling: int | None = None


class LocalLimits:
    """Windows, blocks and slots kept in this process (thread-safe; shared by event loops)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, int], _Row] = {}

    async def reserve(
        self, key: str, *, window_start: datetime, window: timedelta, cost: int, limit: int
    ) -> int | None:
        """See :meth:`tradecore.ports.SharedLimits.reserve`."""
        start = micros(window_start)
        with self._lock:
            row = self._rows.get((key, start))
            if row is None:
                self._rows[(key, start)] = _Row(cost, start + span(window), ceiling=limit)
                return cost
            ceiling = limit if row.ceiling is None else min(row.ceiling, limit)
            if row.used + cost > ceiling:
                return None
            row.used += cost
            row.ceiling = ceiling
            return row.used

    async def observe(
        self, key: str, *, window_start: datetime, window: timedelta, used: int
    ) -> int:
        """See :meth:`tradecore.ports.SharedLimits.observe`."""
        start = micros(window_start)
        with self._lock:
            row = self._rows.setdefault((key, start), _Row(0, start + span(window)))
            row.used = max(row.used, used)
            return row.used

    async def block(self, key: str, *, until: datetime, reason: str) -> Block:
        """See :meth:`tradecore.ports.SharedLimits.block`."""
        end = micros(until)
        with self._lock:
            row = self._rows.get((key, KEY_WINDOW))
            if row is None:
                row = self._rows[(key, KEY_WINDOW)] = _Row(0, end, reason)
            elif row.until < end:
                row.until, row.reason = end, reason
            return Block(from_micros(row.until), row.reason or reason)

    async def blocked(self, key: str, *, now: datetime) -> Block | None:
        """See :meth:`tradecore.ports.SharedLimits.blocked`."""
        at = micros(now)
        with self._lock:
            self._prune(at)
            row = self._rows.get((key, KEY_WINDOW))
            if row is None or row.until <= at:
                return None
            return Block(from_micros(row.until), row.reason or "slot")

    async def take_slot(self, key: str, *, earliest: datetime, interval: timedelta) -> datetime:
        """See :meth:`tradecore.ports.SharedLimits.take_slot`."""
        first = micros(earliest)
        with self._lock:
            row = self._rows.setdefault((key, KEY_WINDOW), _Row(0, first))
            slot = max(row.until, first)
            row.until = slot + span(interval)
            return from_micros(slot)

    def _prune(self, now: int) -> None:
        horizon = now - span(PRUNE_AFTER)
        for row_key in [k for k, row in self._rows.items() if row.until < horizon]:
            del self._rows[row_key]
