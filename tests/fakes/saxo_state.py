"""State of the fake Saxo Bank: one client with its accounts, instruments, orders and trades.

Shapes and vocabulary follow Saxo's OpenAPI reference
(https://www.developer.saxo/openapi/referencedocs): ``AccountKey`` (API key) vs ``AccountId``
(human id), signed amounts (negative = short or sold), ``NetPositionId`` opaque, trade report rows
that appear only after the end-of-day cycle (https://www.developer.saxo/openapi/learn/reports).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)
DEFAULT_CLIENT_KEY = "7m4I|vt+YLU/nEGg77o9uQhw=="
"""Like the spec's example ``7m4I|vtYLUnEGg77o9uQhw==`` plus ``+`` and ``/``: clients must
URL-encode it in queries and paths."""
_FIRST_IDS = {"order": 5002749333, "trade": 861198960, "position": 1019942425, "log": 260971}


def wall_clock() -> datetime:
    """The real time, UTC-aware."""
    return datetime.now(UTC)


@dataclass
class FakeInstrument:
    """An instrument (``Uic`` + ``AssetType``) with its quote and trading rules."""

    uic: int
    asset_type: str
    symbol: str
    description: str
    currency: str
    bid: Decimal
    ask: Decimal
    tick_size: Decimal = Decimal("0.01")
    lot_size: Decimal = Decimal(1)
    min_amount: Decimal = Decimal(1)
    exchange_id: str = "NASDAQ"

    @property
    def decimals(self) -> int:
        """Price decimals implied by the tick size (``0.01`` → 2)."""
        exponent = self.tick_size.normalize().as_tuple().exponent
        return max(0, -exponent) if isinstance(exponent, int) else 0

    @property
    def mid(self) -> Decimal:
        """``(Bid + Ask) / 2``, exact."""
        return (self.bid + self.ask) / 2

    def display(self) -> dict[str, Any]:
        """The ``DisplayAndFormat`` field group."""
        return {
            "Currency": self.currency,
            "Decimals": self.decimals,
            "Description": self.description,
            "Format": "Normal",
            "OrderDecimals": self.decimals,
            "Symbol": self.symbol,
        }


@dataclass
class FakeNetPosition:
    """One instrument's net holding in an account; ``amount`` signed."""

    uic: int
    asset_type: str
    amount: Decimal
    average_price: Decimal
    net_position_id: str
    opened_at: datetime
    current_price: Decimal | None = None
    """Valuation price; ``None``: the instrument's bid (long) or ask (short)."""


@dataclass
class FakePosition:
    """One lot; ``amount`` signed. Under end-of-day netting every fill opens one."""

    position_id: str
    uic: int
    asset_type: str
    amount: Decimal
    open_price: Decimal
    execution_time_open: datetime


@dataclass
class FakeClosedPosition:
    """A closed position; ``ClosedPositionUniqueId`` = opening id + ``-`` + closing id."""

    opening_position_id: str
    closing_position_id: str
    uic: int
    asset_type: str
    amount: Decimal
    open_price: Decimal
    closing_price: Decimal
    execution_time_open: datetime
    execution_time_close: datetime
    closing_method: str = "Fifo"

    @property
    def unique_id(self) -> str:
        """``{OpeningPositionId}-{ClosingPositionId}``."""
        return f"{self.opening_position_id}-{self.closing_position_id}"


@dataclass
class FakeTrade:
    """An execution: an order's fill, then a trade report row after ``end_of_day``."""

    trade_id: str
    order_id: str
    account_id: str
    uic: int
    asset_type: str
    amount: Decimal
    """Signed: positive bought, negative sold."""
    price: Decimal
    executed_at: datetime
    external_reference: str | None = None

    @property
    def trade_date(self) -> date:
        """The UTC date of the execution."""
        return self.executed_at.astimezone(UTC).date()


@dataclass
class FakeOrder:
    """An order as placed through ``POST /trade/v2/orders``."""

    order_id: str
    account_key: str
    account_id: str
    uic: int
    asset_type: str
    buy_sell: str
    amount: Decimal
    order_type: str
    price: Decimal | None
    duration_type: str
    external_reference: str | None
    manual_order: bool
    request_id: str | None
    session: str
    placed_at: datetime
    status: str = "Working"
    """``Working`` while open, then ``Filled``, ``Cancelled`` or ``Expired``."""
    filled_amount: Decimal = ZERO
    fills: list[FakeTrade] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """Still working (listed by ``/port/v1/orders``)."""
        return self.status == "Working"

    @property
    def average_price(self) -> Decimal | None:
        """Volume-weighted price of the fills so far."""
        if not self.fills:
            return None
        return sum((abs(t.amount) * t.price for t in self.fills), ZERO) / self.filled_amount


@dataclass
class OrderActivity:
    """One ``/cs/v1/audit/orderactivities`` entry: an order event and its fill figures."""

    log_id: int
    order: FakeOrder
    status: str
    activity_time: datetime
    filled_amount: Decimal = ZERO
    fill_amount: Decimal | None = None
    average_price: Decimal | None = None


class FakeAccount:
    """One account of the client. Seed it with the ``add_*`` methods (they take the fake's lock)."""

    def __init__(
        self, state: SaxoState, account_key: str, account_id: str, currency: str, cash: Decimal
    ) -> None:
        self._state = state
        self.account_key = account_key
        self.account_id = account_id
        self.currency = currency
        self.cash = cash
        """Cash balance: buys that would take it below zero are rejected (``InsufficientCash``)."""
        self.net_positions: dict[tuple[int, str], FakeNetPosition] = {}
        self.positions: list[FakePosition] = []
        self.closed_positions: list[FakeClosedPosition] = []
        self.report_trades: list[FakeTrade] = []
        """Rows of ``/cs/v1/reports/trades`` (seeded, or moved there by ``end_of_day``)."""

    def add_net_position(
        self,
        uic: int,
        asset_type: str,
        amount: Decimal,
        average_price: Decimal,
        *,
        current_price: Decimal | None = None,
        net_position_id: str | None = None,
        opened_at: datetime | None = None,
    ) -> FakeNetPosition:
        """Set the net position in ``uic``/``asset_type`` (``amount`` signed)."""
        with self._state._lock:
            position = FakeNetPosition(
                uic,
                asset_type,
                Decimal(amount),
                Decimal(average_price),
                net_position_id or f"{uic}__{asset_type}",
                opened_at or self._state.now(),
                current_price,
            )
            self.net_positions[(uic, asset_type)] = position
            return position

    def add_position(
        self,
        uic: int,
        asset_type: str,
        amount: Decimal,
        open_price: Decimal,
        *,
        position_id: str | None = None,
        execution_time_open: datetime | None = None,
    ) -> FakePosition:
        """Add one lot. Net positions are seeded separately (``add_net_position``)."""
        with self._state._lock:
            position = FakePosition(
                position_id or self._state.next_id("position"),
                uic,
                asset_type,
                Decimal(amount),
                Decimal(open_price),
                execution_time_open or self._state.now(),
            )
            self.positions.append(position)
            return position

    def add_closed_position(
        self,
        uic: int,
        asset_type: str,
        amount: Decimal,
        open_price: Decimal,
        closing_price: Decimal,
        *,
        opening_position_id: str | None = None,
        closing_position_id: str | None = None,
        execution_time_open: datetime | None = None,
        execution_time_close: datetime | None = None,
        closing_method: str = "Fifo",
    ) -> FakeClosedPosition:
        """Add a closed position (``amount`` signed: positive was a long)."""
        with self._state._lock:
            now = self._state.now()
            closed = FakeClosedPosition(
                opening_position_id or self._state.next_id("position"),
                closing_position_id or self._state.next_id("position"),
                uic,
                asset_type,
                Decimal(amount),
                Decimal(open_price),
                Decimal(closing_price),
                execution_time_open or now - timedelta(days=1),
                execution_time_close or now,
                closing_method,
            )
            self.closed_positions.append(closed)
            return closed

    def add_report_trades(
        self,
        uic: int,
        asset_type: str,
        count: int,
        start: datetime,
        *,
        spacing: timedelta = timedelta(hours=7, minutes=13),
        amount: Decimal | None = None,
        price: Decimal | None = None,
    ) -> list[FakeTrade]:
        """Seed ``count`` back-office trades from ``start``, one every ``spacing`` (so
        they spread over days), alternately bought and sold, with unique ``TradeId`` strings and
        five-decimal prices around ``price`` (default: the instrument's mid, else 100)."""
        with self._state._lock:
            instrument = self._state.instruments.get((uic, asset_type))
            base = price if price is not None else (instrument.mid if instrument else Decimal(100))
            lot = instrument.lot_size if instrument else Decimal(1)
            made = []
            for i in range(count):
                size = amount if amount is not None else lot * (1 + i % 3)
                trade_price = (
                    base + Decimal(i % 17) * Decimal("0.01371") - Decimal("0.1")
                ).quantize(Decimal("0.00001"))
                made.append(
                    FakeTrade(
                        self._state.next_id("trade"),
                        self._state.next_id("order"),
                        self.account_id,
                        uic,
                        asset_type,
                        Decimal(size) if i % 2 == 0 else -Decimal(size),
                        trade_price,
                        start.astimezone(UTC) + i * spacing,
                    )
                )
            self.report_trades.extend(made)
            return made


class SaxoState:
    """The client, its accounts and the instrument universe; ids and the clock."""

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self._lock = threading.RLock()
        self._clock = now or wall_clock
        self.client_key = DEFAULT_CLIENT_KEY
        self.client_id = "654321"
        self.user_id = "654321"
        self.user_name = "Mr. Anthony Test"
        self.accounts: dict[str, FakeAccount] = {}
        self.instruments: dict[tuple[int, str], FakeInstrument] = {}
        self.orders: list[FakeOrder] = []
        """Every accepted order, in placement order."""
        self.activities: list[OrderActivity] = []
        self.pending_trades: list[FakeTrade] = []
        """Fills not yet in the trade report (until ``end_of_day``)."""
        self._ids = dict(_FIRST_IDS)

    def now(self) -> datetime:
        """The fake's clock (UTC-aware)."""
        moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the clock given to FakeSaxo must return aware datetimes")
        return moment.astimezone(UTC)

    def next_id(self, kind: str) -> str:
        """A new numeric id (as text) of ``kind``: order, trade, position or log."""
        with self._lock:
            self._ids[kind] += 1
            return str(self._ids[kind])

    def add_account(
        self,
        account_key: str,
        account_id: str,
        currency: str = "EUR",
        *,
        cash: Decimal = Decimal(1_000_000),
    ) -> FakeAccount:
        """Add an account; the first one added is the client's default account."""
        with self._lock:
            account = FakeAccount(self, account_key, account_id, currency, Decimal(cash))
            self.accounts[account_key] = account
            return account

    def add_instrument(
        self,
        uic: int,
        asset_type: str,
        symbol: str,
        description: str = "",
        currency: str = "USD",
        bid: Decimal = Decimal(100),
        ask: Decimal = Decimal("100.02"),
        tick_size: Decimal = Decimal("0.01"),
        lot_size: Decimal = Decimal(1),
        min_amount: Decimal = Decimal(1),
        *,
        exchange_id: str = "NASDAQ",
    ) -> FakeInstrument:
        """Add (or replace) the instrument ``uic``/``asset_type`` with its quote."""
        with self._lock:
            instrument = FakeInstrument(
                uic,
                asset_type,
                symbol,
                description or symbol,
                currency,
                Decimal(bid),
                Decimal(ask),
                Decimal(tick_size),
                Decimal(lot_size),
                Decimal(min_amount),
                exchange_id,
            )
            self.instruments[(uic, asset_type)] = instrument
            return instrument

    @property
    def default_account(self) -> FakeAccount | None:
        """The first account added."""
        return next(iter(self.accounts.values()), None)

    def order(self, order_id: str) -> FakeOrder | None:
        """The order ``order_id``, if placed."""
        return next((o for o in self.orders if o.order_id == order_id), None)

    def activity(self, order: FakeOrder, status: str, **figures: Any) -> OrderActivity:
        """Log an order event (``/cs/v1/audit/orderactivities``)."""
        entry = OrderActivity(
            int(self.next_id("log")), order, status, self.now(), order.filled_amount, **figures
        )
        self.activities.append(entry)
        return entry
