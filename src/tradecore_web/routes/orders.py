"""Placing an order with a confirmation step, and the order list; their JSON API is
:mod:`tradecore_web.routes.orders_api`.

The order form (``/brokers/{connection_id}/order/``) is previewed by :meth:`Orders.preview`
(the account, the symbol as the broker spells it, an estimate, the risk rule that would block
it), then placed by :meth:`Orders.place` through the order protocol with the idempotency key
made at the preview: pressing Place twice places one order.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from attrs import define
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tradecore.domain import BrokerConnection, OrderStatus, new_id
from tradecore.errors import DomainError, NotFound, OrderBlocked, TradecoreError
from tradecore.services import AccountNotChosen, OrderForm
from tradecore_web.auth import principal_of
from tradecore_web.routes import orders_api
from tradecore_web.routes.brokers import flash, take_flashes
from tradecore_web.routes.connections import field_of, own_connection
from tradecore_web.state import application_of

__all__ = ["ROUTES", "OrderFields", "checked_form"]

_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
_FIELDS = ["quantity", "limit price", "symbol", "side", "account", "key"]


@define
class OrderFields:
    """The order form's fields, as typed."""

    symbol: str = ""
    side: str = "buy"
    quantity: str = ""
    order_type: str = "market"
    limit_price: str = ""
    account: str = ""
    key: str = ""


def _decimal(label: str, text: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError(f"{label} must be a number, got {text!r}") from None
    if not value.is_finite():
        raise DomainError(f"{label} must be a number, got {text!r}")
    return value


def checked_form(connection: BrokerConnection, fields: OrderFields) -> OrderForm:
    """The service's :class:`OrderForm` from the fields typed (it checks them).

    :raises DomainError: a field is refused; its message names the field.
    """
    quantity = _decimal("quantity", fields.quantity)
    if quantity is None:
        raise DomainError("quantity is required")
    return OrderForm(
        connection=connection.name,
        symbol=fields.symbol,
        side=fields.side,
        quantity=quantity,
        order_type=fields.order_type.strip().lower() or "market",
        limit_price=_decimal("limit price", fields.limit_price),
        account=fields.account.strip() or None,
        key=fields.key.strip() or None,
    )


def _errors(exc: BaseException) -> dict[str, str]:
    message = str(exc)
    if isinstance(exc, AccountNotChosen):
        return {"account": message}
    found = field_of(message, _FIELDS)
    return {(found or "form").replace(" ", "_"): message}


def _form_page(
    connection: BrokerConnection,
    fields: OrderFields,
    *,
    errors: dict[str, str] | None = None,
    blocked: str | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="order_form.html",
        context={
            "connection": connection,
            "fields": fields,
            "errors": errors or {},
            "blocked": blocked,
        },
        status_code=status_code,
    )


@get("/brokers/{connection_id:str}/order/", opt={"scope": "read"}, include_in_schema=False)
async def order_page(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> Template:
    """The order form of one connection."""
    connection = await own_connection(request, connection_id)
    return _form_page(connection, OrderFields())


@post("/brokers/{connection_id:str}/order/", opt={"scope": "read"}, include_in_schema=False)
async def preview(
    request: Request[Any, Any, Any],
    connection_id: FromPath[str],
    data: Annotated[OrderFields, _FORM],
) -> Template:
    """Check the order and show the summary to confirm (nothing is sent)."""
    connection = await own_connection(request, connection_id)
    try:
        form = checked_form(connection, data)
        ticket = await application_of(request).orders.preview(principal_of(request).user.id, form)
    except NotFound:
        raise
    except TradecoreError as exc:
        return _form_page(connection, data, errors=_errors(exc), status_code=422)
    confirmed = OrderFields(
        symbol=ticket.wanted.instrument.symbol,
        side=ticket.wanted.side.value,
        quantity=str(ticket.wanted.quantity),
        order_type=ticket.wanted.order_type.value,
        limit_price="" if ticket.wanted.limit_price is None else str(ticket.wanted.limit_price),
        account=ticket.wanted.account_id,
        key=data.key.strip() or new_id(),
    )
    return Template(
        template_name="order_confirm.html",
        context={"ticket": ticket, "fields": confirmed, "connection": connection},
    )


@post(
    "/brokers/{connection_id:str}/order/place/", opt={"scope": "execute"}, include_in_schema=False
)
async def place(
    request: Request[Any, Any, Any],
    connection_id: FromPath[str],
    data: Annotated[OrderFields, _FORM],
) -> Template | Redirect:
    """Place the confirmed order; a risk rule that blocks it is named on the form."""
    connection = await own_connection(request, connection_id)
    try:
        form = checked_form(connection, data)
        placed = await application_of(request).orders.place(principal_of(request).user.id, form)
    except NotFound:
        raise
    except OrderBlocked as exc:
        return _form_page(
            connection, data, blocked=exc.rule, errors={"form": str(exc)}, status_code=422
        )
    except TradecoreError as exc:
        return _form_page(connection, data, errors=_errors(exc), status_code=422)
    order = placed.order
    said = "was already placed" if placed.existed else "placed"
    flash(request, f"order {order.client_order_id} {said}: {order.status.value}")
    return Redirect(path="/orders/", status_code=HTTP_303_SEE_OTHER)


@get("/orders/", opt={"scope": "read"}, include_in_schema=False)
async def orders_page(
    request: Request[Any, Any, Any],
    cursor: FromQuery[str | None] = None,
) -> Template:
    """The user's orders, newest first, 50 a page (``cursor``: the older ones)."""
    page = await application_of(request).orders.page(principal_of(request).user.id, cursor=cursor)
    return Template(
        template_name="orders.html",
        context={
            "orders": page.items,
            "next_cursor": page.next_cursor,
            "names": {each.id: each.name for each in page.connections},
            "strategies": page.strategy_names,
            "flashes": take_flashes(request),
            "open_statuses": {s for s in OrderStatus if not s.is_terminal},
        },
    )


@post("/orders/{order_id:str}/cancel/", opt={"scope": "execute"}, include_in_schema=False)
async def cancel(request: Request[Any, Any, Any], order_id: FromPath[str]) -> Redirect:
    """Ask the broker to cancel the order; say what it answered."""
    lookup = await application_of(request).orders.cancel(principal_of(request).user.id, order_id)
    if lookup.after is None:
        flash(request, f"order {order_id}: cancelling failed: {lookup.error}", error=True)
    else:
        flash(request, f"order {order_id}: {lookup.after.status.value}")
    return Redirect(path="/orders/", status_code=HTTP_303_SEE_OTHER)


ROUTES: list[Any] = [order_page, preview, place, orders_page, cancel, *orders_api.ROUTES]
"""The order pages and the orders' JSON API."""
