"""``/equity/`` and ``/api/v1/equity``: each connection's market value over time, as the syncs
recorded it (:meth:`Portfolio.equity`), one line per connection and currency, drawn by
:func:`tradecore_web.chart.line_chart` (one chart per currency)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import frozen
from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template
from markupsafe import Markup

from tradecore.errors import DomainError, NotFound
from tradecore.services import EquityHistory
from tradecore_web.auth import principal_of
from tradecore_web.chart import ChartSeries, line_chart
from tradecore_web.i18n import current_gettext
from tradecore_web.routes._moments import parse_moment, text_or_none
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


def _lines(history: EquityHistory) -> list[EquityLine]:
    return [
        EquityLine(
            connection=series.connection,
            currency=series.currency,
            points=tuple((point.at, point.value) for point in series.points),
        )
        for series in history.series
    ]


async def _history(
    request: Request[Any, Any, Any], connection: str | None, since: str | None, until: str | None
) -> EquityHistory:
    return await application_of(request).portfolio.equity(
        principal_of(request).user.id,
        connection=text_or_none(connection),
        since=parse_moment(since, "since"),
        until=parse_moment(until, "until"),
    )


@get("/equity/", opt={"scope": "read"}, include_in_schema=False, name="equity")
async def equity_page(
    request: Request[Any, Any, Any],
    connection: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
) -> Template:
    """Each connection's market value over time: a chart per currency, a line per connection."""
    errors: dict[str, str] = {}
    history: EquityHistory | None = None
    try:
        history = await _history(request, connection, since, until)
    except NotFound as exc:
        errors["connection"] = str(exc)
    except DomainError as exc:
        errors["since" if "since" in str(exc) and "until" not in str(exc) else "until"] = str(exc)
    if history is None:  # the filter form still lists the user's connections
        history = await application_of(request).portfolio.equity(principal_of(request).user.id)
        lines: list[EquityLine] = []
    else:
        lines = _lines(history)
    return Template(
        template_name="equity.html",
        context={
            "charts": charts_by_currency(lines, current_gettext("Equity")),
            "names": history.connection_names,
            "every": history.every,
            "filters": {
                "connection": text_or_none(connection) or "",
                "since": text_or_none(since) or "",
                "until": text_or_none(until) or "",
            },
            "errors": errors,
            "history": True,
        },
        status_code=400 if errors else 200,
    )


@get("/api/v1/equity", opt={"scope": "read"}, name="api_equity")
async def equity_api(
    request: Request[Any, Any, Any],
    connection: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """Each connection's market value over time, one series per connection and currency, at
    most 2,000 points each (a longer history is thinned: ``every_seconds`` says how); values
    as exact strings, times in UTC ISO 8601."""
    history = await _history(request, connection, since, until)
    return {
        "series": [
            {
                "connection": series.connection,
                "currency": series.currency,
                "stored": series.stored,
                "points": [
                    {
                        "at": point.at.isoformat(),
                        "value": str(point.value),
                        "priced": point.priced,
                        "unpriced": point.unpriced,
                    }
                    for point in series.points
                ],
            }
            for series in history.series
        ],
        "every_seconds": None if history.every is None else int(history.every.total_seconds()),
    }
