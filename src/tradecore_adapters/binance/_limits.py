"""Binance's limits: what every process obeys together, and what one process keeps for itself.

Binance counts request weight **per IP**, per calendar minute (``X-MBX-USED-WEIGHT-1M``), counts
orders **per account** (``X-MBX-ORDER-COUNT-10S`` / ``-1D``), answers 429 with ``Retry-After``
when a limit is broken and bans an IP that goes on (HTTP 418, from 2 minutes to 3 days; "LIMITS"
in https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits). Every process of a
deployment (cron's ``tradecore run``, daemons on the same machine) shares those limits, so they
live in :class:`~tradecore.ports.SharedLimits` under these keys:

- ``binance:host:<host>``: a ban (``ban``) or a ``Retry-After`` pause (``pause``) of one base
  URL's host; nothing is sent to it before the block ends.
- ``binance:weight:<host>``: the weight used in each server-time minute, reserved before each
  request up to ``headroom`` x the limit and raised to the broker's ``X-MBX-USED-WEIGHT-1M``.
  "Per IP" is taken as per host of the base URL: the processes sharing a database are taken to
  share an IP (one machine, or machines behind one NAT).
- ``binance:orders:<account>:10s`` / ``:1d``: orders placed per account (a digest of the API
  key, never the key) in each 10-second and each day window.

What one process keeps alone (:class:`BinanceHost`): the weight limit learned from
``exchangeInfo`` and the cached ``exchangeInfo`` itself.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
from attrs import define, field

from tradecore_adapters.binance._mapping import SymbolRules
from tradecore_adapters.shared_limits import LocalLimits

__all__ = [
    "BAN",
    "DAY_MS",
    "DEFAULT_ORDERS_PER_10S",
    "DEFAULT_ORDERS_PER_DAY",
    "DEFAULT_WEIGHT_LIMIT",
    "EXCHANGE_INFO_TTL",
    "MINUTE_MS",
    "ORDER_WINDOW_MS",
    "PAUSE",
    "BinanceHost",
    "BinanceHosts",
    "account_tag",
    "at_ms",
    "host_key",
    "orders_key",
    "weight_key",
    "window_start",
]

DEFAULT_WEIGHT_LIMIT = 6000
"""Spot's REQUEST_WEIGHT per minute since 2023-08-25, until ``exchangeInfo`` says otherwise."""

DEFAULT_ORDERS_PER_10S = 50
DEFAULT_ORDERS_PER_DAY = 160_000
"""Spot's ORDERS limits per account (``GET /api/v3/rateLimit/order``)."""

EXCHANGE_INFO_TTL = timedelta(minutes=15)
"""How long a fetched ``exchangeInfo`` (weight 20, megabytes in production) is reused."""

MINUTE_MS = 60_000
ORDER_WINDOW_MS = 10_000
DAY_MS = 86_400_000

BAN = "ban"
PAUSE = "pause"


def _netloc(base_url: str) -> str:
    return httpx.URL(base_url).netloc.decode("ascii")


def host_key(base_url: str) -> str:
    """The key of a ban or pause of ``base_url``'s host."""
    return f"binance:host:{_netloc(base_url)}"


def weight_key(base_url: str) -> str:
    """The key of the request weight used at ``base_url``'s host (per IP)."""
    return f"binance:weight:{_netloc(base_url)}"


def account_tag(api_key: str) -> str:
    """A stable name of the account behind ``api_key`` that does not reveal the key."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:16]


def orders_key(account: str, interval: str) -> str:
    """The key of the orders placed by ``account`` per ``interval`` (``10s``, ``1d``)."""
    return f"binance:orders:{account}:{interval}"


def window_start(now_ms: int, length_ms: int) -> int:
    """The start of the ``length_ms`` window ``now_ms`` falls in (epoch ms)."""
    return now_ms - now_ms % length_ms


def at_ms(epoch_ms: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)


@define
class BinanceHost:
    """What one process keeps about one Binance base URL: the weight limit it learned and the
    cached symbol rules.

    :param weight_limit: REQUEST_WEIGHT per minute (from ``exchangeInfo.rateLimits``).
    :param headroom: the share of ``weight_limit`` tradecore allows itself, all processes
        together.
    """

    base_url: str
    weight_limit: int = DEFAULT_WEIGHT_LIMIT
    headroom: float = 0.9
    symbols: dict[str, SymbolRules] | None = None
    symbols_expire_at: datetime | None = None

    @property
    def ceiling(self) -> int:
        """The most weight spent in one minute before requests wait."""
        return max(1, int(self.weight_limit * self.headroom))

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
    """Every :class:`BinanceHost` of the process, by base URL (one per plugin registry).

    :param local: the limits used by a client built without shared ones
        (``BrokerContext.limits`` is ``None``): shared by this process's connections only.
    """

    _hosts: dict[str, BinanceHost] = field(factory=dict)
    local: LocalLimits = field(factory=LocalLimits)

    def __getitem__(self, base_url: str) -> BinanceHost:
        host = self._hosts.get(base_url)
        if host is None:
            host = self._hosts[base_url] = BinanceHost(base_url)
        return host
