"""``tradecore sync``: fetch positions and new trades from a user's brokers and store them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import click
from attrs import frozen
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tradecore.domain import BrokerConnection
from tradecore.services import SyncResult, describe_broker_failure, open_broker, sync_connection
from tradecore_adapters.bootstrap import Application
from tradecore_cli.app import connection_named, open_app, user_named, user_option

__all__ = ["sync"]


@frozen
class _Outcome:
    connection: BrokerConnection
    result: SyncResult | None
    error: BaseException | None


@click.command()
@user_option
@click.option(
    "--connection",
    "connection_name",
    metavar="NAME",
    default=None,
    help="Sync only this connection (by default: every active connection of the user).",
)
@click.pass_context
def sync(ctx: click.Context, user_name: str | None, connection_name: str | None) -> None:
    """Fetch positions and new trades from the user's brokers and store them.

    Running it again only adds what is new: a trade is never stored twice. Prints, per
    connection, the accounts, positions and trades seen and new. A connection that fails is
    reported in one sentence and the others are still synced; the exit status is then 1.
    A long backfill shows a counter of the trades fetched (on a terminal).
    """

    async def run() -> tuple[str, list[_Outcome]]:
        async with open_app(ctx) as app:
            async with app.repository.unit_of_work() as uow:
                owner = await user_named(uow, user_name)
                if connection_name is not None:
                    connections = [await connection_named(uow, owner, connection_name)]
                else:
                    connections = list(await uow.connections.list(owner.id, active_only=True))
            return owner.name, await _sync_all(app, connections)

    owner_name, outcomes = asyncio.run(run())
    if not outcomes:
        click.echo(
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
            click.echo(f"{where}: {_counts(outcome.result)}.")
        elif outcome.error is not None:
            reason = describe_broker_failure(outcome.error, outcome.connection)
            click.echo(f"Error: sync of {where} failed: {reason}", err=True)
    if errors:
        ctx.exit(1)


async def _sync_all(app: Application, connections: Sequence[BrokerConnection]) -> list[_Outcome]:
    if not connections:
        return []
    limit = asyncio.Semaphore(max(1, app.settings.max_concurrent_connections))
    # On standard error, so the summary on standard output stays clean for scripts; only on a
    # terminal; transient, so only the summary remains once done.
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:.0f} trades fetched"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:

        async def one(connection: BrokerConnection) -> _Outcome:
            label = f"{connection.name} ({connection.broker})"
            task = progress.add_task(label, total=None)

            def fetched(count: int) -> None:
                progress.advance(task, count)

            async with limit:
                outcome = await _sync_one(app, connection, fetched)
            # A total equal to the count stops the spinner without changing the count shown.
            done = next(each.completed for each in progress.tasks if each.id == task)
            state = "failed" if outcome.error is not None else "done"
            progress.update(task, total=done, description=f"{label} {state}")
            return outcome

        return list(await asyncio.gather(*(one(connection) for connection in connections)))


async def _sync_one(
    app: Application, connection: BrokerConnection, on_trades: Callable[[int], None]
) -> _Outcome:
    # One connection's failure is its outcome, never an exception that stops the others.
    try:
        async with open_broker(
            connection, brokers=app.registry.brokers, repository=app.repository, clock=app.clock
        ) as broker:
            result = await sync_connection(
                repository=app.repository,
                broker=broker,
                connection=connection,
                clock=app.clock,
                on_trades=on_trades,
            )
    except Exception as exc:
        return _Outcome(connection, None, exc)
    return _Outcome(connection, result, None)


def _counts(result: SyncResult) -> str:
    return (
        f"{len(result.accounts)} account(s), {result.positions} position(s), "
        f"{result.trades_seen} trade(s) seen, {result.trades_new} new"
    )
