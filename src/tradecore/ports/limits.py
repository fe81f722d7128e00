"""The shared-limits port: limits a broker or Telegram applies to more than one process.

Binance counts request weight per IP and bans an IP (HTTP 418) that goes on after 429s; Saxo
allows one order a second per session; Telegram allows 30 messages a second per bot and one a
second per chat. A deployment may run several processes against one such limit (``tradecore run``
from cron while a daemon runs, four daemons on four machines), so what one process learned (a ban
until 12:04, 5400 of 6000 weight used this minute) must bind the others: every adapter asks a
:class:`SharedLimits` before it sends, and tells it what the broker said.

The store is the deployment's database (one row per key and window, each change one atomic
statement) or, for one process alone, memory. Three kinds of key:

- **Windows** (:meth:`SharedLimits.reserve`, :meth:`SharedLimits.observe`): a count per fixed
  window (Binance's weight per minute, orders per 10 s). A reservation adds its cost only while
  the window stays within its limit (the smallest any process gave); the broker's own figure
  (``X-MBX-USED-WEIGHT-1M``) raises the count to at least what the broker counted.
- **Blocks** (:meth:`SharedLimits.block`, :meth:`SharedLimits.blocked`): nothing is sent to a
  host until a time (a ban, a ``Retry-After`` pause). A block is only ever extended.
- **Slots** (:meth:`SharedLimits.take_slot`): one action per interval (a Telegram chat, a Saxo
  session's orders), handed out in the order they are asked for, across processes.

Every time comes from the caller (its injected :class:`~tradecore.ports.Clock`), never from the
store, and is timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from attrs import frozen

__all__ = ["Block", "SharedLimits"]


@frozen
class Block:
    """A block in force: nothing may be sent for its key before ``until``.

    :param reason: why, in a word the adapter chose (``ban``, ``pause``…).
    """

    until: datetime
    reason: str


@runtime_checkable
class SharedLimits(Protocol):
    """Counters, blocks and slots shared by every process of a deployment.

    Keys are short strings an adapter builds (``binance:weight:api.binance.com``); they hold no
    secret. Each method is one atomic step: two processes calling at once never both get what
    only one may have.
    """

    async def reserve(
        self, key: str, *, window_start: datetime, window: timedelta, cost: int, limit: int
    ) -> int | None:
        """Add ``cost`` to the count of ``key``'s window starting at ``window_start`` when the
        count stays within the window's limit: the smallest ``limit`` any reservation of the
        window gave (so a process that learned a lower limit binds one that has not yet).

        The first reservation of a window always succeeds (a request heavier than the whole
        limit goes through at the start of a window).

        :returns: the window's count after adding, or ``None`` when refused (nothing added).
        """
        ...

    async def observe(
        self, key: str, *, window_start: datetime, window: timedelta, used: int
    ) -> int:
        """Raise the count of ``key``'s window to at least ``used`` (the broker's own figure).

        :returns: the window's count now.
        """
        ...

    async def block(self, key: str, *, until: datetime, reason: str) -> Block:
        """Send nothing for ``key`` before ``until``; a longer block in force is kept.

        :returns: the block in force now.
        """
        ...

    async def blocked(self, key: str, *, now: datetime) -> Block | None:
        """The block on ``key`` still in force at ``now``, if any."""
        ...

    async def take_slot(self, key: str, *, earliest: datetime, interval: timedelta) -> datetime:
        """Take the next slot of ``key``: the later of ``earliest`` and the end of the last slot
        (or block) handed out; the next one starts ``interval`` after it.

        :returns: when the caller may act.
        """
        ...
