"""``tradecore trades`` over every trade selected (``--json``, ``--jsonl``, ``--all``,
``--limit``): the rows are written a page at a time as the service reads them
(:meth:`~tradecore.services.Portfolio.stream_trades`), so neither memory nor the wait for the
first line grows with the user's history."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from datetime import datetime
from typing import Final, Literal

import click
from attrs import frozen
from rich.console import Console

from tradecore_cli.app import find_user, open_app
from tradecore_cli.listing_output import (
    JsonArrayWriter,
    JsonLinesWriter,
    quiet_broken_pipe,
    write_pages,
)
from tradecore_cli.render_trades import trade_json, trades_table

__all__ = [
    "TABLE_PAGE_SIZE",
    "Output",
    "TradeQuery",
    "describe_filters",
    "echo_text",
    "stream_trades",
]

TABLE_PAGE_SIZE: Final = 50
"""The trades of one page on the terminal (the web dashboard's page size too)."""

_NEVER_NARROWER = 10_000  # characters

Output = Literal["json", "jsonl", "table"]
"""How the listing is written: a JSON array, JSON lines, or tables."""


@frozen(kw_only=True)
class TradeQuery:
    """Which trades: of one connection (by name) or symbol, executed at or after ``since`` and
    before ``until`` (UTC)."""

    connection: str | None = None
    symbol: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def echo_text(text: str) -> None:
    """Write ``text`` to standard output as it is, and flush it (``click.echo`` flushes)."""
    click.echo(text, nl=False)


def stream_trades(
    ctx: click.Context,
    user_name: str | None,
    query: TradeQuery,
    *,
    limit: int | None,
    output: Output,
) -> None:
    """Write every trade of ``query`` (the newest ``limit`` with a limit), oldest first, as
    ``output`` (a JSON array, JSON lines, or a table per page), one page at a time. A reader
    that goes away (``| head``) ends the command quietly."""

    async def run() -> None:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            stream = await app.portfolio.stream_trades(
                owner.id,
                connection=query.connection,
                symbol=query.symbol,
                since=query.since,
                until=query.until,
                limit=limit,
            )
            names = stream.connection_names
            if output != "table":
                writer = (
                    JsonLinesWriter(echo_text) if output == "jsonl" else JsonArrayWriter(echo_text)
                )
                async with aclosing(stream.pages) as pages:
                    await write_pages(
                        pages, writer, lambda t: trade_json(t, connection=names[t.connection_id])
                    )
                return
            # Wide enough that no table is ever cut to the terminal: each prints at its
            # natural width, as print_table does, without measuring every cell twice.
            console = Console(soft_wrap=True, width=_NEVER_NARROWER)
            shown = 0
            async with aclosing(stream.pages) as pages:
                async for page in pages:
                    title = f"Trades of {owner.name}, oldest first" if not shown else ""
                    console.print(trades_table(page, connection_names=names, title=title))
                    shown += len(page)
            if shown:
                click.echo(f"{shown} trade(s), oldest first.")
                return
            dated = query.since is not None or query.until is not None
            filters = describe_filters(query.connection, query.symbol, dated=dated)
            click.echo(f"No trades stored for {owner.name}{filters}.")
            click.echo(f"Trades are stored by `tradecore sync --user {owner.name}`.")

    with quiet_broken_pipe():
        asyncio.run(run())


def describe_filters(connection: str | None, symbol: str | None, *, dated: bool = False) -> str:
    """The filters of a listing in words, `` (connection p1, symbol BTC)``, or nothing."""
    parts = []
    if connection is not None:
        parts.append(f"connection {connection}")
    if symbol is not None:
        parts.append(f"symbol {symbol}")
    if dated:
        parts.append("in that period")
    return f" ({', '.join(parts)})" if parts else ""
