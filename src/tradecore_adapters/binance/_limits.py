"""What one process knows about one Binance host: the request weight spent this minute, a ban
in force, and the cached ``exchangeInfo``.

Binance counts request weight **per IP**, per calendar minute (``X-MBX-USED-WEIGHT-1M``), and
bans an IP that goes on after 429s (HTTP 418, from 2 minutes to 3 days; "LIMITS" in Binance's
REST API documentation, https://developers.binance.com/docs/binance-spot-api-docs/).
Every connection of the process shares one :class:`BinanceHost` per base URL, so fifty
connections syncing at once slow down together *before* the limit instead of after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import define, field

from tradecore_adapters.binance._mapping import SymbolRules

__all__ = [
    "DEFAULT_WEIGHT_LIMIT",
    "EXCHANGE_INFO_TTL",
    "BinanceHost",
    "BinanceHosts",
    "WeightBudget",
]

DEFAULT_WEIGHT_LIMIT = 6000
"""Spot's REQUEST_WEIGHT per minute since 2023-08-25, until ``exchangeInfo`` says otherwise."""

EXCHANGE_INFO_TTL = timedelta(minutes=15)
"""How long a fetched ``exchangeInfo`` (weight 20, megabytes in production) is reused."""

_MINUTE_MS = 60_000
_AFTER_RESET_MS = 250
"""Wait this long past the minute boundary: the two clocks agree only to a few milliseconds."""


@define
class WeightBudget:
    """The request weight left this minute at one host, spent before each request.

    A request is let through only while ``used + in flight + its weight`` stays under
    ``headroom * limit``; otherwise the caller waits for the next minute. ``used`` is what the
    last response's ``X-MBX-USED-WEIGHT-1M`` said (other processes on the same IP count too).

    :param limit: REQUEST_WEIGHT per minute (from ``exchangeInfo.rateLimits``).
    :param headroom: the share of ``limit`` tradecore allows itself.
    """

    limit: int = DEFAULT_WEIGHT_LIMIT
    headroom: float = 0.9
    used: int = 0
    in_flight: int = 0
    window: int = -1
    paused_until_ms: int = 0

    @property
    def ceiling(self) -> int:
        """The most weight spent in one minute before requests wait."""
        return max(1, int(self.limit * self.headroom))

    def reserve(self, weight: int, now_ms: int) -> float:
        """Reserve ``weight`` and return 0, or return the seconds to wait before asking again.

        A single request heavier than the whole ceiling goes through at the start of a minute.
        """
        self._roll(now_ms)
        if self.paused_until_ms > now_ms:
            return (self.paused_until_ms - now_ms) / 1000
        spent = self.used + self.in_flight
        if spent and spent + weight > self.ceiling:
            next_minute = (self.window + 1) * _MINUTE_MS
            return (next_minute - now_ms + _AFTER_RESET_MS) / 1000
        self.in_flight += weight
        return 0.0

    def settle(self, weight: int, used: int | None, now_ms: int) -> None:
        """Release a reservation and record the weight Binance reported after the request."""
        self.in_flight = max(0, self.in_flight - weight)
        if self._roll(now_ms):
            self.used = 0
        if used is not None:
            self.used = max(self.used, used)

    def pause(self, seconds: float, now_ms: int) -> None:
        """Send nothing for ``seconds`` (Binance answered 429 with ``Retry-After``)."""
        self.paused_until_ms = max(self.paused_until_ms, now_ms + int(seconds * 1000))

    def _roll(self, now_ms: int) -> bool:
        window = now_ms // _MINUTE_MS
        if window != self.window:
            self.window = window
            self.used = 0
            return True
        return False


@define
class BinanceHost:
    """Shared state of one Binance base URL within the process."""

    base_url: str
    budget: WeightBudget = field(factory=WeightBudget)
    banned_until: datetime | None = None
    symbols: dict[str, SymbolRules] | None = None
    symbols_expire_at: datetime | None = None

    def ban_in_force(self, now: datetime) -> datetime | None:
        """The end of the current ban, or ``None`` when requests may go."""
        if self.banned_until is not None and now < self.banned_until:
            return self.banned_until
        return None

    def cached_symbols(self, now: datetime) -> dict[str, SymbolRules] | None:
        """The cached symbol rules while they are fresh."""
        if self.symbols is None or self.symbols_expire_at is None or now >= self.symbols_expire_at:
            return None
        return self.symbols

    def cache_symbols(self, symbols: dict[str, SymbolRules], now: datetime) -> None:
        """Keep ``symbols`` for :data:`EXCHANGE_INFO_TTL`."""
        self.symbols = symbols
        self.symbols_expire_at = now + EXCHANGE_INFO_TTL


@define
class BinanceHosts:
    """Every :class:`BinanceHost` of the process, by base URL (one per plugin registry)."""

    _hosts: dict[str, BinanceHost] = field(factory=dict)

    def __getitem__(self, base_url: str) -> BinanceHost:
        host = self._hosts.get(base_url)
        if host is None:
            host = self._hosts[base_url] = BinanceHost(base_url)
        return host
