"""The simulated venue: the "remote side" the paper broker talks to, with its own records.

Prices come from :mod:`._prices`: a pure function of ``(seed, symbol, minute)``, the same in
every process.

The account's history is one planned fill per ``activity`` from ``history_start``, each derived
from the seed and its slot number against a history-only ledger, so every venue built with the same
settings plans the same fills. A planned fill is executed only when the account (history plus the
orders placed on this venue) can afford it.

A :class:`PaperVenue` is the venue of one moment: the broker loads it from its saved state
(:meth:`PaperVenue.restore`), runs one request, and saves :meth:`PaperVenue.to_state` and the
:attr:`PaperVenue.new_fills` again, all in one transaction of the venue store. Every fill is
numbered in the venue's log, history and order fills alike, in the order they were executed
(which is their time order). A fills cursor is ``<next history slot>.<last fill seen>.<venue
tag>``; the tag is made when the venue is first opened, so a cursor of another venue (opened with
other settings, or kept in memory by an older tradecore) counts only its history slots as seen.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from attrs import evolve, frozen

from tradecore_adapters.paper._prices import (
    VenueInstrument,
    VenueQuote,
    catalogue,
    fixed_context,
    quote_at,
)

__all__ = [
    "ACCOUNT_ID",
    "FillCursor",
    "PaperVenue",
    "VenueError",
    "VenueFill",
    "VenueHolding",
    "VenueInstrument",
    "VenueOrder",
    "VenuePage",
    "VenueQuote",
    "VenueTicket",
    "catalogue",
    "quote_at",
]

ACCOUNT_ID = "paper"
FEE_RATE = Decimal("0.001")
_CENT = Decimal("0.01")
_CURSOR = re.compile(r"^(\d+)\.(\d+)\.([0-9a-f]{1,32})$")


class VenueError(Exception):
    """The venue refused a request; ``code`` says why (``UNKNOWN_SYMBOL``, ``INSUFFICIENT_FUNDS``…)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@frozen(kw_only=True)
class VenueFill:
    """One execution; ``slot`` is set for history fills, ``client_order_id`` for order fills."""

    fill_id: str
    symbol: str
    side: str  # BUY | SELL
    quantity: Decimal
    price: Decimal
    fee: Decimal
    time: datetime
    slot: int | None = None
    order_id: str | None = None
    client_order_id: str | None = None


@frozen(kw_only=True)
class VenueTicket:
    """An order as sent to the venue."""

    client_order_id: str
    symbol: str
    side: str  # BUY | SELL
    kind: str  # MARKET | LIMIT
    quantity: Decimal
    limit_price: Decimal | None = None
    time_in_force: str = "GTC"  # GTC | IOC | FOK | DAY


@frozen(kw_only=True)
class VenueOrder:
    ticket: VenueTicket
    order_id: str
    status: str  # NEW | FILLED | CANCELED | EXPIRED
    created_at: datetime
    updated_at: datetime
    filled_quantity: Decimal = Decimal(0)
    average_price: Decimal | None = None
    expires_at: datetime | None = None


@frozen(kw_only=True)
class VenueHolding:
    symbol: str
    quantity: Decimal
    average_price: Decimal
    mark: Decimal


@frozen(kw_only=True)
class FillCursor:
    """Where a listing of fills resumes: after fill number ``after`` of the log, and, for a
    cursor of another venue (not ``own``), skipping the history fills of slots before ``slot``."""

    slot: int
    after: int
    own: bool

    def skips(self, fill: VenueFill) -> bool:
        """``True`` when ``fill`` was seen through this cursor."""
        return not self.own and fill.slot is not None and fill.slot < self.slot


@frozen(kw_only=True)
class VenuePage:
    fills: tuple[VenueFill, ...]
    cursor: str
    has_more: bool


def _fee(quantity: Decimal, price: Decimal) -> Decimal:
    return (quantity * price * FEE_RATE).quantize(_CENT, rounding=ROUND_HALF_UP)


def _lots(amount: Decimal, lot: Decimal) -> Decimal:
    return amount // lot * lot


class _Ledger:
    # Cash and holdings with average cost; fees are paid in cash and kept out of the average.
    def __init__(self, cash: Decimal) -> None:
        self.cash = cash
        self.quantity: dict[str, Decimal] = {}
        self.average: dict[str, Decimal] = {}

    def to_state(self) -> dict[str, Any]:
        return {"cash": self.cash, "quantity": dict(self.quantity), "average": dict(self.average)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> _Ledger:
        ledger = cls(state["cash"])
        ledger.quantity, ledger.average = dict(state["quantity"]), dict(state["average"])
        return ledger

    def apply(self, fill: VenueFill) -> None:
        held = self.quantity.get(fill.symbol, Decimal(0))
        notional = fill.quantity * fill.price
        if fill.side == "BUY":
            total = held + fill.quantity
            cost = held * self.average.get(fill.symbol, Decimal(0)) + notional
            self.average[fill.symbol] = cost / total
            self.cash -= notional + fill.fee
        else:
            total = held - fill.quantity
            self.cash += notional - fill.fee
        self.quantity[fill.symbol] = total
        if total == 0:
            del self.quantity[fill.symbol], self.average[fill.symbol]


class _Now(Protocol):
    def now(self) -> datetime: ...


class PaperVenue:
    """One simulated account at a simulated exchange, moved forward by ``clock`` on every request.

    :param history_start: when the planned history begins.
    :param activity: the interval between two planned history fills.
    """

    def __init__(
        self,
        *,
        seed: int,
        currency: str,
        starting_cash: Decimal,
        history_start: datetime,
        activity: timedelta,
        clock: _Now,
    ) -> None:
        self.seed, self.currency, self._clock = seed, currency, clock
        self._instruments = {item.symbol: item for item in catalogue(currency)}
        self._start, self._activity = history_start, activity
        self._starting_cash = starting_cash
        self._planned, self._book = _Ledger(starting_cash), _Ledger(starting_cash)
        self._reserved_cash = Decimal(0)
        self._reserved: dict[str, Decimal] = {}
        self._next_slot = 0
        self._fills = 0  # how many fills the log holds, with new_fills
        self._orders: dict[str, VenueOrder] = {}
        self._tag = uuid.uuid4().hex[:8]  # names this venue in its cursors
        self.new_fills: list[tuple[int, VenueFill]] = []
        """The fills executed since this object was loaded or last saved, with their numbers."""
        self.changed = False
        """``True`` once anything of the state changed since it was loaded or last saved."""

    def to_state(self) -> dict[str, Any]:
        """Everything of the venue but its log of fills, for :func:`~._state.dump_state`."""
        return {
            "venue": self.settings,
            "tag": self._tag,
            "next_slot": self._next_slot,
            "fills": self._fills,
            "planned": self._planned.to_state(),
            "book": self._book.to_state(),
            "reserved_cash": self._reserved_cash,
            "reserved": dict(self._reserved),
            "orders": list(self._orders.values()),
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Continue from a saved state (:meth:`to_state`) of a venue with the same settings."""
        self._tag = state["tag"]
        self._next_slot = state["next_slot"]
        self._fills = state["fills"]
        self._planned = _Ledger.from_state(state["planned"])
        self._book = _Ledger.from_state(state["book"])
        self._reserved_cash = state["reserved_cash"]
        self._reserved = dict(state["reserved"])
        self._orders = {order.ticket.client_order_id: order for order in state["orders"]}
        self.new_fills, self.changed = [], False

    @property
    def settings(self) -> dict[str, str]:
        """What this venue simulates: a saved state of other settings belongs to another venue."""
        return {
            "seed": str(self.seed),
            "currency": self.currency,
            "starting_cash": str(self._starting_cash),
            "history_start": self._start.isoformat(),
            "activity_seconds": str(int(self._activity.total_seconds())),
        }

    def calm_until(self) -> datetime | None:
        """Until when nothing of this venue comes due by itself, as it stands: its next history
        fill; ``None`` while an order rests (a price may cross it any minute)."""
        if any(order.status == "NEW" for order in self._orders.values()):
            return None
        return self._start + self._next_slot * self._activity

    def instruments(self) -> tuple[VenueInstrument, ...]:
        """Return the listed instruments."""
        return tuple(self._instruments.values())

    @fixed_context
    def quote(self, symbol: str) -> VenueQuote:
        """Return the current bid, ask and last price of ``symbol``."""
        now = self._advance()
        return quote_at(self.seed, self._instrument(symbol), now)

    @fixed_context
    def holdings(self, account: str) -> tuple[Decimal, tuple[VenueHolding, ...]]:
        """Return the cash and every non-zero holding, marked at the current last price."""
        now = self._advance(account)
        return self._book.cash, tuple(
            VenueHolding(
                symbol=symbol,
                quantity=quantity,
                average_price=self._book.average[symbol],
                mark=quote_at(self.seed, self._instruments[symbol], now).last,
            )
            for symbol, quantity in self._book.quantity.items()
        )

    @fixed_context
    def advance(self, account: str) -> None:
        """Execute everything due by now: history fills, then resting orders crossed."""
        self._advance(account)

    def read_cursor(self, cursor: str | None) -> FillCursor:
        """Where a listing of fills resumes after ``cursor``.

        :raises VenueError: ``BAD_CURSOR``, a cursor this venue cannot have issued.
        """
        if cursor is None:
            return FillCursor(slot=0, after=0, own=True)
        match = _CURSOR.match(cursor)
        if match is None:
            raise VenueError("BAD_CURSOR", f"cursor {cursor!r} was not issued by this venue")
        slot, seen, own = int(match[1]), int(match[2]), match[3] == self._tag
        # Another venue's cursor (one opened before, or kept in memory by an older tradecore):
        # its history slots were seen, none of this venue's order fills were.
        return FillCursor(slot=slot, after=seen if own else 0, own=own)

    def page(
        self, cursor: FillCursor, fills: Sequence[VenueFill], last: int, has_more: bool
    ) -> VenuePage:
        """The page of ``fills`` listed after ``cursor``, ``last`` being the number of the last
        fill of the log it went through (listed or skipped)."""
        slots = [f.slot for f in fills if f.slot is not None]
        slot = cursor.slot
        slot = (slots[-1] + 1 if slots else slot) if has_more else max(slot, self._next_slot)
        return VenuePage(fills=tuple(fills), cursor=f"{slot}.{last}.{self._tag}", has_more=has_more)

    @fixed_context
    def submit(self, account: str, ticket: VenueTicket) -> VenueOrder:
        """Place ``ticket``; a known ``client_order_id`` is refused (``DUPLICATE_ORDER``) and
        places nothing."""
        now = self._advance(account)
        if ticket.client_order_id in self._orders:
            raise VenueError(
                "DUPLICATE_ORDER", f"an order with client id {ticket.client_order_id} exists"
            )
        instrument = self._instrument(ticket.symbol)
        if ticket.quantity % instrument.lot or ticket.quantity < instrument.lot:
            raise VenueError("LOT_SIZE", f"{ticket.symbol} trades in lots of {instrument.lot}")
        if ticket.limit_price is not None and ticket.limit_price % instrument.tick:
            raise VenueError(
                "TICK_SIZE", f"{ticket.symbol} prices move in ticks of {instrument.tick}"
            )
        quote = quote_at(self.seed, instrument, now)
        buy, limit = ticket.side == "BUY", ticket.limit_price
        price = quote.ask if buy else quote.bid
        marketable = limit is None or (limit >= price if buy else limit <= price)
        self._check_funds(ticket, price if marketable or limit is None else limit)
        order = VenueOrder(
            ticket=ticket,
            order_id=f"ord-{ticket.client_order_id}",
            status="NEW",
            created_at=now,
            updated_at=now,
        )
        if marketable:
            order = self._fill(order, price, now)
        elif ticket.time_in_force in {"IOC", "FOK"}:
            order = evolve(order, status="EXPIRED")
        else:
            self._reserve(ticket, +1)
            if ticket.time_in_force == "DAY":
                midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
                order = evolve(order, expires_at=midnight + timedelta(days=1))
        self._put(order)
        return order

    @fixed_context
    def cancel(self, account: str, client_order_id: str) -> VenueOrder:
        """Cancel an open order; a finished one is returned unchanged."""
        order = self.order(account, client_order_id)
        if order.status == "NEW":
            self._reserve(order.ticket, -1)
            order = evolve(order, status="CANCELED", updated_at=self._clock.now())
            self._put(order)
        return order

    @fixed_context
    def order(self, account: str, client_order_id: str) -> VenueOrder:
        """Return the order with ``client_order_id`` as it stands now."""
        self._advance(account)
        order = self._orders.get(client_order_id)
        if order is None:
            raise VenueError("UNKNOWN_ORDER", f"no order {client_order_id!r}")
        return order

    # -- the simulation --------------------------------------------------------------------------

    def _advance(self, account: str = ACCOUNT_ID) -> datetime:
        # Execute everything due by now: history slots first, then resting orders.
        if account != ACCOUNT_ID:
            raise VenueError("UNKNOWN_ACCOUNT", f"no account {account!r}; the only one is 'paper'")
        now = self._clock.now()
        due = (now - self._start) // self._activity + 1 if now >= self._start else 0
        for slot in range(self._next_slot, due):
            fill = self._plan(slot)
            if fill is not None:
                self._planned.apply(fill)
                if self._affordable(fill.side, fill.symbol, fill.quantity, fill.price):
                    self._book.apply(fill)
                    self._record(fill)
        if due > self._next_slot:
            self._next_slot, self.changed = due, True
        for order in [o for o in self._orders.values() if o.status == "NEW"]:
            self._settle(order, now)
        return now

    def _plan(self, slot: int) -> VenueFill | None:
        # The slot's fill against the history-only ledger: buy 1-5% of cash, or sell 25-100%.
        when = self._start + slot * self._activity
        draw = hashlib.blake2b(repr((self.seed, "slot", slot)).encode(), digest_size=8).digest()
        listed = tuple(self._instruments.values())
        instrument = listed[draw[0] % len(listed)]
        quote = quote_at(self.seed, instrument, when)
        held = self._planned.quantity.get(instrument.symbol, Decimal(0))
        if draw[1] % 2 == 0 or not held:
            budget = self._planned.cash * (1 + draw[2] % 5) / 100
            quantity = _lots(budget / (quote.ask * (1 + FEE_RATE)), instrument.lot)
            if quantity > 0:
                return _history_fill(slot, instrument.symbol, "BUY", quantity, quote.ask, when)
            if not held:
                return None
        quantity = _lots(held * (1 + draw[3] % 4) / 4, instrument.lot) or held
        return _history_fill(slot, instrument.symbol, "SELL", quantity, quote.bid, when)

    def _affordable(self, side: str, symbol: str, quantity: Decimal, price: Decimal) -> bool:
        # Against what is free: cash and holdings minus what resting orders have reserved.
        if side == "BUY":
            cost = quantity * price + _fee(quantity, price)
            return cost <= self._book.cash - self._reserved_cash
        held = self._book.quantity.get(symbol, Decimal(0))
        return quantity <= held - self._reserved.get(symbol, Decimal(0))

    def _check_funds(self, ticket: VenueTicket, price: Decimal) -> None:
        if self._affordable(ticket.side, ticket.symbol, ticket.quantity, price):
            return
        if ticket.side == "BUY":
            raise VenueError("INSUFFICIENT_FUNDS", f"not enough {self.currency} for this order")
        raise VenueError("INSUFFICIENT_HOLDING", f"not enough {ticket.symbol} to sell")

    def _reserve(self, ticket: VenueTicket, sign: int) -> None:
        assert ticket.limit_price is not None
        if ticket.side == "BUY":
            notional = ticket.quantity * ticket.limit_price
            self._reserved_cash += sign * (notional + _fee(ticket.quantity, ticket.limit_price))
        else:
            held = self._reserved.get(ticket.symbol, Decimal(0))
            self._reserved[ticket.symbol] = held + sign * ticket.quantity

    def _settle(self, order: VenueOrder, now: datetime) -> None:
        ticket, limit = order.ticket, order.ticket.limit_price
        assert limit is not None
        quote = quote_at(self.seed, self._instruments[ticket.symbol], now)
        if order.expires_at is not None and now >= order.expires_at:
            self._reserve(ticket, -1)
            self._put(evolve(order, status="EXPIRED", updated_at=now))
        elif (quote.ask <= limit) if ticket.side == "BUY" else (quote.bid >= limit):
            self._reserve(ticket, -1)
            self._put(self._fill(order, limit, now))

    def _fill(self, order: VenueOrder, price: Decimal, now: datetime) -> VenueOrder:
        ticket = order.ticket
        fill = VenueFill(
            fill_id=f"fill-{ticket.client_order_id}",
            symbol=ticket.symbol,
            side=ticket.side,
            quantity=ticket.quantity,
            price=price,
            fee=_fee(ticket.quantity, price),
            time=now,
            order_id=order.order_id,
            client_order_id=ticket.client_order_id,
        )
        self._book.apply(fill)
        self._record(fill)
        return evolve(
            order,
            status="FILLED",
            filled_quantity=ticket.quantity,
            average_price=price,
            updated_at=now,
        )

    def _put(self, order: VenueOrder) -> None:
        self._orders[order.ticket.client_order_id] = order
        self.changed = True

    def _record(self, fill: VenueFill) -> None:
        self._fills += 1
        self.new_fills.append((self._fills, fill))
        self.changed = True

    def _instrument(self, symbol: str) -> VenueInstrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise VenueError("UNKNOWN_SYMBOL", f"{symbol!r} is not listed") from None


def _history_fill(
    slot: int, symbol: str, side: str, quantity: Decimal, price: Decimal, when: datetime
) -> VenueFill:
    return VenueFill(
        fill_id=f"hist-{slot}",
        symbol=symbol,
        side=side,
        quantity=quantity,
        price=price,
        fee=_fee(quantity, price),
        time=when,
        slot=slot,
    )
