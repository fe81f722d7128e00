"""Names and texts that look like rich markup are shown literally in every table of the terminal:
``[/]`` does not crash, ``[bold red]x[/]`` is not styled, ``[link=…]x[/link]`` is not a link,
``:smile:`` is not an emoji. Tables look the same otherwise."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tradecore.plugins import PluginInfo
from tradecore.services import AutomationStatus
from tradecore.testing.builders import (
    DEFAULT_TIME,
    make_connection,
    make_order,
    make_position,
    make_strategy,
    make_trade,
)
from tradecore_cli.render import (
    literal,
    literal_table,
    plugins_table,
    positions_table,
    print_table,
)
from tradecore_cli.render_orders import orders_table
from tradecore_cli.render_runs import statuses_table
from tradecore_cli.render_trades import trades_table

CLOSING = "[/]"
STYLED = "[bold red]x[/]"
LINK = "[link=http://e]x[/link]"
EMOJI = ":smile:"


def terminal() -> tuple[Console, io.StringIO]:
    """A wide colour terminal, so that any style or link would show as escape codes."""
    out = io.StringIO()
    return Console(file=out, force_terminal=True, color_system="truecolor", width=300), out


def printed(table: Table, *, through_print_table: bool = False) -> str:
    console, out = terminal()
    if through_print_table:
        print_table(console, table)
    else:
        console.print(table)
    return out.getvalue()


def test_literal_is_text_that_rich_never_parses() -> None:
    console, out = terminal()

    console.print(literal(f"{CLOSING} {STYLED} {LINK} {EMOJI}"))

    assert out.getvalue() == f"{CLOSING} {STYLED} {LINK} {EMOJI}\n"


def test_literal_styles_the_whole_text_apart_from_it() -> None:
    text = literal(STYLED, "bold")

    assert text.plain == STYLED
    assert text.style == "bold"


def hand_built() -> Table:
    """A table as a command module builds it: plain strings everywhere."""
    inner = Table(title=f"in {CLOSING}")
    inner.add_column(f"nested {EMOJI}")
    inner.add_row(f"nested {CLOSING}")
    table = Table(title=f"Users of {CLOSING}", title_justify="left", caption=f"by {LINK}")
    table.add_column(f"name {STYLED}", footer=f"foot {CLOSING}")
    table.add_column("more")
    table.add_row(CLOSING, inner)
    table.add_row(LINK, Text("already text", style="green"))
    table.add_row(STYLED, EMOJI)
    table.show_footer = True
    return table


def test_print_table_shows_every_string_of_a_hand_built_table_literally() -> None:
    text = printed(hand_built(), through_print_table=True)

    for expected in (
        f"Users of {CLOSING}",
        f"by {LINK}",
        f"name {STYLED}",
        f"foot {CLOSING}",
        f"in {CLOSING}",
        f"nested {EMOJI}",
        f"nested {CLOSING}",
        LINK,
        STYLED,
        EMOJI,
    ):
        assert expected in text
    assert "\x1b]8;" not in text  # no terminal hyperlink
    assert "\x1b[1;31m" not in text  # nothing bold red


def test_a_hand_built_table_printed_without_print_table_would_crash() -> None:
    # The reason print_table converts: rich reads a plain "[/]" as a closing tag.
    with pytest.raises(Exception, match="closing tag"):
        printed(hand_built())


def test_literal_table_keeps_the_title_and_caption_styles_and_renderables() -> None:
    table = literal_table(hand_built())

    assert isinstance(table.title, Text)
    assert table.title.style == "table.title"
    assert isinstance(table.caption, Text)
    assert table.caption.style == "table.caption"
    kept = list(table.columns[1].cells)[1]
    assert isinstance(kept, Text)
    assert kept.style == "green"


def test_a_table_without_markup_looks_exactly_the_same() -> None:
    def plain() -> Table:
        table = Table(title="Positions of alice", title_justify="left", caption="2 rows")
        table.add_column("amount", justify="right", no_wrap=True)
        table.add_column("note", overflow="fold", style="cyan")
        table.add_row("67696.12", "bought 2024-01-02 10:00 at http://example.com True None")
        table.add_row("1", Text("styled", style="red"))
        return table

    assert printed(literal_table(plain())) == printed(plain())


CONNECTION = make_connection(name=LINK)


def positions() -> Table:
    position = make_position(connection_id=CONNECTION.id, account_id=CLOSING, symbol=STYLED)
    return positions_table([position], connection_names={CONNECTION.id: LINK}, title=CLOSING)


def trades() -> Table:
    trade = make_trade(
        connection_id=CONNECTION.id, account_id=CLOSING, symbol=STYLED, fee_asset=EMOJI
    )
    return trades_table([trade], connection_names={CONNECTION.id: LINK}, title=CLOSING)


def orders() -> Table:
    strategy = make_strategy(connection_id=CONNECTION.id, name=STYLED)
    order = make_order(
        connection_id=CONNECTION.id,
        account_id=CLOSING,
        symbol=EMOJI,
        reason=f"broker says {CLOSING}",
        strategy_id=strategy.id,
    )
    return orders_table(
        [order],
        connection_names={CONNECTION.id: LINK},
        strategy_names={strategy.id: STYLED},
        title=CLOSING,
    )


def statuses() -> Table:
    status = AutomationStatus(user_id="u1", config=None, now=DEFAULT_TIME, recent=(), running=None)
    return statuses_table([(STYLED, status), (CLOSING, status), (LINK, status)])


def plugins() -> Table:
    return plugins_table([PluginInfo(name=CLOSING, distribution=LINK, version=STYLED)])


@pytest.mark.parametrize("build", [positions, trades, orders, statuses, plugins])
def test_every_table_of_the_renderers_is_literal_even_printed_directly(
    build: Callable[[], Table],
) -> None:
    text = printed(build())

    assert CLOSING in text
    assert STYLED in text
    assert LINK in text
    assert "\x1b]8;" not in text
    assert "\x1b[1;31m" not in text
