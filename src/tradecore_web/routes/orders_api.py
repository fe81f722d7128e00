"""``/api/v1/orders``: the user's orders as JSON — list (newest first, paged), get one by its
client id, preview, place (the order protocol, an idempotency key), cancel. Amounts are exact
decimal strings; a blocked order is a 422 problem naming the rule (``rule``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import define, frozen
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from tradecore.domain import Order
from tradecore.errors import BrokerUnavailable, DomainError
from tradecore.services import OrderForm
from tradecore_web.auth import principal_of
from tradecore_web.state import application_of

__all__ = ["ROUTES", "OrderIn", "OrderOut", "OrderPage", "PreviewOut"]

_BASE = "/api/v1/orders"


@frozen(kw_only=True)
class OrderOut:
    """An order as recorded."""

    id: str
    connection_id: str
    account_id: str
    symbol: str
    side: str
    order_type: str
    quantity: str
    limit_price: str | None
    status: str
    filled_quantity: str
    average_fill_price: str | None
    broker_order_id: str | None
    reason: str | None
    strategy_id: str | None
    created_at: datetime
    updated_at: datetime | None


@frozen(kw_only=True)
class OrderPage:
    """A page of orders, newest first; ``next_cursor`` is ``null`` on the last."""

    items: list[OrderOut]
    next_cursor: str | None


@define(kw_only=True)
class OrderIn:
    """An order to preview or place. Amounts as decimal strings; ``key`` makes placing it
    idempotent (the same key never places a second order)."""

    connection_id: str
    symbol: str
    side: str
    quantity: str
    order_type: str = "market"
    limit_price: str | None = None
    account: str | None = None
    key: str | None = None


@frozen(kw_only=True)
class PreviewOut:
    """What placing would do: the account, the symbol as the broker spells it, an estimate,
    the risk rule that would block it (``blocked``), or the order already placed with the key."""

    connection_id: str
    account_id: str
    symbol: str
    side: str
    quantity: str
    estimate: str | None
    estimate_currency: str | None
    blocked: str | None
    blocked_reason: str | None
    existing: OrderOut | None
    notes: list[str]


def order_out(order: Order) -> OrderOut:
    """``order`` as the API shows it."""
    request = order.request
    return OrderOut(
        id=order.client_order_id,
        connection_id=request.connection_id,
        account_id=request.account_id,
        symbol=request.instrument.symbol,
        side=request.side.value,
        order_type=request.order_type.value,
        quantity=str(request.quantity),
        limit_price=None if request.limit_price is None else str(request.limit_price),
        status=order.status.value,
        filled_quantity=str(order.filled_quantity),
        average_fill_price=None
        if order.average_fill_price is None
        else str(order.average_fill_price),
        broker_order_id=order.broker_order_id,
        reason=order.reason,
        strategy_id=order.strategy_id,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


def _amount(label: str, text: str | None) -> Decimal | None:
    if text is None or not str(text).strip():
        return None
    try:
        value = Decimal(str(text).strip())
    except ArithmeticError:
        raise DomainError(f"{label} must be a decimal number as a string, got {text!r}") from None
    if not value.is_finite():
        raise DomainError(f"{label} must be a decimal number as a string, got {text!r}")
    return value


async def _form(request: Request[Any, Any, Any], data: OrderIn) -> OrderForm:
    user = principal_of(request).user
    connection = await application_of(request).connections.by_id(user.id, data.connection_id)
    quantity = _amount("quantity", data.quantity)
    if quantity is None:
        raise DomainError("quantity is required")
    return OrderForm(
        connection=connection.name,
        symbol=data.symbol,
        side=data.side,
        quantity=quantity,
        order_type=data.order_type.strip().lower() or "market",
        limit_price=_amount("limit_price", data.limit_price),
        account=data.account,
        key=data.key,
    )


@get(_BASE, opt={"scope": "read"}, tags=["orders"])
async def list_orders(
    request: Request[Any, Any, Any],
    limit: FromQuery[int | None] = None,
    cursor: FromQuery[str | None] = None,
) -> OrderPage:
    """The user's orders as recorded, newest first, a page at a time (no broker is asked)."""
    user = principal_of(request).user
    page = await application_of(request).orders.page(user.id, cursor=cursor, limit=limit or 50)
    return OrderPage(items=[order_out(each) for each in page.items], next_cursor=page.next_cursor)


@get(f"{_BASE}/{{order_id:str}}", opt={"scope": "read"}, tags=["orders"])
async def get_order(request: Request[Any, Any, Any], order_id: FromPath[str]) -> OrderOut:
    """One of the user's orders, by its id (the client order id), as recorded."""
    user = principal_of(request).user
    return order_out(await application_of(request).orders.recorded(user.id, order_id))


@post(f"{_BASE}/preview", opt={"scope": "read"}, tags=["orders"], status_code=200)
async def preview_order(request: Request[Any, Any, Any], data: JSONBody[OrderIn]) -> PreviewOut:
    """What placing the order would do; nothing is recorded or sent."""
    user = principal_of(request).user
    ticket = await application_of(request).orders.preview(user.id, await _form(request, data))
    wanted = ticket.wanted
    estimate = ticket.estimate
    return PreviewOut(
        connection_id=ticket.connection.id,
        account_id=wanted.account_id,
        symbol=wanted.instrument.symbol,
        side=wanted.side.value,
        quantity=str(wanted.quantity),
        estimate=None if estimate is None else str(estimate.notional),
        estimate_currency=None if estimate is None else estimate.currency,
        blocked=ticket.blocked,
        blocked_reason=ticket.blocked_reason,
        existing=None if ticket.existing is None else order_out(ticket.existing),
        notes=list(ticket.notes),
    )


@post(_BASE, opt={"scope": "execute"}, tags=["orders"], status_code=HTTP_201_CREATED)
async def place_order(request: Request[Any, Any, Any], data: JSONBody[OrderIn]) -> OrderOut:
    """Place the order by the order protocol, after the risk checks (422 naming the rule when
    one blocks it). With a key already used, the order placed with it is returned."""
    user = principal_of(request).user
    placed = await application_of(request).orders.place(user.id, await _form(request, data))
    return order_out(placed.order)


@post(
    f"{_BASE}/{{order_id:str}}/cancel", opt={"scope": "execute"}, tags=["orders"], status_code=200
)
async def cancel_order(request: Request[Any, Any, Any], order_id: FromPath[str]) -> OrderOut:
    """Ask the broker to cancel the order; the order as it then stands (a finished one as
    recorded). A broker that cannot be reached is a 502."""
    user = principal_of(request).user
    lookup = await application_of(request).orders.cancel(user.id, order_id)
    if lookup.after is None:
        raise BrokerUnavailable(lookup.error or "the broker could not be asked")
    return order_out(lookup.after)


ROUTES: list[Any] = [list_orders, get_order, preview_order, place_order, cancel_order]
"""The orders' JSON API."""
