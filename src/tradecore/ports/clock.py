"""The :class:`Clock` port: the only way the core learns the time or waits."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock"]


@runtime_checkable
class Clock(Protocol):
    """Tells the time in UTC and sleeps. Tests use :class:`tradecore.testing.FakeClock`."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (real or simulated)."""
        ...
