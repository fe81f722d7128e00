"""A cache a broker type keeps across cycles, within one process.

Every cycle builds a new adapter for each connection and closes it at the end, so whatever an
adapter loads lives one cycle. Some loads are the same for every connection of a broker and
change rarely: a venue's market list (Binance's ``exchangeInfo``, what an SDK's
``load_markets()`` fetches), its instrument catalogue. :attr:`BrokerContext.cache` hands each
adapter its broker type's :class:`BrokerCache`, owned by the process (the application), shared
by every connection and cycle of that broker, and cleared when the application closes.

It is bounded so a daemon's memory stays flat however many users it serves: at most
``max_entries`` keys per broker type (the least recently used goes first), each kept at most
``max_age``. Key it by what the value depends on, a venue or host
(``"markets:https://api.binance.com"``), never by a connection or a user: per-connection state
belongs in the adapter, or in the database (``BrokerContext.venue``, ``tokens``). Never put a
secret, or anything read with one, in it: it is shared by every user of the broker.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar, cast

from tradecore.ports.clock import Clock

__all__ = ["BrokerCache", "BrokerCaches"]

V = TypeVar("V")

DEFAULT_MAX_ENTRIES = 16
DEFAULT_MAX_AGE = timedelta(hours=1)


class BrokerCache:
    """Values a broker type loads once and shares across its adapters, bounded in size and age.

    :param clock: what ages entries (the application's clock; tests pass a ``FakeClock``).
    :param max_entries: keys kept at most; adding one more drops the least recently used.
    :param max_age: how long a value is kept before :meth:`get_or_load` loads it again.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_age: timedelta = DEFAULT_MAX_AGE,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        if max_age <= timedelta(0):
            raise ValueError(f"max_age must be positive, got {max_age}")
        self._clock = clock
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: OrderedDict[str, tuple[datetime, object]] = OrderedDict()
        self._loading: dict[str, asyncio.Future[object]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:  # keys may name hosts; values are never shown
        return f"BrokerCache({len(self._entries)}/{self.max_entries} entries)"

    async def get_or_load(
        self, key: str, load: Callable[[], Awaitable[V]], *, max_age: timedelta | None = None
    ) -> V:
        """The value kept under ``key``, or what ``await load()`` returns, kept from now on.

        Adapters asking for the same key at the same time share one load. A load that raises
        keeps nothing and raises to every adapter waiting for it.

        :param max_age: this value's own age limit, at most the cache's ``max_age``.
        """
        limit = self.max_age if max_age is None else min(max_age, self.max_age)
        now = self._clock.now()
        entry = self._entries.get(key)
        if entry is not None:
            stored_at, value = entry
            if now - stored_at < limit:
                self._entries.move_to_end(key)
                return cast(V, value)
            del self._entries[key]
        pending = self._loading.get(key)
        if pending is not None:
            return cast(V, await asyncio.shield(pending))
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            del self._loading[key]
        future.set_result(value)
        self._put(key, value)
        return value

    def invalidate(self, key: str) -> None:
        """Forget ``key`` (e.g. the venue said an instrument it lists is unknown)."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()

    def _put(self, key: str, value: object) -> None:
        self._entries[key] = (self._clock.now(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


class BrokerCaches:
    """One :class:`BrokerCache` per broker type, for one process: what the application owns
    and hands to :func:`~tradecore.services.create_broker`."""

    def __init__(
        self,
        *,
        clock: Clock,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_age: timedelta = DEFAULT_MAX_AGE,
    ) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._max_age = max_age
        self._caches: dict[str, BrokerCache] = {}

    def __repr__(self) -> str:
        return f"BrokerCaches({sorted(self._caches)})"

    def for_broker(self, broker: str) -> BrokerCache:
        """The cache of broker type ``broker`` (a registered factory's name)."""
        cache = self._caches.get(broker)
        if cache is None:
            cache = BrokerCache(
                clock=self._clock, max_entries=self._max_entries, max_age=self._max_age
            )
            self._caches[broker] = cache
        return cache

    def clear(self) -> None:
        """Empty every broker type's cache (the application is closing)."""
        for cache in self._caches.values():
            cache.clear()
