"""The paper venue's market: the listed instruments and their prices.

Prices are a pure function of ``(seed, symbol, minute)``: a seeded Brownian bridge between
independent anchor prices every 2**14 minutes (about 11 days), computed top-down in 14 hashed
steps, so any minute is priced in constant time and the walk stays near each instrument's start
price. All arithmetic is integer or :class:`~decimal.Decimal` in a fixed context; no float is used.
Every process pricing the same connection at the same minute sees the same price, so a limit
order placed by one process is crossed at the same minute for every later one.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_UP, Context, Decimal, localcontext
from functools import lru_cache, wraps
from math import isqrt
from typing import ParamSpec, TypeVar

from attrs import field, frozen

__all__ = ["VenueInstrument", "VenueQuote", "catalogue", "fixed_context", "quote_at"]

_CTX = Context(prec=28, rounding=ROUND_HALF_EVEN)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_BLOCK_BITS = 14
_UNIT = 1 << 20  # walk units per one-minute standard deviation
_NOISE_STD = 1 << 17  # standard deviation of _noise()
_DRAWS = struct.Struct(">12H")
_P = ParamSpec("_P")
_R = TypeVar("_R")


def fixed_context(function: Callable[_P, _R]) -> Callable[_P, _R]:
    # Decimal results must not depend on the caller's thread-local context.
    @wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(_CTX):
            return function(*args, **kwargs)

    return wrapper


@frozen
class VenueInstrument:
    """A listed instrument. ``volatility`` is the log-price deviation per minute, ``spread`` the
    bid-ask distance as a fraction of the price."""

    symbol: str
    kind: str  # crypto | stock | fx
    base: str
    quote: str
    name: str
    start_price: Decimal = field(converter=Decimal)
    tick: Decimal = field(converter=Decimal)
    lot: Decimal = field(converter=Decimal)
    volatility: Decimal = field(converter=Decimal)
    spread: Decimal = field(converter=Decimal)


@frozen(kw_only=True)
class VenueQuote:
    symbol: str
    bid: Decimal
    ask: Decimal
    last: Decimal
    time: datetime


@lru_cache(maxsize=8)
def catalogue(currency: str) -> tuple[VenueInstrument, ...]:
    """The instruments the venue lists, all priced in ``currency`` (the same tuple for every
    venue of that currency: its instruments are immutable)."""
    cur = currency
    fx, fx_price = ("USD", "0.92") if currency == "EUR" else ("EUR", "1.08")
    return (
        VenueInstrument(f"BTC-{cur}", "crypto", "BTC", cur, "Bitcoin", "60000", "0.01", "0.0001", "0.0008", "0.0004"),
        VenueInstrument(f"ETH-{cur}", "crypto", "ETH", cur, "Ether", "3000", "0.01", "0.001", "0.001", "0.0004"),
        VenueInstrument("AAPL", "stock", "AAPL", cur, "Apple Inc.", "190", "0.01", "1", "0.0004", "0.0004"),
        VenueInstrument("MSFT", "stock", "MSFT", cur, "Microsoft Corp.", "410", "0.01", "1", "0.0004", "0.0004"),
        VenueInstrument(f"{fx}{cur}", "fx", fx, cur, f"{fx}/{cur}", fx_price, "0.00001", "1", "0.0001", "0.0001"),
    )  # fmt: skip


def _noise(stream: hashlib.blake2b, kind: bytes, key: int) -> int:
    # Twelve uniform 16-bit draws summed: integer, mean 0, deviation ~_NOISE_STD, near-normal.
    draw = stream.copy()
    draw.update(kind + key.to_bytes(9, "big", signed=True))
    total: int = sum(_DRAWS.unpack(draw.digest()))
    return 2 * total - 12 * 65535


def _walk(seed: int, symbol: str, minute: int) -> int:
    stream = hashlib.blake2b(repr((seed, symbol)).encode(), digest_size=24)
    lo = minute >> _BLOCK_BITS << _BLOCK_BITS
    hi = lo + (1 << _BLOCK_BITS)
    anchor = isqrt(1 << _BLOCK_BITS) * _UNIT
    w_lo = _noise(stream, b"a", lo) * anchor // _NOISE_STD
    w_hi = _noise(stream, b"a", hi) * anchor // _NOISE_STD
    while hi - lo > 1:  # Lévy's construction: midpoint = mean + sqrt(half / 2) * noise
        mid = (lo + hi) // 2
        step = isqrt((mid - lo) * _UNIT * _UNIT // 2)
        w_mid = (w_lo + w_hi) // 2 + _noise(stream, b"m", mid) * step // _NOISE_STD
        lo, w_lo, hi, w_hi = (lo, w_lo, mid, w_mid) if minute < mid else (mid, w_mid, hi, w_hi)
    return w_lo


def quote_at(seed: int, instrument: VenueInstrument, when: datetime) -> VenueQuote:
    """Price ``instrument`` at ``when``: a pure function of the seed, the symbol and the minute."""
    bid, ask, last = _prices(seed, instrument, (when - _EPOCH) // timedelta(minutes=1))
    return VenueQuote(symbol=instrument.symbol, bid=bid, ask=ask, last=last, time=when)


@lru_cache(maxsize=512)
@fixed_context
def _prices(
    seed: int, instrument: VenueInstrument, minute: int
) -> tuple[Decimal, Decimal, Decimal]:
    # Bid, ask and last of one minute; remembered for the last 512 (seed, instrument,
    # minute): a cycle prices the same minute several times (positions, strategy, order).
    walk = Decimal(_walk(seed, instrument.symbol, minute))
    raw = instrument.start_price * (walk * instrument.volatility / _UNIT).exp()
    tick = instrument.tick
    last = max(raw.quantize(tick, rounding=ROUND_HALF_EVEN), tick * 10)
    half = max(tick, (last * instrument.spread / 2).quantize(tick, rounding=ROUND_UP))
    return last - half, last + half, last
