"""``/equity/`` and ``/api/v1/equity``: each connection's market value, one line per connection
and currency, drawn by :func:`tradecore_web.chart.line_chart` (one chart per currency)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import frozen
from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template
from markupsafe import Markup

from tradecore.domain import Position
from tradecore.errors import DomainError, NotFound
from tradecore_web.auth import principal_of
from tradecore_web.chart import ChartSeries, line_chart
from tradecore_web.i18n import current_gettext
from tradecore_web.state import application_of

__all__ = ["EquityLine", "charts_by_currency", "equity_api", "equity_page"]


@frozen(kw_only=True)
class EquityLine:
    """One connection's value in one currency over time, oldest first."""

    connection: str
    currency: str
    points: tuple[tuple[datetime, Decimal], ...]


def charts_by_currency(lines: Sequence[EquityLine], title: str) -> list[tuple[str, Markup]]:
    """One chart per currency (values in different currencies are never drawn on one scale),
    each with one line per connection; by currency."""
    currencies = sorted({line.currency for line in lines})
    return [
        (
            currency,
            line_chart(
                [
                    ChartSeries(label=f"{line.connection} · {line.currency}", points=line.points)
                    for line in lines
                    if line.currency == currency
                ],
                title=f"{title} ({currency})",
            ),
        )
        for currency in currencies
    ]


def _current(positions: Sequence[Position], names: Mapping[str, str]) -> list[EquityLine]:
    # Until the equity history is recorded, each connection's current value: the market values
    # its last sync stored, per currency (positions without one are left out).
    sums: dict[tuple[str, str], tuple[Decimal, datetime]] = {}
    for position in positions:
        if position.market_value is None or not position.currency:
            continue
        key = (names.get(position.connection_id, position.connection_id), position.currency)
        total, at = sums.get(key, (Decimal(0), position.as_of))
        sums[key] = (total + position.market_value, max(at, position.as_of))
    return [
        EquityLine(connection=connection, currency=currency, points=((at, total),))
        for (connection, currency), (total, at) in sorted(sums.items())
    ]


async def _lines(
    request: Request[Any, Any, Any], connection: str | None
) -> tuple[list[EquityLine], Mapping[str, str]]:
    app = application_of(request)
    holdings = await app.portfolio.positions(principal_of(request).user.id, connection=connection)
    return _current(holdings.positions, holdings.connection_names), holdings.connection_names


def _text(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


@get("/equity/", opt={"scope": "read"}, include_in_schema=False, name="equity")
async def equity_page(
    request: Request[Any, Any, Any], connection: FromQuery[str | None] = None
) -> Template:
    """Each connection's market value: a chart per currency, a line per connection."""
    errors: dict[str, str] = {}
    names: Mapping[str, str] = {}
    try:
        lines, names = await _lines(request, _text(connection))
    except (NotFound, DomainError) as exc:
        errors["connection"] = str(exc)
        lines = []
    title = current_gettext("Equity")
    return Template(
        template_name="equity.html",
        context={
            "charts": charts_by_currency(lines, title),
            "lines": lines,
            "names": names,
            "history": False,
            "filters": {"connection": _text(connection) or ""},
            "errors": errors,
        },
        status_code=400 if errors else 200,
    )


@get("/api/v1/equity", opt={"scope": "read"}, name="api_equity")
async def equity_api(
    request: Request[Any, Any, Any], connection: FromQuery[str | None] = None
) -> dict[str, Any]:
    """Each connection's market value over time, one series per connection and currency
    (values as exact strings, times in UTC ISO 8601)."""
    lines, _ = await _lines(request, _text(connection))
    return {
        "series": [
            {
                "connection": line.connection,
                "currency": line.currency,
                "points": [
                    {"at": at.isoformat(), "value": str(value)} for at, value in line.points
                ],
            }
            for line in lines
        ]
    }
