"""``tradecore automation start|pause|resume|stop|frequency|run-now|status|logs|prune``: each
user's schedule, and the run ledger.

The controls only change what is stored; the schedulers (``tradecore daemon``, or ``tradecore
run`` from cron) read it. See docs/automation.md.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import click

from tradecore.domain import AutomationConfig, AutomationRun, AutomationState, User
from tradecore.errors import DomainError
from tradecore.services import AutomationStatus, Daemons, PruneResult, RunQueued
from tradecore_cli.app import find_user, open_app, user_option
from tradecore_cli.render_runs import (
    at,
    daemons_lines,
    run_data,
    run_lines,
    status_data,
    status_lines,
    statuses_table,
)

if TYPE_CHECKING:
    from tradecore_adapters.bootstrap import Application

__all__ = ["automation"]

Control = Callable[["Application", str], Awaitable[AutomationConfig]]


@click.group()
def automation() -> None:
    """Each user's automation: start, pause, resume or stop the schedule, change how often it
    runs, ask for a run now, and see its status and run history."""


def _describe(config: AutomationConfig, user: User) -> str:
    state = config.state.value
    text = f"{user.name}: automation {state}, every {config.frequency_minutes} min"
    if config.state is AutomationState.ACTIVE and config.next_due_at is not None:
        text += f"; next run {at(config.next_due_at)}"
    elif config.state is AutomationState.PAUSED and config.next_due_at is not None:
        text += f"; schedule kept (next slot {at(config.next_due_at)}): resume to go on"
    return text + "."


def _control(ctx: click.Context, user_name: str | None, control: Control) -> None:
    async def run() -> tuple[User, AutomationConfig]:
        async with open_app(ctx) as app:
            user = await find_user(app, user_name)
            return user, await control(app, user.id)

    try:
        user, config = asyncio.run(run())
    except DomainError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(_describe(config, user))


@automation.command()
@user_option
@click.pass_context
def start(ctx: click.Context, user_name: str | None) -> None:
    """Start the schedule: the first cycle is due now, then one every FREQUENCY minutes
    (AUTOMATION_DEFAULT_FREQUENCY, 30 when unset). Starting a paused user resumes it."""
    _control(ctx, user_name, lambda app, user_id: app.automation.start(user_id))


@automation.command()
@user_option
@click.pass_context
def pause(ctx: click.Context, user_name: str | None) -> None:
    """Pause: no scheduled cycle runs and no strategy trades, but the schedule is kept."""
    _control(ctx, user_name, lambda app, user_id: app.automation.pause(user_id))


@automation.command()
@user_option
@click.pass_context
def resume(ctx: click.Context, user_name: str | None) -> None:
    """Resume a paused schedule on its own slots (slots missed while paused are skipped)."""
    _control(ctx, user_name, lambda app, user_id: app.automation.resume(user_id))


@automation.command()
@user_option
@click.pass_context
def stop(ctx: click.Context, user_name: str | None) -> None:
    """Stop and clear the schedule (start begins a new one)."""
    _control(ctx, user_name, lambda app, user_id: app.automation.stop(user_id))


@automation.command()
@click.argument("minutes", type=int)
@user_option
@click.pass_context
def frequency(ctx: click.Context, minutes: int, user_name: str | None) -> None:
    """Run every MINUTES minutes (5 to 120), from one new period after the last slot."""
    _control(ctx, user_name, lambda app, user_id: app.automation.set_frequency(user_id, minutes))


@automation.command("run-now")
@user_option
@click.pass_context
def run_now(ctx: click.Context, user_name: str | None) -> None:
    """Queue one cycle now, whatever the state: a running daemon starts it within
    AUTOMATION_IDLE_CHECK_SECONDS (15 s by default), or else the next `tradecore run`. To run
    a cycle in this process instead, use `tradecore cycle`."""

    async def run() -> tuple[User, RunQueued]:
        async with open_app(ctx) as app:
            user = await find_user(app, user_name)
            return user, await app.automation.run_now(user.id)

    user, queued = asyncio.run(run())
    click.echo(f"{user.name}: a cycle is queued; the next scheduler pass runs it.")
    if not queued.daemon_running:
        click.echo("No daemon is running: run `tradecore run` (or start `tradecore daemon`).")


@automation.command()
@user_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def status(ctx: click.Context, user_name: str | None, as_json: bool) -> None:
    """State, frequency, next and last run, last duration and the success rate of recent runs
    (of every user when there are several and no --user), and the running daemons."""

    async def run() -> tuple[list[tuple[str, AutomationStatus]], Daemons]:
        async with open_app(ctx) as app:
            listed = [summary.user for summary in await app.users.list()]
            chosen = [await find_user(app, user_name)] if user_name or len(listed) <= 1 else listed
            statuses = await app.automation.statuses([user.id for user in chosen])
            rows = [(user.name, one) for user, one in zip(chosen, statuses, strict=True)]
            return rows, await app.automation.daemons()

    rows, daemons = asyncio.run(run())
    if as_json:
        data = [status_data(one, name) for name, one in rows]
        click.echo(json.dumps(data[0] if user_name or len(data) == 1 else data, indent=2))
        return
    if len(rows) == 1:
        name, one = rows[0]
        for line in status_lines(one, name):
            click.echo(line)
    else:
        from rich.console import Console  # a table only for several users

        from tradecore_cli.render import print_table

        print_table(Console(), statuses_table(rows))
    for line in daemons_lines(
        list(daemons.registered), daemons.now, silent_after=daemons.silent_after
    ):
        click.echo(line)


@automation.command()
@user_option
@click.option(
    "--limit", type=click.IntRange(1, 10_000), default=10, show_default=True, help="Newest N runs."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def logs(ctx: click.Context, user_name: str | None, limit: int, as_json: bool) -> None:
    """The run ledger: the newest runs, each with its steps (newest first)."""

    async def run() -> tuple[User, list[AutomationRun]]:
        async with open_app(ctx) as app:
            user = await find_user(app, user_name)
            return user, await app.automation.runs(user.id, limit=limit)

    user, runs = asyncio.run(run())
    if as_json:
        click.echo(json.dumps([run_data(r) for r in runs], indent=2))
        return
    if not runs:
        click.echo(f"{user.name} has no runs yet.")
        return
    for r in runs:
        for line in run_lines(r):
            click.echo(line)


@automation.command()
@click.pass_context
def prune(ctx: click.Context) -> None:
    """Apply the run retention now (AUTOMATION_RUN_RETENTION_DAYS and _COUNT); the daemon does
    it every hour and `tradecore run` after each pass."""

    async def run() -> PruneResult:
        async with open_app(ctx) as app:
            return await app.automation.prune()

    pruned = asyncio.run(run())
    click.echo(
        f"Pruned {pruned.runs} run(s), {pruned.lease_intervals} lease record(s) and "
        f"{pruned.equity_points} equity point(s)."
    )
