"""Orders of the fake Saxo Bank: placement rules, fills, cancels, the end-of-day cycle.

``POST /trade/v2/orders`` follows https://www.developer.saxo/openapi/learn/order-placement
(fields, ``ManualOrder`` required, ``ExternalReference`` ≤ 50 chars, success 200 ``{"OrderId"}``)
and Saxo's duplicate guard (an identical request within 15 s is a 409). ``DELETE
/trade/v2/orders/{ids}`` follows Saxo's OpenAPI reference. Market orders fill at once at the ask
(buy) or bid (sell); limit orders that do not cross rest as Working. Fills update net positions
and lots (end-of-day netting, https://www.developer.saxo/openapi/learn/real-time-vs-eod-netting)
and reach the trade report only at ``end_of_day`` (T+1,
https://www.developer.saxo/openapi/learn/reports).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.fakes.saxo_state import (
    ZERO,
    FakeAccount,
    FakeInstrument,
    FakeNetPosition,
    FakeOrder,
    FakePosition,
    FakeTrade,
    SaxoState,
)
from tests.fakes.saxo_wire import Call, SaxoError, error, invalid_model, loads, tidy, to_decimal

DUPLICATE_WINDOW = timedelta(seconds=15)
ORDER_TYPES = frozenset(
    {
        "Algorithmic", "Limit", "Market", "Stop", "StopIfTraded", "StopLimit", "Switch",
        "TrailingStop", "TrailingStopIfTraded", "Traspaso", "TraspasoIn", "TriggerBreakout",
        "TriggerLimit", "TriggerStop",
    }
)  # fmt: skip
DURATION_TYPES = frozenset(
    {
        "AtTheClose", "AtTheOpening", "DayOrder", "FillOrKill", "GoodForPeriod",
        "GoodTillCancel", "GoodTillDate", "ImmediateOrCancel",
    }
)  # fmt: skip
SUPPORTED_DURATIONS = frozenset({"DayOrder", "GoodTillCancel", "ImmediateOrCancel", "FillOrKill"})


@dataclass(frozen=True)
class _OrderRequest:
    account_key: str | None
    uic: int
    asset_type: str
    buy_sell: str
    amount: Decimal
    order_type: str
    price: Decimal | None
    duration_type: str
    external_reference: str | None
    manual_order: bool


def _read(body: dict[str, Any]) -> _OrderRequest:
    # Model validation (InvalidModelState with ModelState) before any business rule.
    problems: dict[str, list[str]] = {}

    def check(name: str, ok: bool, message: str) -> None:
        if not ok:
            problems[name] = [message]

    manual, uic = body.get("ManualOrder"), body.get("Uic")
    check("ManualOrder", isinstance(manual, bool), "ManualOrder must be true or false.")
    check("Uic", isinstance(uic, int) and not isinstance(uic, bool), "Uic is required.")
    check("AssetType", isinstance(body.get("AssetType"), str), "AssetType is required.")
    check("BuySell", body.get("BuySell") in ("Buy", "Sell"), "BuySell must be Buy or Sell.")
    amount = to_decimal(body.get("Amount"))
    check("Amount", amount is not None, "Amount is required.")
    check("OrderType", body.get("OrderType") in ORDER_TYPES, "OrderType is required.")
    duration = body.get("OrderDuration")
    duration_type = duration.get("DurationType") if isinstance(duration, dict) else None
    check(
        "OrderDuration.DurationType",
        duration_type in DURATION_TYPES,
        "OrderDuration.DurationType is required.",
    )
    reference = body.get("ExternalReference")
    check(
        "ExternalReference",
        reference is None or (isinstance(reference, str) and len(reference) <= 50),
        "ExternalReference must be a string of at most 50 characters.",
    )
    raw_price = body.get("OrderPrice")
    price = to_decimal(raw_price)
    check("OrderPrice", raw_price is None or price is not None, "OrderPrice must be a number.")
    account_key = body.get("AccountKey")
    check("AccountKey", account_key is None or isinstance(account_key, str), "Not a key.")
    if problems:
        raise invalid_model(**problems)
    assert amount is not None
    assert isinstance(duration_type, str)
    return _OrderRequest(
        account_key,
        int(uic),  # type: ignore[arg-type]
        str(body["AssetType"]),
        str(body["BuySell"]),
        amount,
        str(body["OrderType"]),
        price,
        duration_type,
        reference,
        bool(manual),
    )


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, default=str)


def _apply_to_net_position(account: FakeAccount, trade: FakeTrade) -> None:
    key = (trade.uic, trade.asset_type)
    net = account.net_positions.get(key)
    if net is None:
        account.net_positions[key] = FakeNetPosition(
            trade.uic,
            trade.asset_type,
            trade.amount,
            trade.price,
            f"{trade.uic}__{trade.asset_type}",
            trade.executed_at,
        )
        return
    old, new = net.amount, net.amount + trade.amount
    if old == 0 or (old > 0) == (trade.amount > 0):  # opening or adding: weighted average
        net.average_price = tidy((old * net.average_price + trade.amount * trade.price) / new)
    elif new != 0 and (new > 0) != (old > 0):  # flipped: the remainder opened at this price
        net.average_price = trade.price
    net.amount = new  # reduced or flat: the average of what is left is unchanged


class SaxoMarket(SaxoState):
    """Order handling on top of the state; the methods without ``_`` are test controls."""

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        super().__init__(now=now)
        self._recent_orders: dict[tuple[str, str | None], datetime] = {}

    # -- endpoints -----------------------------------------------------------------------------

    def place_order(self, call: Call) -> dict[str, Any]:
        """``POST /trade/v2/orders``."""
        try:
            body = loads(call.body) if call.body else None
        except ValueError:
            raise error(400, "InvalidRequest", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise invalid_model(request=["A JSON object is required."])
        if "ManualOrder" not in body:  # this one comes wrapped in ErrorInfo
            message = "ManualOrder is required (true: entered by a person, false: generated)."
            raise SaxoError(
                400, {"ErrorInfo": {"ErrorCode": "InvalidModelState", "Message": message}}
            )
        request = _read(body)
        key = (_canonical(body), call.headers.get("x-request-id"))
        self._recent_orders = {
            k: at for k, at in self._recent_orders.items() if call.now - at < DUPLICATE_WINDOW
        }
        if key in self._recent_orders:
            raise error(
                409,
                "DuplicateOperation",
                "Duplicate operation: an identical order request was received within 15 seconds.",
            )
        order = self._accept(request, call)
        self._recent_orders[key] = call.now
        answer: dict[str, Any] = {"OrderId": order.order_id}
        if order.external_reference is not None:
            answer["ExternalReference"] = order.external_reference
        return answer

    def cancel_orders(self, call: Call) -> dict[str, Any]:
        """``DELETE /trade/v2/orders/{OrderIds}?AccountKey=``."""
        account_key = call.params.get("AccountKey")
        if not account_key:
            raise invalid_model(AccountKey=["AccountKey is required."])
        if account_key not in self.accounts:
            raise error(400, "IllegalAccount", "Unknown AccountKey.")
        results: list[dict[str, Any]] = []
        for order_id in (part.strip() for part in call.args[0].split(",")):
            if not order_id:
                continue
            order = self.order(order_id)
            if order is None or not order.is_open or order.account_key != account_key:
                info = {"ErrorCode": "OrderNotFound", "Message": "Order not found."}
                results.append({"OrderId": order_id, "ErrorInfo": info})
                continue
            order.status = "Cancelled"
            self.activity(order, "Cancelled")
            results.append({"OrderId": order_id})
        return {"Orders": results}

    # -- test controls -------------------------------------------------------------------------

    def end_of_day(self) -> list[FakeTrade]:
        """Run the back-office cycle: fills move into the trade report (T+1), working day orders
        expire, flat net positions and their lots go (end-of-day netting). Returns the moved
        fills."""
        with self._lock:
            moved, self.pending_trades = self.pending_trades, []
            by_id = {account.account_id: account for account in self.accounts.values()}
            for trade in moved:
                by_id[trade.account_id].report_trades.append(trade)
            for order in self.orders:
                if order.is_open and order.duration_type == "DayOrder":
                    order.status = "Expired"
                    self.activity(order, "Expired")
            for account in self.accounts.values():
                flat = {key for key, net in account.net_positions.items() if net.amount == 0}
                for key in flat:
                    del account.net_positions[key]
                account.positions = [
                    p for p in account.positions if (p.uic, p.asset_type) not in flat
                ]
            return moved

    def set_quote(self, uic: int, asset_type: str, bid: Decimal, ask: Decimal) -> None:
        """Move the quote; working limit orders it crosses fill (buy at the ask, sell at the bid)."""
        with self._lock:
            instrument = self.instruments[(uic, asset_type)]
            instrument.bid, instrument.ask = Decimal(bid), Decimal(ask)
            for order in self.orders:
                if order.is_open and (order.uic, order.asset_type) == (uic, asset_type):
                    price = self._crossing_price(instrument, order.buy_sell, order.price)
                    if price is not None:
                        self._fill(order, order.amount - order.filled_amount, price)

    def fill_order(
        self, order_id: str, amount: Decimal | None = None, price: Decimal | None = None
    ) -> FakeTrade:
        """Fill a working order, partly (``Fill``) or the rest (``FinalFill``); ``price`` defaults
        to its limit price."""
        with self._lock:
            order = self.order(order_id)
            if order is None or not order.is_open:
                raise ValueError(f"order {order_id} is not working")
            remaining = order.amount - order.filled_amount
            fill_price = price if price is not None else order.price
            assert fill_price is not None
            return self._fill(order, remaining if amount is None else Decimal(amount), fill_price)

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _crossing_price(
        instrument: FakeInstrument, buy_sell: str, limit: Decimal | None
    ) -> Decimal | None:
        # The price a market order, or a limit that crosses the quote, fills at now.
        if buy_sell == "Buy":
            return instrument.ask if limit is None or limit >= instrument.ask else None
        return instrument.bid if limit is None or limit <= instrument.bid else None

    def _accept(self, request: _OrderRequest, call: Call) -> FakeOrder:
        # Business rules: 400 {"ErrorCode", "Message"}.
        account_key = request.account_key
        if account_key is None and self.default_account is not None:
            account_key = self.default_account.account_key
        account = self.accounts.get(account_key or "")
        if account is None:
            raise error(400, "IllegalAccount", "Unknown AccountKey.")
        instrument = self.instruments.get((request.uic, request.asset_type))
        if instrument is None:
            raise error(400, "IllegalInstrumentId", "Unknown instrument (Uic and AssetType).")
        if request.order_type not in ("Market", "Limit"):
            raise error(400, "InvalidRequest", "The fake Saxo takes Market and Limit orders only.")
        if request.duration_type not in SUPPORTED_DURATIONS:
            raise error(400, "InvalidRequest", f"Unsupported duration {request.duration_type}.")
        if request.amount <= 0:
            raise error(400, "IllegalAmount", "Amount must be positive.")
        if request.amount < instrument.min_amount:
            raise error(400, "AmountBelowMinimumLotSize", "Amount below the minimum trade size.")
        if request.amount % instrument.lot_size != 0:
            raise error(400, "AmountNotInLotSize", "Amount is not a multiple of the lot size.")
        limit = None
        if request.order_type == "Limit":
            limit = request.price
            if limit is None or limit <= 0:
                raise invalid_model(OrderPrice=["OrderPrice is required for a Limit order."])
            if limit % instrument.tick_size != 0:
                raise error(
                    400, "PriceNotInTickSizeIncrements", "Price is not in tick size increments."
                )
        fill_price = self._crossing_price(instrument, request.buy_sell, limit)
        if request.buy_sell == "Buy":
            cost = request.amount * (fill_price if fill_price is not None else limit or ZERO)
            if cost > account.cash:
                raise error(400, "InsufficientCash", "Insufficient cash for this order.")
        order = FakeOrder(
            self.next_id("order"),
            account.account_key,
            account.account_id,
            request.uic,
            request.asset_type,
            request.buy_sell,
            request.amount,
            request.order_type,
            limit,
            request.duration_type,
            request.external_reference,
            request.manual_order,
            call.headers.get("x-request-id"),
            call.session,
            call.now,
        )
        self.orders.append(order)
        self.activity(order, "Placed")
        if fill_price is not None:
            self._fill(order, request.amount, fill_price)
        elif request.duration_type in ("ImmediateOrCancel", "FillOrKill"):
            order.status = "Cancelled"
            self.activity(order, "Cancelled")
        else:
            self.activity(order, "Working")
        return order

    def _fill(self, order: FakeOrder, amount: Decimal, price: Decimal) -> FakeTrade:
        now = self.now()
        account = self.accounts[order.account_key]
        signed = amount if order.buy_sell == "Buy" else -amount
        trade = FakeTrade(
            self.next_id("trade"),
            order.order_id,
            order.account_id,
            order.uic,
            order.asset_type,
            signed,
            price,
            now,
            order.external_reference,
        )
        order.fills.append(trade)
        order.filled_amount += amount
        self.pending_trades.append(trade)
        account.cash -= signed * price
        _apply_to_net_position(account, trade)
        account.positions.append(
            FakePosition(self.next_id("position"), order.uic, order.asset_type, signed, price, now)
        )
        final = order.filled_amount >= order.amount
        if final:
            order.status = "Filled"
        self.activity(
            order,
            "FinalFill" if final else "Fill",
            fill_amount=amount,
            average_price=order.average_price,
        )
        return trade
