"""Value types of the fake Binance: errors, formatting, symbols, balances, orders, trade logs.

Payload shapes follow the samples of Binance's REST API documentation
(https://developers.binance.com/docs/binance-spot-api-docs/): money and quantities are decimal
strings, ids and times are JSON integers, ``orderListId`` is -1. Trade rows made by the
``add_*trades`` helpers are rendered on demand from a compact description, so a benchmark can hold
hundreds of thousands of them without building them all.
"""

from __future__ import annotations

import base64
import bisect
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

Row = dict[str, Any]
Number = str | int | Decimal

COMMISSION_RATE = Decimal("0.001")
"""Taker and maker commission of every fake account (10 bps)."""
DEFAULT_TRADES_START_MS = 1_700_000_000_000
"""``time`` of the first generated spot trade unless a test gives ``start_time_ms``."""
OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})
EIGHT = Decimal("0.00000001")
ZERO = Decimal(0)


class BinanceError(Exception):
    """An API error: the HTTP status and Binance's ``{"code", "msg"}`` body."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"HTTP {status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg


def wall_ms() -> int:
    """The local clock in epoch milliseconds."""
    return int(time.time() * 1000)


def dec(value: Number) -> Decimal:
    """``value`` as a Decimal (strings and ints are exact)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def fmt8(value: Decimal) -> str:
    """Spot style: eight decimals, e.g. ``4.00000100``."""
    return f"{value:.8f}"


def plain(value: Decimal) -> str:
    """Futures style: no padding, no exponent, e.g. ``0.385`` or ``30``."""
    return format(value.normalize(), "f")


def load_ed25519_public_key(key: Ed25519PublicKey | bytes | str) -> Ed25519PublicKey:
    """An Ed25519 public key from an object, PEM text/bytes, DER bytes, base64 SPKI, or raw 32 bytes."""
    if isinstance(key, Ed25519PublicKey):
        return key
    data = key.encode("ascii") if isinstance(key, str) else key
    if data.lstrip().startswith(b"-----BEGIN"):
        loaded: Any = load_pem_public_key(data)
    elif len(data) == 32:
        loaded = Ed25519PublicKey.from_public_bytes(data)
    else:
        try:
            loaded = load_der_public_key(data)
        except ValueError:
            loaded = load_der_public_key(base64.b64decode(data))
    if not isinstance(loaded, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return loaded


@dataclass
class FakeSymbol:
    """A spot symbol with its last price and its PRICE_FILTER / LOT_SIZE filters."""

    symbol: str
    base: str
    quote: str
    price: Decimal
    status: str = "TRADING"
    tick_size: Decimal = Decimal("0.01000000")
    step_size: Decimal = Decimal("0.00001000")
    min_qty: Decimal = Decimal("0.00001000")
    max_qty: Decimal = Decimal("9000.00000000")
    min_price: Decimal = Decimal("0.01000000")
    max_price: Decimal = Decimal("1000000.00000000")

    def check_price(self, price: Decimal) -> None:
        """-1013 "Filter failure: PRICE_FILTER" unless ``price`` is on the tick grid and in range."""
        if (
            price < self.min_price
            or price > self.max_price
            or (price - self.min_price) % self.tick_size
        ):
            raise BinanceError(400, -1013, "Filter failure: PRICE_FILTER")

    def check_qty(self, qty: Decimal) -> None:
        """-1013 "Filter failure: LOT_SIZE" unless ``qty`` is on the step grid and in range."""
        if qty < self.min_qty or qty > self.max_qty or (qty - self.min_qty) % self.step_size:
            raise BinanceError(400, -1013, "Filter failure: LOT_SIZE")

    def floor_qty(self, qty: Decimal) -> Decimal:
        """``qty`` rounded down to the step size (``quoteOrderQty`` orders respect LOT_SIZE)."""
        return (qty / self.step_size).to_integral_value(ROUND_DOWN) * self.step_size

    def info(self) -> Row:
        """The ``exchangeInfo.symbols[]`` entry."""
        return {
            "symbol": self.symbol,
            "status": self.status,
            "baseAsset": self.base,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
            "icebergAllowed": False,
            "ocoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": fmt8(self.min_price),
                    "maxPrice": fmt8(self.max_price),
                    "tickSize": fmt8(self.tick_size),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": fmt8(self.min_qty),
                    "maxQty": fmt8(self.max_qty),
                    "stepSize": fmt8(self.step_size),
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER"],
        }


@dataclass
class Balance:
    """One asset's balance; ``free + locked`` is the total."""

    free: Decimal = ZERO
    locked: Decimal = ZERO


@dataclass(eq=False)
class FakeOrder:
    """A spot order. ``price`` is 0 for MARKET orders, as Binance reports it."""

    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    orig_quote_order_qty: Decimal
    time_ms: int
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cummulative_quote_qty: Decimal = ZERO
    update_time_ms: int = 0
    fills: list[Row] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """NEW or PARTIALLY_FILLED: its client id cannot be reused yet."""
        return self.status in OPEN_STATUSES

    @property
    def remaining_qty(self) -> Decimal:
        """Quantity not executed yet."""
        return self.orig_qty - self.executed_qty

    def ack(self, transact_time_ms: int) -> Row:
        """The ACK response of ``POST /api/v3/order``."""
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "transactTime": transact_time_ms,
        }

    def _amounts(self) -> Row:
        return {
            "price": fmt8(self.price),
            "origQty": fmt8(self.orig_qty),
            "executedQty": fmt8(self.executed_qty),
            "origQuoteOrderQty": fmt8(self.orig_quote_order_qty),
            "cummulativeQuoteQty": fmt8(self.cummulative_quote_qty),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side,
        }

    def result(self, transact_time_ms: int) -> Row:
        """The RESULT response: ACK plus amounts and status."""
        return {
            **self.ack(transact_time_ms),
            **self._amounts(),
            "workingTime": self.time_ms,
            "selfTradePreventionMode": "NONE",
        }

    def full(self, transact_time_ms: int) -> Row:
        """The FULL response: RESULT plus ``fills`` (each with ``tradeId``)."""
        return {**self.result(transact_time_ms), "fills": [dict(fill) for fill in self.fills]}

    def query(self) -> Row:
        """The ``GET /api/v3/order`` / ``openOrders`` shape."""
        amounts = self._amounts()
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            **{key: amounts[key] for key in ("price", "origQty", "executedQty")},
            "cummulativeQuoteQty": amounts["cummulativeQuoteQty"],
            **{key: amounts[key] for key in ("status", "timeInForce", "type", "side")},
            "stopPrice": "0.00000000",
            "icebergQty": "0.00000000",
            "time": self.time_ms,
            "updateTime": self.update_time_ms,
            "isWorking": True,
            "workingTime": self.time_ms,
            "origQuoteOrderQty": amounts["origQuoteOrderQty"],
            "selfTradePreventionMode": "NONE",
        }

    def canceled(self, cancel_client_order_id: str, transact_time_ms: int) -> Row:
        """The ``DELETE /api/v3/order`` response."""
        return {
            "symbol": self.symbol,
            "origClientOrderId": self.client_order_id,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": cancel_client_order_id,
            "transactTime": transact_time_ms,
            **self._amounts(),
            "selfTradePreventionMode": "NONE",
        }


@dataclass(frozen=True, slots=True)
class _Segment:
    first_id: int
    count: int
    render: Callable[[int], Row]

    @property
    def last_id(self) -> int:
        return self.first_id + self.count - 1


class TradeLog:
    """One account's trades in one symbol, ascending by id; segments of consecutive ids."""

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        self._firsts: list[int] = []
        self._lasts: list[int] = []
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def last_id(self) -> int:
        """The highest trade id, 0 when empty."""
        return self._lasts[-1] if self._lasts else 0

    def add(self, first_id: int, count: int, render: Callable[[int], Row]) -> None:
        """Add ``count`` rows with ids ``first_id…``; ``render(i)`` builds the i-th row."""
        if count <= 0:
            return
        segment = _Segment(first_id, count, render)
        pos = bisect.bisect_left(self._firsts, first_id)
        before_overlaps = pos > 0 and self._lasts[pos - 1] >= first_id
        after_overlaps = pos < len(self._firsts) and self._firsts[pos] <= segment.last_id
        if first_id < 1 or before_overlaps or after_overlaps:
            raise ValueError(f"trade ids {first_id}..{segment.last_id} overlap existing trades")
        self._segments.insert(pos, segment)
        self._firsts.insert(pos, first_id)
        self._lasts.insert(pos, segment.last_id)
        self._size += count

    def add_row(self, row: Row) -> None:
        """Add one explicit row (a fill)."""
        self.add(row["id"], 1, lambda _i: row)

    def from_id(self, from_id: int, limit: int) -> list[Row]:
        """Up to ``limit`` rows with ``id >= from_id``, ascending."""
        out: list[Row] = []
        for index in range(bisect.bisect_left(self._lasts, from_id), len(self._segments)):
            segment = self._segments[index]
            for i in range(max(0, from_id - segment.first_id), segment.count):
                out.append(segment.render(i))
                if len(out) >= limit:
                    return out
        return out

    def __iter__(self) -> Iterator[Row]:
        for segment in self._segments:
            for i in range(segment.count):
                yield segment.render(i)

    def descending(self) -> Iterator[Row]:
        """Every row, newest (highest id) first."""
        for segment in reversed(self._segments):
            for i in range(segment.count - 1, -1, -1):
                yield segment.render(i)

    def latest(self, limit: int) -> list[Row]:
        """The most recent ``limit`` rows, ascending."""
        out: list[Row] = []
        for row in self.descending():
            if len(out) >= limit:
                break
            out.append(row)
        out.reverse()
        return out
