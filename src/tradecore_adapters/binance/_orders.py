"""Pure functions between Binance order payloads and tradecore's :class:`Order`: the parameters
of a new order, the order (with its fills) that ``POST``, ``GET`` and ``DELETE /api/v3/order``
answer with (ACK, RESULT or FULL), and what the order search (:mod:`._search`) reads from the
``allOrders`` listing and the account's fills (``myTrades``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Context, Decimal
from typing import Any, Final

from tradecore.domain import (
    Account,
    AssetType,
    Instrument,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    Trade,
)
from tradecore.errors import DomainError, OrderRejected
from tradecore_adapters.binance._json import (
    BROKER,
)
from tradecore_adapters.binance._json import Bad as _Bad
from tradecore_adapters.binance._json import decimal as _decimal
from tradecore_adapters.binance._json import integer as _integer
from tradecore_adapters.binance._json import kind as _kind
from tradecore_adapters.binance._json import malformed as _malformed
from tradecore_adapters.binance._json import missing as _missing
from tradecore_adapters.binance._json import non_negative as _non_negative
from tradecore_adapters.binance._json import object_ as _object
from tradecore_adapters.binance._json import positive as _positive
from tradecore_adapters.binance._json import text as _text
from tradecore_adapters.binance._json import time as _time

__all__ = [
    "fills_order",
    "listed_client_ids",
    "listed_order",
    "order_fills",
    "order_from_payload",
    "order_params",
    "order_status",
    "unattributed_fills",
]


_ORDER: Final = "order payload"

_ZERO: Final = Decimal(0)
# Explicit arithmetic context: averages must not depend on whatever the caller's thread set.
_ARITHMETIC: Final = Context(prec=28)

_SIDES: Final = {"BUY": Side.BUY, "SELL": Side.SELL}
_SIDE_PARAMS: Final = {Side.BUY: "BUY", Side.SELL: "SELL"}
_ORDER_TYPES: Final = {"MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT}
_TYPE_PARAMS: Final = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT"}
_TIMES_IN_FORCE: Final = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_TIME_IN_FORCE_PARAMS: Final = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
}
_ORDER_STATUSES: Final = {
    "NEW": OrderStatus.OPEN,
    "PENDING_NEW": OrderStatus.OPEN,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}


# --- orders -------------------------------------------------------------------------------------


def order_status(value: str) -> OrderStatus:
    """The domain status of a Binance order ``status``."""
    status = _ORDER_STATUSES.get(value) if type(value) is str else None
    if status is None:
        raise _malformed(_ORDER, f"unknown order status: {_kind(value)}")
    return status


def order_params(request: OrderRequest) -> list[tuple[str, str]]:
    """The ``POST /api/v3/order`` parameters of ``request``, in a fixed order (before signing).

    Raises :class:`OrderRejected` for what Binance spot cannot do, before anything is sent.
    """
    time_in_force = request.time_in_force
    if time_in_force is TimeInForce.DAY:
        raise OrderRejected(
            "Binance spot has no DAY time in force; use GTC, IOC or FOK", broker=BROKER
        )
    is_limit = request.order_type is OrderType.LIMIT
    if not is_limit and time_in_force is not TimeInForce.GTC:
        raise OrderRejected(
            f"Binance spot market orders take no time in force; got {time_in_force.value.upper()}, "
            "leave it at GTC",
            broker=BROKER,
        )
    params = [
        ("symbol", request.instrument.symbol),
        ("side", _SIDE_PARAMS[request.side]),
        ("type", _TYPE_PARAMS[request.order_type]),
    ]
    if is_limit:
        params.append(("timeInForce", _TIME_IN_FORCE_PARAMS[time_in_force]))
    params.append(("quantity", format(request.quantity, "f")))
    if is_limit:
        assert request.limit_price is not None  # OrderRequest guarantees it for LIMIT
        params.append(("price", format(request.limit_price, "f")))
    params.append(("newClientOrderId", request.client_order_id))
    params.append(("newOrderRespType", "FULL"))
    return params


def _fill_rows(body: Mapping[str, Any]) -> list[Any]:
    fills = body.get("fills", [])
    if not isinstance(fills, list):
        raise _Bad("fills", f"is {_kind(fills)}, not a list")
    return fills


def _average_price(body: Mapping[str, Any], executed: Decimal) -> Decimal | None:
    fills = _fill_rows(body)
    if fills:
        notional = quantity = _ZERO
        for fill in fills:
            if not isinstance(fill, dict):
                raise _Bad("fills", f"has {_kind(fill)} where an object belongs")
            if "price" not in fill or "qty" not in fill:
                raise _Bad("fills", "has an entry without 'price' or 'qty'")
            price = _non_negative(fill["price"], "fills.price")
            qty = _positive(fill["qty"], "fills.qty")
            notional = _ARITHMETIC.add(notional, _ARITHMETIC.multiply(price, qty))
            quantity = _ARITHMETIC.add(quantity, qty)
        return _ARITHMETIC.divide(notional, quantity)
    if executed > 0 and "cummulativeQuoteQty" in body:
        # Negative means "not available" for some historical orders (GET /api/v3/order).
        quote_quantity = _decimal(body["cummulativeQuoteQty"], "cummulativeQuoteQty")
        if quote_quantity >= 0:
            return _ARITHMETIC.divide(quote_quantity, executed)
    return None


def _optional_time(body: Mapping[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        if key in body:
            return _time(body[key], key)
    return None


def _rebuilt_request(body: Mapping[str, Any], symbol: str, account: Account) -> OrderRequest:
    value = body["side"]
    side = _SIDES.get(value) if type(value) is str else None
    if side is None:
        raise _Bad("side", f"is {_kind(value)}, not BUY or SELL")
    value = body["type"]
    order_type = _ORDER_TYPES.get(value) if type(value) is str else None
    if order_type is None:
        raise _Bad("type", f"is {_kind(value)}: unsupported order type (only MARKET and LIMIT)")
    value = body.get("timeInForce", "GTC")
    time_in_force = _TIMES_IN_FORCE.get(value) if type(value) is str else None
    if time_in_force is None:
        raise _Bad("timeInForce", f"is {_kind(value)}, not GTC, IOC or FOK")
    # A DELETE payload's clientOrderId names the cancel request; the order's own is the orig one.
    key = "origClientOrderId" if "origClientOrderId" in body else "clientOrderId"
    return OrderRequest(
        connection_id=account.connection_id,
        account_id=account.account_id,
        client_order_id=_text(body[key], key),
        instrument=Instrument(symbol=symbol, asset_type=AssetType.SPOT),
        side=side,
        order_type=order_type,
        quantity=_positive(body["origQty"], "origQty"),
        limit_price=(_positive(body["price"], "price") if order_type is OrderType.LIMIT else None),
        time_in_force=time_in_force,
    )


def order_from_payload(
    payload: object, *, request: OrderRequest | None, account: Account, now: datetime
) -> Order:
    """The order in a ``POST`` (ACK, RESULT or FULL), ``GET`` or ``DELETE /api/v3/order`` payload.

    With ``request`` the order keeps it, after checking the payload is about that client order
    id; without, the request is rebuilt from the payload (MARKET and LIMIT orders only).
    ``now`` stands in for times the payload does not carry.
    """
    body = _object(payload, _ORDER)
    try:
        symbol = _text(body["symbol"], "symbol")
        broker_order_id = str(_integer(body["orderId"], "orderId"))
        if request is None:
            request = _rebuilt_request(body, symbol, account)
        else:
            if symbol != request.instrument.symbol:
                raise _Bad("symbol", f"is {_kind(symbol)}, not {request.instrument.symbol!r}")
            wanted = request.client_order_id
            if body.get("clientOrderId") != wanted and body.get("origClientOrderId") != wanted:
                raise _Bad("clientOrderId", f"does not match the request's {wanted!r}")
        status = order_status(body["status"]) if "status" in body else OrderStatus.OPEN
        executed = _non_negative(body.get("executedQty", 0), "executedQty")
        average = _average_price(body, executed)
        created_at = _optional_time(body, "time", "transactTime") or now
        updated_at = _optional_time(body, "updateTime", "transactTime") or now
    except KeyError as exc:
        raise _malformed(_ORDER, _missing(exc)) from None
    except _Bad as exc:
        raise _malformed(_ORDER, exc) from None
    except DomainError as exc:  # the rebuilt request breaks a domain rule (e.g. a 40-char id)
        raise _malformed(_ORDER, exc) from None
    try:
        return Order(
            request=request,
            status=status,
            broker_order_id=broker_order_id,
            filled_quantity=executed,
            average_fill_price=average,
            created_at=created_at,
            updated_at=updated_at,
        )
    except DomainError as exc:  # e.g. executedQty larger than the order's quantity
        raise _malformed(_ORDER, exc) from None


def order_fills(
    payload: object,
    *,
    account: Account,
    instrument: Instrument,
    side: Side,
    broker_order_id: str,
    client_order_id: str,
    executed_at: datetime,
) -> list[Trade]:
    """The trades in a FULL ``POST /api/v3/order`` response's ``fills`` (none when absent)."""
    body = _object(payload, _ORDER)
    try:
        fills = _fill_rows(body)
    except _Bad as exc:
        raise _malformed(_ORDER, exc) from None
    trades: list[Trade] = []
    for index, fill in enumerate(fills):
        if not isinstance(fill, dict):
            raise _malformed(_ORDER, f"fill {index} is {_kind(fill)}, not an object")
        try:
            trade_id = _integer(fill["tradeId"], "tradeId")
            quantity = _positive(fill["qty"], "qty")
            price = _non_negative(fill["price"], "price")
            fee = _decimal(fill["commission"], "commission")
            fee_asset = _text(fill["commissionAsset"], "commissionAsset")
        except KeyError as exc:
            raise _malformed(_ORDER, f"fill {index} {_missing(exc)}") from None
        except _Bad as exc:
            raise _malformed(_ORDER, f"fill {index}: {exc}") from None
        try:
            trade = Trade(
                connection_id=account.connection_id,
                account_id=account.account_id,
                broker_trade_id=str(trade_id),
                broker_order_id=broker_order_id,
                client_order_id=client_order_id,
                instrument=instrument,
                side=side,
                quantity=quantity,
                price=price,
                fee=fee,
                fee_asset=fee_asset,
                executed_at=executed_at,
            )
        except DomainError as exc:
            raise _malformed(_ORDER, f"fill {index}: {exc}") from None
        trades.append(trade)
    return trades


# --- the order search ---------------------------------------------------------------------------

_ALL_ORDERS: Final = "allOrders payload"


def listed_client_ids(rows: object) -> dict[str, str]:
    """``{orderId: clientOrderId}`` of a ``GET /api/v3/allOrders`` answer (ids as text)."""
    listed: dict[str, str] = {}
    for index, row in enumerate(_rows(rows)):
        try:
            order_id = str(_integer(row["orderId"], "orderId"))
            listed[order_id] = _text(row["clientOrderId"], "clientOrderId")
        except KeyError as exc:
            raise _malformed(_ALL_ORDERS, f"row {index} {_missing(exc)}") from None
        except _Bad as exc:
            raise _malformed(_ALL_ORDERS, f"row {index}: {exc}") from None
    return listed


def _rows(rows: object) -> list[Mapping[str, Any]]:
    if not isinstance(rows, list):
        raise _malformed(_ALL_ORDERS, f"is {_kind(rows)}, not a list")
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise _malformed(_ALL_ORDERS, f"row {index} is {_kind(row)}, not an object")
    return rows


def listed_order(
    rows: object, *, request: OrderRequest, account: Account, now: datetime
) -> Order | None:
    """The order of ``request`` in a ``GET /api/v3/allOrders`` answer, matched by its client
    order id (the newest when several carry it: Binance accepts an id again once its order
    filled); ``None`` when no row carries it."""
    listed = listed_client_ids(rows)  # every row checked
    ours = [
        int(order_id)
        for order_id, client_id in listed.items()
        if client_id == request.client_order_id
    ]
    if not ours:
        return None
    newest = str(max(ours))
    row = next(row for row in _rows(rows) if str(row["orderId"]) == newest)
    return order_from_payload(row, request=request, account=account, now=now)


def unattributed_fills(
    trades: Sequence[Trade], *, listed: Mapping[str, str], request: OrderRequest
) -> dict[str, list[Trade]]:
    """The fills of ``trades`` that may be ``request``'s, by order id: those of orders that the
    ``allOrders`` listing (``listed``) does not name, on the request's side, and together no
    more than its quantity. A fill of an order listed under another client id is not ours."""
    groups: dict[str, list[Trade]] = {}
    for trade in trades:
        if trade.broker_order_id is not None and trade.broker_order_id not in listed:
            groups.setdefault(trade.broker_order_id, []).append(trade)
    return {
        order_id: fills
        for order_id, fills in groups.items()
        if all(fill.side is request.side for fill in fills)
        and sum((fill.quantity for fill in fills), _ZERO) <= request.quantity
    }


def fills_order(fills: Sequence[Trade], *, request: OrderRequest, order_id: str) -> Order:
    """The order of ``request`` as only its fills show it (``order_id``'s, from ``myTrades``):
    ``FILLED`` when they add up to its quantity, else ``PARTIALLY_FILLED``; the average price
    weighted by quantity; the first fill's time as when it was placed."""
    quantity = notional = _ZERO
    for fill in fills:
        quantity = _ARITHMETIC.add(quantity, fill.quantity)
        notional = _ARITHMETIC.add(notional, _ARITHMETIC.multiply(fill.price, fill.quantity))
    first = min(fill.executed_at for fill in fills)
    last = max(fill.executed_at for fill in fills)
    return Order(
        request=request,
        status=OrderStatus.FILLED if quantity >= request.quantity else OrderStatus.PARTIALLY_FILLED,
        broker_order_id=order_id,
        filled_quantity=quantity,
        average_fill_price=_ARITHMETIC.divide(notional, quantity),
        created_at=first,
        updated_at=last,
        reason=(
            f"found by its fills (order {order_id}): Binance's order listings did not show "
            "its client id"
        ),
    )
