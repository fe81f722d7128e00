"""Tables for the terminal (rich). Pure rendering: no I/O beyond the console passed in.

Everything shown is shown literally: names and texts come from users and brokers, and rich would
read ``[bold]`` or ``[/]`` in a plain string as console markup (``[/]`` alone crashes the
command). A :class:`~rich.text.Text` is never parsed, so :func:`literal_table` turns every string
of a table into one, :func:`print_table` does so for every table it prints, and :func:`literal`
does it for a single text printed on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.style import Style, StyleType
from rich.table import Table
from rich.text import Text, TextType

from tradecore.domain import Position

if TYPE_CHECKING:
    from tradecore.plugins import PluginInfo  # the plugin machinery is loaded by `plugins` only

__all__ = ["literal", "literal_table", "plugins_table", "positions_table", "print_table"]


def literal(text: str, style: StyleType = "") -> Text:
    """``text`` as rich shows it character for character: no markup (``[bold]``, ``[/]``,
    ``[link=…]``) and no emoji codes (``:smile:``) are interpreted.

    :param style: how the whole text looks (``"bold"``), given apart from the text.
    """
    return Text(text, style=style)


def _literal_cell(cell: RenderableType) -> RenderableType:
    if isinstance(cell, str):
        return literal(cell)
    if isinstance(cell, Table):
        return literal_table(cell)
    return cell


def _literal_annotation(
    text: TextType | None, style: StyleType | None, default: str
) -> TextType | None:
    # A string title is styled by the table when rendered; a Text one is shown as it is, so the
    # style moves into the Text.
    if isinstance(text, str):
        return literal(text, Style.pick_first(style, default))
    return text


def literal_table(table: Table) -> Table:
    """``table`` itself, with every string in it (title, caption, headers, footers, cells, nested
    tables) turned into a :class:`~rich.text.Text`, which rich never parses as markup; a cell
    that is already a renderable is kept as it is. Looks are unchanged (table cells are never
    highlighted)."""
    table.title = _literal_annotation(table.title, table.title_style, "table.title")
    table.caption = _literal_annotation(table.caption, table.caption_style, "table.caption")
    for column in table.columns:
        column.header = _literal_cell(column.header)
        column.footer = _literal_cell(column.footer)
        column._cells[:] = [_literal_cell(cell) for cell in column._cells]
    return table


def print_table(console: Console, table: Table) -> None:
    """Print ``table`` literally (see :func:`literal_table`) at its natural width, never
    shortening a cell to fit the terminal (an amount cut to ``67696.…`` would be worse than a
    wrapped line)."""
    literal_table(table)
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
    return literal_table(table)


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
    return literal_table(table)
