"""``tradecore automation start|pause|resume|stop|frequency|run-now|status|logs|prune``: each
user's schedule, and the run ledger.

The controls only change what is stored; the schedulers (``tradecore daemon``, or ``tradecore
run`` from cron) read it. See docs/automation.md.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import click
from rich.console import Console

from tradecore.domain import AutomationConfig, AutomationRun, AutomationState, DaemonInfo, User
from tradecore.errors import DomainError
from tradecore.ports import RepositoryPort
from tradecore.services import (
    AutomationStatus,
    automation_status,
    change_frequency,
    pause_automation,
    prune_ledger,
    request_run,
    resume_automation,
    start_automation,
    stop_automation,
)
from tradecore_cli.app import open_app, user_named, user_option
from tradecore_cli.render import print_table
from tradecore_cli.render_runs import (
    at,
    daemons_lines,
    run_data,
    run_lines,
    status_data,
    status_lines,
    statuses_table,
)
from tradecore_cli.settings import settings_of

__all__ = ["automation"]

Control = Callable[..., Awaitable[AutomationConfig]]


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


def _control(ctx: click.Context, user_name: str | None, control: Control, **kwargs: object) -> None:
    default = settings_of(ctx).default_frequency_minutes

    async def run() -> tuple[User, AutomationConfig]:
        async with open_app(ctx) as app:
            async with app.repository.unit_of_work() as uow:
                user = await user_named(uow, user_name)
            config = await control(
                app.repository, user.id, default_frequency_minutes=default, **kwargs
            )
            return user, config

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
    _control(ctx, user_name, start_automation)


@automation.command()
@user_option
@click.pass_context
def pause(ctx: click.Context, user_name: str | None) -> None:
    """Pause: no scheduled cycle runs and no strategy trades, but the schedule is kept."""
    _control(ctx, user_name, pause_automation)


@automation.command()
@user_option
@click.pass_context
def resume(ctx: click.Context, user_name: str | None) -> None:
    """Resume a paused schedule on its own slots (slots missed while paused are skipped)."""
    _control(ctx, user_name, resume_automation)


@automation.command()
@user_option
@click.pass_context
def stop(ctx: click.Context, user_name: str | None) -> None:
    """Stop and clear the schedule (start begins a new one)."""
    _control(ctx, user_name, stop_automation)


@automation.command()
@click.argument("minutes", type=int)
@user_option
@click.pass_context
def frequency(ctx: click.Context, minutes: int, user_name: str | None) -> None:
    """Run every MINUTES minutes (5 to 120), from one new period after the last slot."""
    _control(ctx, user_name, change_frequency, minutes=minutes)


@automation.command("run-now")
@user_option
@click.pass_context
def run_now(ctx: click.Context, user_name: str | None) -> None:
    """Queue one cycle now, whatever the state: a running daemon starts it within
    AUTOMATION_IDLE_CHECK_SECONDS (15 s by default), or else the next `tradecore run`. To run
    a cycle in this process instead, use `tradecore cycle`."""
    settings = settings_of(ctx)
    default = settings.default_frequency_minutes
    silent_after = timedelta(seconds=settings.lease_seconds * 3)

    async def run() -> tuple[User, bool]:
        async with open_app(ctx) as app:
            async with app.repository.unit_of_work() as uow:
                user = await user_named(uow, user_name)
            await request_run(app.repository, user.id, default_frequency_minutes=default)
            async with app.repository.unit_of_work() as uow:
                now = await uow.leases.now()
                alive = [d for d in await uow.daemons.list() if now - d.seen_at <= silent_after]
            return user, bool(alive)

    user, daemon_running = asyncio.run(run())
    click.echo(f"{user.name}: a cycle is queued; the next scheduler pass runs it.")
    if not daemon_running:
        click.echo("No daemon is running: run `tradecore run` (or start `tradecore daemon`).")


async def _status_of(repository: RepositoryPort, user: User) -> tuple[str, AutomationStatus]:
    return user.name, await automation_status(repository, user.id)


@automation.command()
@user_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def status(ctx: click.Context, user_name: str | None, as_json: bool) -> None:
    """State, frequency, next and last run, last duration and the success rate of recent runs
    (of every user when there are several and no --user), and the running daemons."""

    async def run() -> tuple[list[tuple[str, AutomationStatus]], datetime, list[DaemonInfo]]:
        async with open_app(ctx) as app:
            async with app.repository.unit_of_work() as uow:
                users = await uow.users.list()
                chosen = (
                    [await user_named(uow, user_name)] if user_name or len(users) <= 1 else users
                )
                daemons = list(await uow.daemons.list())
                now = await uow.leases.now()
            rows = [await _status_of(app.repository, user) for user in chosen]
            return rows, now, daemons

    rows, now, daemons = asyncio.run(run())
    if as_json:
        data = [status_data(one, name) for name, one in rows]
        click.echo(json.dumps(data[0] if user_name or len(data) == 1 else data, indent=2))
        return
    if len(rows) == 1:
        name, one = rows[0]
        for line in status_lines(one, name):
            click.echo(line)
    else:
        print_table(Console(), statuses_table(rows))
    silent_after = timedelta(seconds=settings_of(ctx).lease_seconds * 3)
    for line in daemons_lines(daemons, now, silent_after=silent_after):
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
        async with open_app(ctx) as app, app.repository.unit_of_work() as uow:
            user = await user_named(uow, user_name)
            return user, list(await uow.runs.list(user.id, limit=limit))

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
    retention = settings_of(ctx).retention

    async def run() -> tuple[int, int]:
        async with open_app(ctx) as app:
            result = await prune_ledger(app.repository, retention)
            return result.runs, result.lease_intervals

    runs, intervals = asyncio.run(run())
    click.echo(f"Pruned {runs} run(s) and {intervals} lease record(s).")
