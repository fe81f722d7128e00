"""Orders between tradecore and Saxo: the body of ``POST /trade/v2/orders``, its answer, the open
orders of ``/port/v1/orders`` and the order-activity audit, and cancel results. Pure functions;
see :mod:`._mapping` for the conventions.

Sources: Saxo's order placement guide, https://www.developer.saxo/openapi/learn/order-placement;
the order-activity audit, https://www.developer.saxo/openapi/learn/audit-orderactivities; the
endpoints, fields and error codes in https://www.developer.saxo/openapi/referencedocs. How
tradecore uses them: docs/brokers/saxo.md ("Orders") and docs/orders.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from tradecore.domain import (
    CLIENT_ORDER_ID_MAX_LENGTH,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from tradecore.errors import (
    DomainError,
    InsufficientFunds,
    OrderOutcomeUnknown,
    OrderRejected,
)
from tradecore_adapters.saxo._error_body import _clean
from tradecore_adapters.saxo._fields import (
    _ACTIVITIES,
    _CANCEL,
    _ORDERS,
    _PLACE,
    _SIDE_TEXT,
    _ZERO,
    _display_symbol,
    _instrument_in,
    _opt_non_negative,
    _positive,
    _side,
)
from tradecore_adapters.saxo._json import (
    BROKER,
    child,
    dumps_exact,
    identifier,
    kind,
    malformed,
    obj,
    opt_child,
    text,
    utc_time,
)

# --- orders -------------------------------------------------------------------------------------

DURATION_TYPES: Final[Mapping[TimeInForce, str]] = MappingProxyType(
    {
        TimeInForce.GTC: "GoodTillCancel",
        TimeInForce.DAY: "DayOrder",
        TimeInForce.IOC: "ImmediateOrCancel",
        TimeInForce.FOK: "FillOrKill",
    }
)
"""Our time in force → Saxo ``OrderDuration.DurationType``."""

_TIMES_IN_FORCE: Final = {saxo: ours for ours, saxo in DURATION_TYPES.items()}
_ORDER_TYPES: Final = {"Market": OrderType.MARKET, "Limit": OrderType.LIMIT}
_ORDER_TYPE_TEXT: Final = {OrderType.MARKET: "Market", OrderType.LIMIT: "Limit"}

# ErrorInfo codes after which the order may exist (docs/brokers/saxo.md, "Orders"): look it up,
# never resend.
OUTCOME_UNKNOWN_CODES: Final = frozenset(
    {"TradeNotCompleted", "OrderCommandTimeout", "OrderCommandPending"}
)
NO_FUNDS_CODES: Final = frozenset({"InsufficientCash", "WouldExceedMargin"})

_ACTIVITY_STATUSES: Final = {
    "Placed": OrderStatus.OPEN,
    "Working": OrderStatus.OPEN,
    "Changed": OrderStatus.OPEN,
    "Fill": OrderStatus.PARTIALLY_FILLED,
    "FinalFill": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "Expired": OrderStatus.EXPIRED,
    "DoneForDay": OrderStatus.EXPIRED,
}


def order_body(request: OrderRequest, *, account_key: str, uic: int, asset_type: str) -> bytes:
    """The JSON body of ``POST /trade/v2/orders`` for ``request``, exact Decimals.

    ``ManualOrder`` is ``false`` (tradecore places orders automatically) and ``ExternalReference``
    is the client order id. Saxo takes no GoodTillCancel market order, so a market order with
    GTC (our default) is sent as ``DayOrder``; IOC, FOK and DAY are sent as they are.
    """
    duration = DURATION_TYPES[request.time_in_force]
    is_limit = request.order_type is OrderType.LIMIT
    if not is_limit and request.time_in_force is TimeInForce.GTC:
        duration = DURATION_TYPES[TimeInForce.DAY]
    body: dict[str, object] = {
        "AccountKey": account_key,
        "Uic": uic,
        "AssetType": asset_type,
        "BuySell": _SIDE_TEXT[request.side],
        "Amount": request.quantity,
        "OrderType": _ORDER_TYPE_TEXT[request.order_type],
    }
    if is_limit:
        body["OrderPrice"] = request.limit_price
    body["OrderDuration"] = {"DurationType": duration}
    body["ManualOrder"] = False
    body["ExternalReference"] = request.client_order_id
    return dumps_exact(body)


def placed_order(payload: object, *, request: OrderRequest, now: datetime) -> Order:
    """The order a 2xx ``POST /trade/v2/orders`` answer says was placed.

    ``{"OrderId": …}`` without ``ErrorInfo`` is an open order created ``now``.

    :raises OrderOutcomeUnknown: no ``OrderId``; an ``ErrorInfo`` with ``TradeNotCompleted``,
        ``OrderCommandTimeout`` or ``OrderCommandPending``; an ``OrderId`` together with
        an ``ErrorInfo``; an echoed ``ExternalReference`` that is not the request's; or an answer
        that cannot be read at all. The order may exist: look it up, never resend.
    :raises InsufficientFunds: ``ErrorInfo`` ``InsufficientCash`` or ``WouldExceedMargin``
        without an ``OrderId``.
    :raises OrderRejected: any other ``ErrorInfo`` without an ``OrderId``.
    """
    client_order_id = request.client_order_id

    def unknown(detail: str, code: str | None = None) -> OrderOutcomeUnknown:
        return OrderOutcomeUnknown(
            f"Saxo {_PLACE}: {detail}; the order may have been placed: it will be looked up by "
            f"its ExternalReference {client_order_id}, never sent again",
            broker=BROKER,
            code=code,
            client_order_id=client_order_id,
        )

    if not isinstance(payload, dict):
        raise unknown(f"the answer is {kind(payload)}, not an object")
    raw_id = payload.get("OrderId")
    order_id: str | None = None
    if type(raw_id) is int or (isinstance(raw_id, str) and raw_id.strip()):
        order_id = str(raw_id)
    elif raw_id is not None:
        raise unknown(f"'OrderId' is {kind(raw_id)}")
    error_info = payload.get("ErrorInfo")
    if error_info is not None:
        if not isinstance(error_info, dict):
            raise unknown(f"'ErrorInfo' is {kind(error_info)}")
        raw_code = error_info.get("ErrorCode")
        code = raw_code[:60] if isinstance(raw_code, str) and raw_code else None
        raw_message = error_info.get("Message")
        message = _clean(raw_message) if isinstance(raw_message, str) else ""
        said = f"{code}: {message}" if message else str(code)
        if code is None or code in OUTCOME_UNKNOWN_CODES or order_id is not None:
            raise unknown(f"Saxo said {said}", code)
        error = InsufficientFunds if code in NO_FUNDS_CODES else OrderRejected
        raise error(f"Saxo refused order {client_order_id}: {said}", broker=BROKER, code=code)
    if order_id is None:
        raise unknown("the answer has no 'OrderId'")
    echoed = payload.get("ExternalReference")
    if echoed is not None and echoed != client_order_id:
        raise unknown(f"the answer's 'ExternalReference' is {kind(echoed)}, not the request's")
    return Order(
        request=request,
        status=OrderStatus.OPEN,
        broker_order_id=order_id,
        created_at=now,
    )


def _order_type(m: Mapping[str, object], key: str, *, what: str) -> OrderType:
    value = text(m, key, what=what)
    order_type = _ORDER_TYPES.get(value)
    if order_type is None:
        raise malformed(
            what, f"{key!r} is {kind(value)}: unsupported order type (only Market and Limit)"
        )
    return order_type


def _time_in_force(m: Mapping[str, object], *, what: str) -> TimeInForce:
    duration = child(m, "Duration", what=what)
    value = text(duration, "DurationType", what=f"{what} Duration")
    time_in_force = _TIMES_IN_FORCE.get(value)
    if time_in_force is None:
        raise malformed(
            f"{what} Duration",
            f"'DurationType' is {kind(value)}: unsupported duration "
            "(only GoodTillCancel, DayOrder, ImmediateOrCancel and FillOrKill)",
        )
    return time_in_force


def _reference(m: Mapping[str, object], *, what: str) -> str:
    reference = text(m, "ExternalReference", what=what)
    if len(reference) > CLIENT_ORDER_ID_MAX_LENGTH:
        raise malformed(
            what,
            f"'ExternalReference' is longer than {CLIENT_ORDER_ID_MAX_LENGTH} characters "
            "(not a tradecore client order id)",
        )
    return reference


def _rebuilt_request(
    m: Mapping[str, object],
    *,
    what: str,
    connection_id: str,
    account_id: str,
    type_key: str,
    time_in_force: TimeInForce,
) -> OrderRequest:
    display = opt_child(m, "DisplayAndFormat", what=what)
    order_type = _order_type(m, type_key, what=what)
    return OrderRequest(
        connection_id=connection_id,
        account_id=account_id,
        client_order_id=_reference(m, what=what),
        instrument=_instrument_in(m, what=what, symbol=_display_symbol(display, what=what)),
        side=_side(m, "BuySell", what=what),
        order_type=order_type,
        quantity=_positive(m, "Amount", what=what),
        limit_price=(_positive(m, "Price", what=what) if order_type is OrderType.LIMIT else None),
        time_in_force=time_in_force,
    )


def _filled(m: Mapping[str, object], key: str, *, what: str) -> Decimal | None:
    return _opt_non_negative(m, key, what=what)


def open_order_from(item: object, *, connection_id: str) -> Order:
    """The open order of one ``GET /port/v1/orders`` item.

    The request is rebuilt from the item: ``account_id`` is its ``AccountKey``, the client order
    id its ``ExternalReference`` (required), the order type ``OpenOrderType`` (``Market`` or
    ``Limit`` only), the limit price ``Price``, the time in force ``Duration.DurationType``. The
    status is ``OPEN``, or ``PARTIALLY_FILLED`` when ``FilledAmount`` > 0; ``created_at`` is
    ``OrderTime``.
    """
    what = f"{_ORDERS} item"
    body = obj(item, what=what)
    try:
        request = _rebuilt_request(
            body,
            what=what,
            connection_id=connection_id,
            account_id=text(body, "AccountKey", what=what),
            type_key="OpenOrderType",
            time_in_force=_time_in_force(body, what=what),
        )
        filled = _filled(body, "FilledAmount", what=what) or _ZERO
        return Order(
            request=request,
            status=OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.OPEN,
            broker_order_id=identifier(body, "OrderId", what=what),
            filled_quantity=filled,
            created_at=utc_time(body, "OrderTime", what=what),
        )
    except DomainError as exc:
        raise malformed(what, str(exc)) from None


def activity_order(item: object, *, connection_id: str, account_id: str) -> Order:
    """The order as one ``GET /cs/v1/audit/orderactivities`` entry (``EntryType=Last``) last saw it.

    ``Status`` ``Placed``/``Working``/``Changed`` → ``OPEN`` (``PARTIALLY_FILLED`` when
    ``FilledAmount`` > 0), ``Fill`` → ``PARTIALLY_FILLED``, ``FinalFill`` → ``FILLED`` (filled
    ``FilledAmount``, else ``Amount``), ``Cancelled`` → ``CANCELED``, ``Expired``/``DoneForDay``
    → ``EXPIRED``. ``filled_quantity`` is ``FilledAmount`` (``FillAmount`` when only that is
    sent); ``average_fill_price`` is ``AveragePrice`` once something filled. The order type is
    ``OrderType`` (``OpenOrderType`` when absent); an entry without ``Duration`` is taken as a
    DayOrder for a market order and GoodTillCancel for a limit order (what :func:`order_body`
    sends). ``created_at`` and ``updated_at`` are ``ActivityTime``.
    """
    what = f"{_ACTIVITIES} item"
    body = obj(item, what=what)
    try:
        status_text = text(body, "Status", what=what)
        status = _ACTIVITY_STATUSES.get(status_text)
        if status is None:
            raise malformed(what, f"'Status' is {kind(status_text)}, not a known order activity")
        type_key = "OrderType" if "OrderType" in body else "OpenOrderType"
        if body.get("Duration") is not None:
            time_in_force = _time_in_force(body, what=what)
        elif _order_type(body, type_key, what=what) is OrderType.MARKET:
            time_in_force = TimeInForce.DAY
        else:
            time_in_force = TimeInForce.GTC
        request = _rebuilt_request(
            body,
            what=what,
            connection_id=connection_id,
            account_id=account_id,
            type_key=type_key,
            time_in_force=time_in_force,
        )
        filled = _filled(body, "FilledAmount", what=what)
        if filled is None:
            filled = _filled(body, "FillAmount", what=what)
        if status is OrderStatus.FILLED and filled is None:
            filled = request.quantity
        filled = filled or _ZERO
        if status is OrderStatus.OPEN and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        average = _opt_non_negative(body, "AveragePrice", what=what) if filled > 0 else None
        at = utc_time(body, "ActivityTime", what=what)
        return Order(
            request=request,
            status=status,
            broker_order_id=identifier(body, "OrderId", what=what),
            filled_quantity=filled,
            average_fill_price=average,
            created_at=at,
            updated_at=at,
        )
    except DomainError as exc:
        raise malformed(what, str(exc)) from None


def searched_activity(
    items: list[object], *, client_order_id: str, connection_id: str, account_id: str
) -> Order | None:
    """The order whose ``ExternalReference`` is ``client_order_id`` as the newest of its entries
    in an ``EntryType=All`` audit page (oldest first) shows it, or ``None``.

    An entry of the order that does not repeat the reference (or other fields) takes them from
    the entry that carries it, so every state the order went through counts, not only entries
    that name our client id.
    """
    entries = [item for item in items if isinstance(item, dict)]
    named = [entry for entry in entries if entry.get("ExternalReference") == client_order_id]
    if not named:
        return None
    order_ids = {entry.get("OrderId") for entry in named}
    newest = [entry for entry in entries if entry.get("OrderId") in order_ids][-1]
    merged = {**named[-1], **{k: v for k, v in newest.items() if v is not None}}
    merged["ExternalReference"] = client_order_id
    return activity_order(merged, connection_id=connection_id, account_id=account_id)


def cancel_results(payload: object) -> dict[str, str | None]:
    """``{OrderId: ErrorCode}`` of a ``DELETE /trade/v2/orders/{OrderIds}`` answer
    ``{"Orders": [...]}``; the code is ``None`` for an order Saxo cancelled.

    :raises MalformedResponse: no ``Orders`` list, an entry without ``OrderId``, or an
        ``ErrorInfo`` without ``ErrorCode``.
    """
    what = _CANCEL
    body = obj(payload, what=what)
    if "Orders" not in body:
        raise malformed(what, "'Orders' is missing")
    entries = body["Orders"]
    if not isinstance(entries, list):
        raise malformed(what, f"'Orders' is {kind(entries)}, not a list")
    results: dict[str, str | None] = {}
    for index, raw in enumerate(entries):
        where = f"{what} order {index}"
        entry = obj(raw, what=where)
        error_info = opt_child(entry, "ErrorInfo", what=where)
        results[identifier(entry, "OrderId", what=where)] = (
            None if error_info is None else text(error_info, "ErrorCode", what=f"{where} ErrorInfo")
        )
    return results
