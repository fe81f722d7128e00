"""A controllable :class:`~tradecore.ports.Clock` for tests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tradecore.domain._checks import utc

__all__ = ["FakeClock"]

DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to.

    ``sleep`` advances the time by the requested amount and yields to the event loop once, so code
    that waits for the scheduler runs instantly and deterministically.

    :param start: the initial time (aware; converted to UTC).
    """

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = utc(start)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """Return the current simulated time."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the time forward by ``delta`` and return the new time."""
        if delta < timedelta(0):
            raise ValueError("a clock cannot go backwards")
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (never backwards)."""
        target = utc(when)
        if target < self._now:
            raise ValueError("a clock cannot go backwards")
        self._now = target

    async def sleep(self, seconds: float) -> None:
        """Record the sleep, advance the time by ``seconds`` and yield once."""
        self.sleeps.append(seconds)
        self.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)
