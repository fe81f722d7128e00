"""Before and after each request to Binance: the shared limits of :mod:`._limits` applied.

Before a request: a ban of the host refuses it (nothing is sent until the ban ends, whichever
process was banned); a ``Retry-After`` pause makes it wait (or refuses it when the pause is longer
than :data:`MAX_THROTTLE_WAIT`); then its weight is reserved in the current minute (and, in the
last :data:`EDGE_MS` of a minute, in the next one too, where it may land), waiting for the next
minute when the minute's ceiling would be passed. Before an order: one order is reserved
per account in the 10-second and the day windows. After an answer: the broker's own counters raise
the shared ones; a 418 bans and a 429 pauses the host for everyone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import httpx

from tradecore.errors import OrderRejected, RateLimited
from tradecore.ports import Clock, SharedLimits
from tradecore_adapters.binance._errors import BROKER, IpBanned
from tradecore_adapters.binance._limits import (
    BAN,
    DAY_MS,
    DEFAULT_ORDERS_PER_10S,
    DEFAULT_ORDERS_PER_DAY,
    MINUTE_MS,
    ORDER_WINDOW_MS,
    PAUSE,
    BinanceHost,
    at_ms,
    host_key,
    orders_key,
    weight_key,
    window_start,
)

__all__ = ["MAX_THROTTLE_WAIT", "Throttle"]

MAX_THROTTLE_WAIT = 61.0
"""The longest single wait for a pause or the weight budget (the next minute, plus a margin)."""

_AFTER_RESET_MS = 250
"""Wait this long past a window's end: the two clocks agree only to a few milliseconds."""

EDGE_MS = 2_000
"""A request reserved this close to a minute's end may reach Binance in the next minute (the
network, a busy machine): its weight is reserved in the next minute too."""

_log = logging.getLogger("tradecore_adapters.binance")
_ORDER_COUNTS = (
    ("10s", ORDER_WINDOW_MS, DEFAULT_ORDERS_PER_10S, "x-mbx-order-count-10s"),
    ("1d", DAY_MS, DEFAULT_ORDERS_PER_DAY, "x-mbx-order-count-1d"),
)


class Throttle:
    """The shared limits as one connection's client applies them.

    :param server_ms: Binance's time now at a base URL (epoch ms, our clock plus the offset).
    :param account: the account's tag (:func:`~._limits.account_tag`).
    :param on_wait: told every wait, in seconds (the client's figures).
    """

    def __init__(
        self,
        *,
        limits: SharedLimits,
        clock: Clock,
        server_ms: Callable[[str], int],
        account: str,
        on_wait: Callable[[float], None],
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._server_ms = server_ms
        self._account = account
        self._on_wait = on_wait

    async def before(self, host: BinanceHost, weight: int, what: str) -> None:
        """Wait until a request of ``weight`` may go to ``host``.

        :raises IpBanned: the host is banned (by an answer to any process).
        :raises RateLimited: the host is paused for longer than :data:`MAX_THROTTLE_WAIT`.
        """
        base = host.base_url
        while True:
            await self._unblocked(base, what)
            now_ms = self._server_ms(base)
            start = window_start(now_ms, MINUTE_MS)
            if await self._reserve_weight(base, start, weight, host.ceiling) and (
                start + MINUTE_MS - now_ms > EDGE_MS
                or await self._reserve_weight(base, start + MINUTE_MS, weight, host.ceiling)
            ):
                return
            wait = (start + MINUTE_MS - now_ms + _AFTER_RESET_MS) / 1000
            _log.info("binance: waiting %.1f s for the request-weight budget", wait)
            await self._sleep(min(wait, MAX_THROTTLE_WAIT))

    async def _reserve_weight(self, base: str, start: int, weight: int, ceiling: int) -> bool:
        used = await self._limits.reserve(
            weight_key(base),
            window_start=at_ms(start),
            window=timedelta(milliseconds=MINUTE_MS),
            cost=weight,
            limit=ceiling,
        )
        return used is not None

    async def before_order(self, base: str) -> None:
        """Reserve one order of the account in its 10-second and day windows, waiting for the
        next 10 seconds when they are used up.

        :raises OrderRejected: the day's orders are used up (the order was not sent).
        """
        for interval, length, limit, _ in _ORDER_COUNTS:
            while True:
                now_ms = self._server_ms(base)
                start = window_start(now_ms, length)
                used = await self._limits.reserve(
                    orders_key(self._account, interval),
                    window_start=at_ms(start),
                    window=timedelta(milliseconds=length),
                    cost=1,
                    limit=limit,
                )
                if used is not None:
                    break
                wait = (start + length - now_ms + _AFTER_RESET_MS) / 1000
                if wait > MAX_THROTTLE_WAIT:
                    raise OrderRejected(
                        f"the account's {limit} orders per day at Binance are used up; the order "
                        f"was not sent (the count starts again at {at_ms(start + length):%H:%M} "
                        "UTC)",
                        broker=BROKER,
                    )
                _log.info("binance: waiting %.1f s for the account's order count", wait)
                await self._sleep(wait)

    async def after(self, base: str, used_weight: int | None, headers: Mapping[str, str]) -> None:
        """Raise the shared counters to what Binance said it counted."""
        now_ms = self._server_ms(base)
        if used_weight is not None:
            start = window_start(now_ms, MINUTE_MS)
            await self._limits.observe(
                weight_key(base),
                window_start=at_ms(start),
                window=timedelta(milliseconds=MINUTE_MS),
                used=used_weight,
            )
        for interval, length, _, header in _ORDER_COUNTS:
            count = _int(headers.get(header))
            if count is not None:
                await self._limits.observe(
                    orders_key(self._account, interval),
                    window_start=at_ms(window_start(now_ms, length)),
                    window=timedelta(milliseconds=length),
                    used=count,
                )

    async def banned(self, base: str, seconds: float) -> None:
        """Binance banned the IP (418): nothing goes to ``base``'s host for ``seconds``."""
        until = self._clock.now() + timedelta(seconds=seconds)
        await self._limits.block(host_key(base), until=until, reason=BAN)

    async def paused(self, base: str, seconds: float) -> None:
        """Binance answered 429: nothing goes to ``base``'s host for ``seconds``."""
        until = self._clock.now() + timedelta(seconds=seconds)
        await self._limits.block(host_key(base), until=until, reason=PAUSE)

    async def _unblocked(self, base: str, what: str) -> None:
        while True:
            now = self._clock.now()
            block = await self._limits.blocked(host_key(base), now=now)
            if block is None:
                return
            seconds = (block.until - now).total_seconds()
            if block.reason == BAN:
                raise IpBanned(
                    f"Binance has banned this IP until {_utc(block.until)} UTC; nothing is sent "
                    f"to {_host(base)} until then ({what} not sent)",
                    broker=BROKER,
                    code="HTTP 418",
                    retry_after=seconds,
                )
            if seconds > MAX_THROTTLE_WAIT:
                raise RateLimited(
                    f"Binance asked to pause until {_utc(block.until)} UTC (HTTP 429); nothing is "
                    f"sent to {_host(base)} until then ({what} not sent)",
                    broker=BROKER,
                    code="HTTP 429",
                    retry_after=seconds,
                )
            _log.info("binance: waiting %.1f s: Binance asked to pause (HTTP 429)", seconds)
            await self._sleep(seconds)

    async def _sleep(self, seconds: float) -> None:
        self._on_wait(seconds)
        await self._clock.sleep(seconds)


def _utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def _host(base: str) -> str:
    return httpx.URL(base).host


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
