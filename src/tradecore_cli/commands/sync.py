"""``tradecore sync``: fetch positions and new trades from a user's brokers and store them."""

from __future__ import annotations

import asyncio
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from tradecore.domain import BrokerConnection
from tradecore.services import SyncOutcome, SyncResult
from tradecore_cli.app import find_user, open_app, user_option
from tradecore_cli.output import Output, json_option, quiet_option

__all__ = ["sync"]


@click.command()
@user_option
@click.option(
    "--connection",
    "connection_name",
    metavar="NAME",
    default=None,
    help="Sync only this connection (by default: every active connection of the user).",
)
@click.option(
    "--reset-cursor",
    "reset_account",
    metavar="ACCOUNT",
    default=None,
    help="First forget where the trade sync of this account of --connection stands, so its "
    "trades are read from the start again (stored trades stay, none is stored twice); "
    "for a corrupt cursor. Binance accounts: spot, usdm-futures.",
)
@json_option
@quiet_option
@click.pass_context
def sync(
    ctx: click.Context,
    user_name: str | None,
    connection_name: str | None,
    reset_account: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Fetch positions and new trades from the user's brokers and store them.

    Running it again only adds what is new: a trade is never stored twice. Prints, per
    connection, the accounts, positions and trades seen and new. A connection that fails is
    reported in one sentence and the others are still synced; the exit status is then 1.
    A long backfill shows a counter of the trades fetched (on a terminal).
    With --quiet (for cron) only failures are printed.

    --reset-cursor ACCOUNT --connection NAME resets that account's sync cursor, then syncs the
    connection: the way out of a cursor the broker refuses, without removing the connection.
    """
    out = Output(as_json=as_json, quiet=quiet)
    if reset_account is not None and connection_name is None:
        raise click.UsageError("--reset-cursor needs --connection NAME (whose cursor to reset)")

    async def run() -> tuple[str, list[SyncOutcome]]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            # On standard error, so the summary on standard output stays clean for scripts;
            # only on a terminal; transient, so only the summary remains once done.
            console = Console(stderr=True)
            with (
                Progress(
                    SpinnerColumn(),
                    TextColumn("{task.description}"),
                    TextColumn("{task.completed:.0f} trades fetched"),
                    TimeElapsedColumn(),
                    console=console,
                    transient=True,
                    disable=quiet or not console.is_terminal,
                ) as progress,
                out.guarded(),
            ):
                if reset_account is not None and connection_name is not None:
                    await app.portfolio.reset_cursor(owner.id, connection_name, reset_account)
                    out.note(
                        f"Reset the sync cursor of {connection_name.strip()} / "
                        f"{reset_account.strip()}: its trades are read from the start again "
                        "(those stored stay)."
                    )
                outcomes = await app.portfolio.sync(
                    owner.id, connection=connection_name, progress=_Progress(progress)
                )
            return owner.name, outcomes

    owner_name, outcomes = asyncio.run(run())
    out.data({"user": owner_name, "connections": [_outcome_json(each) for each in outcomes]})
    if not outcomes:
        out.note(
            f"{owner_name} has no active broker connections; add one with "
            f"`tradecore broker add TYPE --name NAME --user {owner_name}`."
        )
        return
    errors = [outcome.error for outcome in outcomes if outcome.error is not None]
    if errors and ctx.find_root().obj.get("traceback"):
        raise errors[0]
    for outcome in outcomes:
        where = f"{outcome.connection.name} ({outcome.connection.broker})"
        if outcome.result is not None:
            out.say(f"{where}: {_counts(outcome.result)}.")
        elif outcome.error is not None:
            out.error(f"Error: sync of {where} failed: {outcome.problem}")
    if errors:
        ctx.exit(1)


class _Progress:
    # One spinner line per connection with the trades fetched so far.
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def _label(self, connection: BrokerConnection) -> str:
        return escape(f"{connection.name} ({connection.broker})")

    def started(self, connection: BrokerConnection) -> None:
        self._tasks[connection.id] = self._progress.add_task(self._label(connection), total=None)

    def fetched(self, connection: BrokerConnection, trades: int) -> None:
        self._progress.advance(self._tasks[connection.id], trades)

    def finished(self, outcome: SyncOutcome) -> None:
        task = self._tasks[outcome.connection.id]
        # A total equal to the count stops the spinner without changing the count shown.
        done = next(each.completed for each in self._progress.tasks if each.id == task)
        state = "failed" if outcome.error is not None else "done"
        label = self._label(outcome.connection)
        self._progress.update(task, total=done, description=f"{label} {state}")


def _counts(result: SyncResult) -> str:
    return (
        f"{len(result.accounts)} account(s), {result.positions} position(s), "
        f"{result.trades_seen} trade(s) seen, {result.trades_new} new"
    )


def _outcome_json(outcome: SyncOutcome) -> dict[str, Any]:
    # One connection's sync for --json: the counts, or the error (secrets masked).
    result = outcome.result
    return {
        "connection": outcome.connection.name,
        "broker": outcome.connection.broker,
        "ok": result is not None,
        "accounts": None if result is None else [account.account_id for account in result.accounts],
        "positions": None if result is None else result.positions,
        "trades_seen": None if result is None else result.trades_seen,
        "trades_new": None if result is None else result.trades_new,
        "error": outcome.problem if result is None else None,
    }
