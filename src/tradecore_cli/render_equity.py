"""The equity history for the terminal (rich) and for scripts (JSON-ready dicts).

Values are exact decimal strings and times ISO 8601 in UTC, as in :mod:`.render_trades`.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from tradecore.services import EquityHistory, EquitySeries
from tradecore_cli.render import literal_table
from tradecore_cli.render_trades import amount, timestamp

__all__ = ["equity_json", "equity_table"]


def equity_json(history: EquityHistory) -> dict[str, Any]:
    """The history as a JSON object: the range asked for, the bucket length in seconds when
    thinned (``null`` otherwise), and one series per connection and currency."""
    return {
        "since": None if history.since is None else timestamp(history.since),
        "until": None if history.until is None else timestamp(history.until),
        "every_seconds": None if history.every is None else int(history.every.total_seconds()),
        "series": [
            {
                "connection": each.connection,
                "currency": each.currency,
                "stored": each.stored,
                "points": [
                    {
                        "at": timestamp(point.at),
                        "value": amount(point.value),
                        "priced": point.priced,
                        "unpriced": point.unpriced,
                    }
                    for point in each.points
                ],
            }
            for each in history.series
        ],
    }


def equity_table(series: EquitySeries, *, title: str) -> Table:
    """One row per point, oldest first: when (UTC), the value, how many positions it counts
    and how many had no market value."""
    table = Table(title=title, title_justify="left")
    table.add_column("at (UTC)", no_wrap=True)
    table.add_column(f"value ({series.currency})", justify="right", no_wrap=True)
    table.add_column("priced", justify="right")
    table.add_column("unpriced", justify="right")
    for point in series.points:
        table.add_row(
            point.at.strftime("%Y-%m-%d %H:%M:%S"),
            amount(point.value),
            str(point.priced),
            str(point.unpriced),
        )
    return literal_table(table)
