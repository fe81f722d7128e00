"""``tradecore positions``, ``tradecore trades`` and ``tradecore equity``: what a user's syncs
stored."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import click
from rich.console import Console

from tradecore.domain import User
from tradecore.services import (
    MAX_EQUITY_POINTS,
    MAX_PAGE_SIZE,
    STREAM_PAGE_SIZE,
    EquityHistory,
    Holdings,
    TradesPage,
)
from tradecore_cli.app import find_user, open_app, user_option
from tradecore_cli.listing_output import JsonArrayWriter, JsonLinesWriter, quiet_broken_pipe
from tradecore_cli.render import positions_table, print_table
from tradecore_cli.render_equity import equity_json, equity_table
from tradecore_cli.render_trades import position_json, trade_json, trades_table
from tradecore_cli.trade_listing import (
    TABLE_PAGE_SIZE,
    Output,
    TradeQuery,
    describe_filters,
    stream_trades,
)
from tradecore_cli.trade_listing import echo_text as _echo

__all__ = ["equity", "positions", "trades"]


def _utc_time(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    # YYYY-MM-DD or YYYY-MM-DDTHH:MM, read as UTC.
    if value is None:
        return None
    for pattern in ("%Y-%m-%d", "%Y-%m-%dT%H:%M"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise click.BadParameter(
        f"{value!r} is not a UTC date as YYYY-MM-DD or YYYY-MM-DDTHH:MM (e.g. 2024-01-31T18:30)",
        ctx=ctx,
        param=param,
    )


connection_option = click.option(
    "--connection",
    "connection_name",
    metavar="NAME",
    default=None,
    help="Only this broker connection of the user.",
)
symbol_option = click.option(
    "--symbol",
    metavar="SYMBOL",
    default=None,
    help="Only this instrument, as the broker names it (case does not matter).",
)
json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON array instead of a table.",
)
jsonl_option = click.option(
    "--jsonl",
    "as_jsonl",
    is_flag=True,
    help="Print JSON Lines instead of a table: one JSON object per line.",
)


@click.command()
@user_option
@connection_option
@symbol_option
@json_option
@jsonl_option
@click.pass_context
def positions(
    ctx: click.Context,
    user_name: str | None,
    connection_name: str | None,
    symbol: str | None,
    as_json: bool,
    as_jsonl: bool,
) -> None:
    """Show a user's positions as of their last sync.

    In JSON, amounts are strings holding the exact decimal digits and times are ISO 8601 with
    their UTC offset.
    """
    if as_json and as_jsonl:
        raise click.UsageError("--json and --jsonl do not go together: choose one")

    async def run() -> tuple[User, Holdings]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            holdings = await app.portfolio.positions(
                owner.id, connection=connection_name, symbol=symbol
            )
            return owner, holdings

    owner, holdings = asyncio.run(run())
    shown, names = holdings.positions, holdings.connection_names
    if as_json or as_jsonl:
        writer = JsonLinesWriter(_echo) if as_jsonl else JsonArrayWriter(_echo)
        # Positions are one row per instrument held (read at once); the writer is the one
        # trades stream through, so both commands write the same forms.
        with quiet_broken_pipe():
            writer.page([position_json(p, connection=names[p.connection_id]) for p in shown])
            writer.close()
        return
    if not shown:
        click.echo(
            f"No positions stored for {owner.name}{describe_filters(connection_name, symbol)}."
        )
        click.echo(f"Positions are stored by `tradecore sync --user {owner.name}`.")
        return
    table = positions_table(shown, connection_names=names, title=f"Positions of {owner.name}")
    print_table(Console(soft_wrap=True), table)


@click.command()
@user_option
@connection_option
@symbol_option
@click.option(
    "--since",
    metavar="YYYY-MM-DD[THH:MM]",
    callback=_utc_time,
    help="Only trades executed at or after this time (UTC).",
)
@click.option(
    "--until",
    metavar="YYYY-MM-DD[THH:MM]",
    callback=_utc_time,
    help="Only trades executed before this time (UTC).",
)
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="Every trade selected, oldest first, printed as it is read (a table per "
    f"{STREAM_PAGE_SIZE} trades) instead of one page.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    default=None,
    help="Only the newest N of the trades selected, oldest first.",
)
@click.option(
    "--page-size",
    type=int,
    metavar="N",
    default=None,
    help=f"Trades per page (1 to {MAX_PAGE_SIZE}; {TABLE_PAGE_SIZE} unless given): one page, "
    "newest first, and the cursor of the next.",
)
@click.option(
    "--cursor",
    metavar="CURSOR",
    default=None,
    help="Show the page after the one that printed this cursor.",
)
@json_option
@jsonl_option
@click.pass_context
def trades(
    ctx: click.Context,
    user_name: str | None,
    connection_name: str | None,
    symbol: str | None,
    since: datetime | None,
    until: datetime | None,
    every: bool,
    limit: int | None,
    page_size: int | None,
    cursor: str | None,
    as_json: bool,
    as_jsonl: bool,
) -> None:
    """Show a user's stored trades: a page on a terminal, every trade in JSON.

    Without options: the newest 50 trades, newest first, and the --cursor of the next (older)
    page. --all prints every trade selected and --limit N the newest N, oldest first, a table
    per 500 trades as they are read. --json (one array) and --jsonl (one object per line)
    write every trade selected, oldest first, as they are read; with --page-size or --cursor,
    --json prints one page and its cursor.

    Times are UTC: --since 2024-01-01 --until 2024-02-01 selects January. In JSON, amounts are
    strings holding the exact decimal digits and times are ISO 8601 with their UTC offset.
    """
    start, end = since, until
    if start is not None and end is not None and start >= end:
        raise click.UsageError("--since must be earlier than --until")
    paged = page_size is not None or cursor is not None
    _refuse_conflicts(every=every, limit=limit, paged=paged, json=as_json, jsonl=as_jsonl)
    query = TradeQuery(connection=connection_name, symbol=symbol, since=start, until=end)
    if (as_json or as_jsonl or every or limit is not None) and not paged:
        output: Output = "jsonl" if as_jsonl else "json" if as_json else "table"
        stream_trades(ctx, user_name, query, limit=limit, output=output)
        return
    _trade_page(ctx, user_name, query, page_size, cursor, as_json)


def _refuse_conflicts(
    *, every: bool, limit: int | None, paged: bool, json: bool, jsonl: bool
) -> None:
    # Options that ask for two different listings at once.
    if json and jsonl:
        raise click.UsageError("--json and --jsonl do not go together: choose one")
    if limit is not None and paged:
        raise click.UsageError("--limit does not go with --page-size or --cursor")
    if every and limit is not None:
        raise click.UsageError("--all lists every trade and --limit the newest N: choose one")
    if every and paged:
        raise click.UsageError(
            "--all lists every trade at once; it does not go with --page-size or --cursor"
        )
    if jsonl and paged:
        raise click.UsageError(
            "--jsonl lists every trade; for one page and its cursor, use --json with "
            "--page-size or --cursor"
        )


def _trade_page(
    ctx: click.Context,
    user_name: str | None,
    query: TradeQuery,
    page_size: int | None,
    cursor: str | None,
    as_json: bool,
) -> None:
    # One page, newest first; the service checks the size and the cursor.
    async def run() -> tuple[User, TradesPage]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            page = await app.portfolio.trade_page(
                owner.id,
                connection=query.connection,
                symbol=query.symbol,
                since=query.since,
                until=query.until,
                cursor=cursor,
                limit=TABLE_PAGE_SIZE if page_size is None else page_size,
            )
            return owner, page

    owner, page = asyncio.run(run())
    names = page.connection_names
    if as_json:
        shown = [trade_json(each, connection=names[each.connection_id]) for each in page.items]
        click.echo(json.dumps({"trades": shown, "next_cursor": page.next_cursor}, indent=2))
        return
    if not page.items and cursor is None:
        dated = query.since is not None or query.until is not None
        filters = describe_filters(query.connection, query.symbol, dated=dated)
        click.echo(f"No trades stored for {owner.name}{filters}.")
        click.echo(f"Trades are stored by `tradecore sync --user {owner.name}`.")
        return
    with quiet_broken_pipe():
        if page.items:
            table = trades_table(
                page.items, connection_names=names, title=f"Trades of {owner.name}"
            )
            print_table(Console(soft_wrap=True), table)
        click.echo(f"{len(page.items)} trade(s), newest first.")
        if page.next_cursor is None:
            click.echo("No older trades.")
            return
        click.echo(f"Older trades: the same command with --cursor {page.next_cursor}")
        click.echo(
            "Every trade, oldest first: the same command with --all, or --json or --jsonl for "
            "scripts (without --page-size and --cursor)."
        )


@click.command()
@user_option
@connection_option
@click.option(
    "--since",
    metavar="YYYY-MM-DD[THH:MM]",
    callback=_utc_time,
    help="Only values recorded at or after this time (UTC).",
)
@click.option(
    "--until",
    metavar="YYYY-MM-DD[THH:MM]",
    callback=_utc_time,
    help="Only values recorded before this time (UTC).",
)
@click.option(
    "--points",
    "max_points",
    type=click.IntRange(min=1, max=MAX_EQUITY_POINTS),
    metavar="N",
    default=MAX_EQUITY_POINTS,
    show_default=True,
    help="At most N points per series; a longer history is thinned to the last point of "
    "equal time buckets.",
)
@json_option
@click.pass_context
def equity(
    ctx: click.Context,
    user_name: str | None,
    connection_name: str | None,
    since: datetime | None,
    until: datetime | None,
    max_points: int,
    as_json: bool,
) -> None:
    """Show each connection's market value over time, as every sync recorded it.

    One series per connection and currency: the sum of the market values the broker reported
    for the connection's positions in that currency (currencies are never added together);
    positions without a market value are counted as unpriced. In JSON, values are strings
    holding the exact decimal digits and times are ISO 8601 with their UTC offset.
    """
    if since is not None and until is not None and since >= until:
        raise click.UsageError("--since must be earlier than --until")

    async def run() -> tuple[User, EquityHistory]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            found = await app.portfolio.equity(
                owner.id,
                connection=connection_name,
                since=since,
                until=until,
                max_points=max_points,
            )
            return owner, found

    owner, history = asyncio.run(run())
    if as_json:
        click.echo(json.dumps(equity_json(history), indent=2))
        return
    if not history.series:
        dated = since is not None or until is not None
        filters = describe_filters(connection_name, None, dated=dated)
        click.echo(f"No equity recorded for {owner.name}{filters}.")
        click.echo(
            f"Each `tradecore sync --user {owner.name}` records it, for the positions the "
            "broker gives a market value."
        )
        return
    console = Console(soft_wrap=True)
    for each in history.series:
        title = f"Equity of {owner.name}: {each.connection} ({each.currency})"
        print_table(console, equity_table(each, title=title))
        thinned = f" of {each.stored} stored" if len(each.points) < each.stored else ""
        click.echo(f"{len(each.points)} point(s){thinned}.")
