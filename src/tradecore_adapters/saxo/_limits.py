"""Saxo's rate limits as one adapter sees them: per service group, per session.

Saxo allows 120 requests a minute per session and service group (``port``, ``trade``, ``ref``,
``cs``…) and one order a second per session, and says how much is left in ``X-RateLimit-<dimension>
-Remaining`` / ``-Reset`` headers, which may be missing
(https://www.developer.saxo/openapi/learn/rate-limiting). So the headers are an input, never a
requirement: when a dimension says nothing is left, the next request of that group waits for its
reset; a 429 pauses the group until the reset it names (or 60 s, 1 s for orders, when it names
none); orders are spaced at least a second apart whatever the headers say.

A session's orders and its 429 pauses bind every process using the session (a connection's
tokens), so they are kept in :class:`~tradecore.ports.SharedLimits` (:class:`SessionLimits`):
``saxo:orders:<connection id>`` hands out one order slot a second, ``saxo:pause:<connection id>:
<group>`` holds a group's pause. The remaining counts of the headers stay in each process
(:class:`RateLimiter`): they are Saxo's own figures for the whole session already.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from attrs import define, field

from tradecore.ports import SharedLimits

__all__ = ["MAX_RATE_WAIT", "ORDER_SPACING", "RateLimiter", "SessionLimits", "service_group"]

ORDER_SPACING = timedelta(seconds=1)
"""At most one order per second per session (Saxo's rate limits)."""

MAX_RATE_WAIT = 65.0
"""The longest wait for a reset: Saxo's windows are a minute long."""

_FALLBACK_RESET = {"orders": 1.0}
_DEFAULT_RESET = 60.0
_PREFIX = "x-ratelimit-"


def service_group(path: str) -> str:
    """The service group of a gateway path: ``/port/v1/accounts/me`` → ``port``."""
    return path.lstrip("/").split("/", 1)[0] or "root"


@define
class _Window:
    remaining: int | None = None
    limit: int | None = None
    resets_at: datetime | None = None
    paused_until: datetime | None = None


@define
class RateLimiter:
    """What Saxo said about its limits, per service group, and the order spacing."""

    windows: dict[str, _Window] = field(factory=dict)
    last_order_at: datetime | None = None

    def wait_before(self, group: str, now: datetime, *, order: bool = False) -> float:
        """Seconds to wait before the next request of ``group`` (an order when ``order``)."""
        window = self.windows.get(group)
        waits = [0.0]
        if window is not None:
            if window.paused_until is not None:
                waits.append((window.paused_until - now).total_seconds())
            if window.remaining == 0 and window.resets_at is not None:
                waits.append((window.resets_at - now).total_seconds())
        if order and self.last_order_at is not None:
            waits.append((self.last_order_at + ORDER_SPACING - now).total_seconds())
        return max(waits)

    def note_order(self, now: datetime) -> None:
        """An order request is about to leave."""
        self.last_order_at = now

    def observe(self, group: str, headers: Mapping[str, str], now: datetime) -> None:
        """Read the ``X-RateLimit-Session-*`` headers of a response of ``group``."""
        window = self.windows.setdefault(group, _Window())
        remaining = _int(headers.get(f"{_PREFIX}session-remaining"))
        reset = _float(headers.get(f"{_PREFIX}session-reset"))
        limit = _int(headers.get(f"{_PREFIX}session-limit"))
        if remaining is not None:
            window.remaining = remaining
            window.resets_at = None if reset is None else now + timedelta(seconds=reset)
        if limit is not None:
            window.limit = limit

    def throttled(
        self, group: str, headers: Mapping[str, str], now: datetime, *, order: bool = False
    ) -> float:
        """A 429 for ``group``: pause it until the reset Saxo named, and return the seconds."""
        seconds = _exhausted_reset(headers)
        if seconds is None:
            seconds = _FALLBACK_RESET["orders"] if order else _DEFAULT_RESET
        seconds = min(max(seconds, 0.5), MAX_RATE_WAIT)
        window = self.windows.setdefault(group, _Window())
        window.paused_until = now + timedelta(seconds=seconds)
        return seconds

    def remaining_text(self) -> str | None:
        """``port 75/120, trade 118/120``: what was left in each group at its last answer."""
        parts = [
            f"{group} {window.remaining}/{window.limit}"
            if window.limit
            else f"{group} {window.remaining}"
            for group, window in sorted(self.windows.items())
            if window.remaining is not None
        ]
        return ", ".join(parts) or None


class SessionLimits:
    """One Saxo session's order slots and 429 pauses, shared by every process using it.

    :param session: the connection's id (a session is a connection's login).
    """

    def __init__(self, limits: SharedLimits, session: str) -> None:
        self._limits = limits
        self._orders = f"saxo:orders:{session}"
        self._pause = f"saxo:pause:{session}:"

    async def wait_before(self, group: str, now: datetime, *, order: bool = False) -> float:
        """Seconds to wait before the next request of ``group``: a pause in force, and for an
        order its slot (taken now: one order a second per session, all processes together)."""
        wait = 0.0
        block = await self._limits.blocked(self._pause + group, now=now)
        if block is not None:
            wait = (block.until - now).total_seconds()
        if order:
            earliest = now + timedelta(seconds=wait)
            slot = await self._limits.take_slot(
                self._orders, earliest=earliest, interval=ORDER_SPACING
            )
            wait = (slot - now).total_seconds()
        return wait

    async def throttled(self, group: str, seconds: float, now: datetime, *, order: bool) -> None:
        """A 429: nothing more of ``group`` (orders, when ``order``) for ``seconds``."""
        key = self._orders if order else self._pause + group
        await self._limits.block(key, until=now + timedelta(seconds=seconds), reason="pause")


def _exhausted_reset(headers: Mapping[str, str]) -> float | None:
    # The longest reset among the dimensions that have nothing left (Saxo: wait for the reset).
    resets: list[float] = []
    for name, value in headers.items():
        lower = name.lower()
        if lower.startswith(_PREFIX) and lower.endswith("-remaining") and _int(value) == 0:
            reset = _float(headers.get(lower[: -len("-remaining")] + "-reset"))
            if reset is not None:
                resets.append(reset)
    return max(resets) if resets else None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86400 * 2 else None
