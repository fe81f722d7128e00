"""Positions, trades (paged with the services' keyset cursor), the equity chart; and their JSON API.

Every handler reads the principal's own rows through :attr:`Application.portfolio`; a
connection named in a filter is looked up among the principal's connections only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from attrs import frozen
from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from tradecore.domain import Position, Trade
from tradecore.errors import DomainError, NotFound
from tradecore.services import Holdings
from tradecore_adapters.bootstrap import Application
from tradecore_web.auth import principal_of
from tradecore_web.routes._equity import equity_api, equity_page
from tradecore_web.routes._moments import parse_moment, text_or_none
from tradecore_web.state import application_of

__all__ = ["PAGE_SIZE", "ROUTES", "TradeFilters", "position_json", "trade_json"]

PAGE_SIZE = 50
"""How many trades the page shows at a time (the API takes ``?limit=`` from 1 to 500)."""


@frozen(kw_only=True)
class TradeFilters:
    """The trades asked for, parsed from the query string (times in UTC)."""

    connection: str | None = None
    symbol: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@frozen(kw_only=True)
class _Page:
    items: tuple[Trade, ...]
    next_cursor: str | None
    connection_names: Mapping[str, str]


async def _trade_page(
    app: Application, user_id: str, filters: TradeFilters, cursor: str | None, limit: int
) -> _Page:
    # The one place the trades are read: one page of at most ``limit`` trades, newest first;
    # only that page is read, however many trades the user has.
    page = await app.portfolio.trade_page(
        user_id,
        connection=filters.connection,
        symbol=filters.symbol,
        since=filters.since,
        until=filters.until,
        cursor=cursor,
        limit=limit,
    )
    return _Page(
        items=page.items, next_cursor=page.next_cursor, connection_names=page.connection_names
    )


def _filters(
    connection: str | None, symbol: str | None, since: str | None, until: str | None
) -> tuple[TradeFilters, dict[str, str]]:
    errors: dict[str, str] = {}
    moments: dict[str, datetime | None] = {}
    for field, value in (("since", since), ("until", until)):
        try:
            moments[field] = parse_moment(value, field)
        except DomainError as exc:
            errors[field] = str(exc)
            moments[field] = None
    filters = TradeFilters(
        connection=text_or_none(connection),
        symbol=text_or_none(symbol),
        since=moments["since"],
        until=moments["until"],
    )
    return filters, errors


def _field_of(exc: DomainError | NotFound) -> str:
    # Which filter a service's refusal is about, to show it next to that field.
    if isinstance(exc, NotFound):
        return "connection"
    text = str(exc)
    if "cursor" in text:
        return "page"
    if "since" in text or "until" in text:
        return "until"
    return "page"


def position_json(position: Position, names: Mapping[str, str]) -> dict[str, Any]:
    """A position for the API: decimals as exact strings, times in UTC ISO 8601."""
    return {
        "connection": names.get(position.connection_id, position.connection_id),
        "account": position.account_id,
        "symbol": position.instrument.symbol,
        "asset_type": position.instrument.asset_type.value,
        "quantity": str(position.quantity),
        "average_price": _decimal(position.average_price),
        "currency": position.currency,
        "market_value": _decimal(position.market_value),
        "unrealized_pnl": _decimal(position.unrealized_pnl),
        "as_of": position.as_of.isoformat(),
    }


def trade_json(trade: Trade, names: Mapping[str, str]) -> dict[str, Any]:
    """A trade for the API: decimals as exact strings, times in UTC ISO 8601."""
    return {
        "connection": names.get(trade.connection_id, trade.connection_id),
        "account": trade.account_id,
        "broker_trade_id": trade.broker_trade_id,
        "broker_order_id": trade.broker_order_id,
        "client_order_id": trade.client_order_id,
        "symbol": trade.instrument.symbol,
        "side": trade.side.value,
        "quantity": str(trade.quantity),
        "price": str(trade.price),
        "fee": str(trade.fee),
        "fee_asset": trade.fee_asset,
        "executed_at": trade.executed_at.isoformat(),
    }


def _decimal(value: Any) -> str | None:
    return None if value is None else str(value)


@get("/positions/", opt={"scope": "read"}, include_in_schema=False, name="positions")
async def positions_page(
    request: Request[Any, Any, Any],
    connection: FromQuery[str | None] = None,
    symbol: FromQuery[str | None] = None,
) -> Template:
    """The user's positions as of their last sync, filtered by connection and symbol."""
    app = application_of(request)
    user = principal_of(request).user
    wanted = {"connection": text_or_none(connection) or "", "symbol": text_or_none(symbol) or ""}
    errors: dict[str, str] = {}
    try:
        holdings = await app.portfolio.positions(
            user.id, connection=text_or_none(connection), symbol=text_or_none(symbol)
        )
    except NotFound as exc:
        errors["connection"] = str(exc)
        every = await app.portfolio.positions(user.id)
        holdings = Holdings(positions=(), connection_names=every.connection_names)
    return Template(
        template_name="positions.html",
        context={"holdings": holdings, "filters": wanted, "errors": errors},
        status_code=400 if errors else 200,
    )


@get("/trades/", opt={"scope": "read"}, include_in_schema=False, name="trades")
async def trades_page(
    request: Request[Any, Any, Any],
    connection: FromQuery[str | None] = None,
    symbol: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    """The user's trades, newest first, :data:`PAGE_SIZE` a page, with a link to the next."""
    app = application_of(request)
    user = principal_of(request).user
    filters, errors = _filters(connection, symbol, since, until)
    shown = {
        "connection": filters.connection or "",
        "symbol": filters.symbol or "",
        "since": text_or_none(since) or "",
        "until": text_or_none(until) or "",
    }
    page: _Page | None = None
    if not errors:
        try:
            page = await _trade_page(app, user.id, filters, text_or_none(cursor), PAGE_SIZE)
        except (DomainError, NotFound) as exc:
            errors[_field_of(exc)] = str(exc)
    names = page.connection_names if page is not None else {}
    if page is None:
        names = (await app.portfolio.positions(user.id)).connection_names
    next_url = None
    if page is not None and page.next_cursor is not None:
        query = {key: value for key, value in shown.items() if value}
        next_url = "/trades/?" + urlencode({**query, "cursor": page.next_cursor})
    return Template(
        template_name="trades.html",
        context={
            "trades": page.items if page is not None else (),
            "names": names,
            "filters": shown,
            "errors": errors,
            "next_url": next_url,
            "first_url": "/trades/?" + urlencode({k: v for k, v in shown.items() if v}),
            "paged": text_or_none(cursor) is not None,
        },
        status_code=400 if errors else 200,
    )


@get("/api/v1/positions", opt={"scope": "read"}, name="api_positions")
async def api_positions(
    request: Request[Any, Any, Any],
    connection: FromQuery[str | None] = None,
    symbol: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """The user's positions as of their last sync (decimals as exact strings)."""
    app = application_of(request)
    holdings = await app.portfolio.positions(
        principal_of(request).user.id,
        connection=text_or_none(connection),
        symbol=text_or_none(symbol),
    )
    names = holdings.connection_names
    return {"items": [position_json(each, names) for each in holdings.positions]}


@get("/api/v1/trades", opt={"scope": "read"}, name="api_trades")
async def api_trades(
    request: Request[Any, Any, Any],
    connection: FromQuery[str | None] = None,
    symbol: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
    limit: FromQuery[int | None] = None,
) -> dict[str, Any]:
    """A page of the user's trades, newest first: ``{"items", "next_cursor"}``; pass
    ``next_cursor`` back as ``?cursor=`` for the next page (``limit`` 1 to 500, 50 by default)."""
    filters = TradeFilters(
        connection=text_or_none(connection),
        symbol=text_or_none(symbol),
        since=parse_moment(since, "since"),
        until=parse_moment(until, "until"),
    )
    page = await _trade_page(
        application_of(request),
        principal_of(request).user.id,
        filters,
        text_or_none(cursor),
        PAGE_SIZE if limit is None else limit,
    )
    names = page.connection_names
    return {
        "items": [trade_json(each, names) for each in page.items],
        "next_cursor": page.next_cursor,
    }


ROUTES: list[Any] = [
    positions_page,
    trades_page,
    equity_page,
    api_positions,
    api_trades,
    equity_api,
]
