"""Tables for the terminal (rich). Pure rendering: no I/O beyond the console passed in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from tradecore.domain import Position
from tradecore.plugins import PluginInfo

__all__ = ["plugins_table", "positions_table", "print_table"]


def print_table(console: Console, table: Table) -> None:
    """Print ``table`` at its natural width, never shortening a cell to fit the terminal
    (an amount cut to ``67696.…`` would be worse than a wrapped line)."""
    natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
    width = console.width
    console.width = max(width, natural)  # rich clamps print(width=...) to the console's width
    try:
        console.print(table)
    finally:
        console.width = width


def _amount(value: object) -> str:
    return "" if value is None else str(value)


def positions_table(
    positions: Sequence[Position],
    *,
    connection_names: Mapping[str, str] | None = None,
    title: str = "Positions",
) -> Table:
    """One row per position: where it is held, symbol, quantity, average price, market value and
    unrealised P/L. ``connection_names`` maps connection ids to the names shown."""
    names = connection_names or {}
    rows = [
        (
            f"{names.get(position.connection_id, position.connection_id)} / {position.account_id}",
            position.instrument.symbol,
            position.instrument.asset_type.value,
            str(position.quantity),
            _amount(position.average_price),
            _amount(position.market_value),
            _amount(position.unrealized_pnl),
            position.currency or "",
        )
        for position in positions
    ]
    table = Table(title=title, title_justify="left")
    headers = (
        "connection / account",
        "symbol",
        "type",
        "quantity",
        "avg price",
        "market value",
        "unrealised P/L",
        "currency",
    )
    for index, header in enumerate(headers):
        table.add_column(header, justify="right" if 3 <= index <= 6 else "left", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


def plugins_table(plugins: Sequence[PluginInfo]) -> Table:
    """One row per plugin: its name, what it provides, and where it comes from."""
    table = Table(title="Plugins", title_justify="left")
    table.add_column("plugin")
    table.add_column("provides")
    table.add_column("distribution")
    table.add_column("version")
    for info in plugins:
        provides = [f"broker {name}" for name in info.brokers]
        provides += [f"notifier {name}" for name in info.notifiers]
        provides += [f"strategy {name}" for name in info.strategies]
        table.add_row(
            info.name,
            ", ".join(provides) or "-",
            info.distribution or "(in-process)",
            info.version or "",
        )
    return table
