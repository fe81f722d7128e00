"""``tradecore run`` (one pass, for cron) and ``tradecore daemon`` (until SIGTERM/SIGINT).

Both claim each cycle as a lease in the database, so they can run side by side, on several
machines when the database is PostgreSQL, without ever running one user's cycle twice at once.
See docs/operations.md.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from typing import Any

import click

from tradecore.domain import Trigger
from tradecore.errors import NotFound
from tradecore.services import PassReport
from tradecore_cli.app import find_user, open_app
from tradecore_cli.output import Output, json_option, quiet_option
from tradecore_cli.render_runs import busy_data, leased_run_data, leased_run_line
from tradecore_cli.settings import apply_verbosity, settings_of

__all__ = ["daemon", "run"]


_verbose = click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log more: -v the cycles' progress (INFO), -vv and -vvv everything (DEBUG).",
)


def _traceback(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.find_root().obj["traceback"] = True
    return value


_traceback_option = click.option(
    "--traceback",
    is_flag=True,
    expose_value=False,
    callback=_traceback,
    help="Show the full traceback of an error (for bug reports).",
)


@click.command()
@click.option(
    "--user",
    "user_names",
    metavar="NAME",
    multiple=True,
    help="Only this user (repeatable); by default every user whose cycle is due.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Run the cycles whether due or not, even when automation is stopped or paused.",
)
@json_option
@quiet_option
@_verbose
@_traceback_option
@click.pass_context
def run(
    ctx: click.Context,
    user_names: tuple[str, ...],
    force: bool,
    as_json: bool,
    quiet: bool,
    verbose: int,
) -> None:
    """One pass: run the cycle of every user whose cycle is due, then exit (for cron).

    Safe to run beside daemons and other passes: each cycle is claimed in the database first.
    The exit status is 0 when every cycle that ran succeeded (or none was due), 1 when one was
    partial, failed or could not finish, or a requested user's cycle was held by another
    scheduler. With --quiet (for cron) it prints nothing unless a cycle did not succeed or was
    skipped (on standard error); the digests are not printed on the console.
    """
    apply_verbosity(ctx, verbose)
    out = Output(as_json=as_json, quiet=quiet)

    async def go() -> tuple[PassReport, dict[str, str], list[dict[str, Any]]]:
        async with open_app(ctx) as app:
            ids: list[str] | None = None
            if user_names:
                users = [await find_user(app, name) for name in user_names]
                ids = [user.id for user in users]
            else:
                users = [summary.user for summary in await app.users.list()]
            names = {user.id: user.name for user in users}
            with out.guarded():
                report = await app.scheduler().run_pass(
                    trigger=Trigger.CRON, user_ids=ids, force=force
                )
            runs = []
            for leased in report.runs:
                name = names.get(leased.user_id, leased.user_id)
                stored = None
                if as_json:
                    try:
                        stored = await app.automation.run(leased.user_id, leased.run_id)
                    except NotFound:  # a cycle that did not get to record its run
                        stored = None
                runs.append(leased_run_data(leased, name, stored))
            return report, names, runs

    report, names, runs = asyncio.run(go())
    ok = report.ok and not report.busy
    out.data({"ok": ok, "runs": runs, "busy": [busy_data(busy, names) for busy in report.busy]})
    for leased in report.runs:
        line = leased_run_line(leased, names.get(leased.user_id, leased.user_id))
        if quiet and not leased.ok:
            out.error(line)
        else:
            out.say(line)
    for busy in report.busy:
        user_id, _, why = busy.partition(": ")
        line = f"{names.get(user_id, user_id)}: skipped, {why}"
        if quiet:
            out.error(line)
        else:
            out.say(line)
    if not report.runs and not report.busy:
        out.say("No cycle was due.")
    ctx.exit(0 if ok else 1)


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="How many cycles run at once (default AUTOMATION_MAX_CONCURRENT_CYCLES, 4).",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Print no banner when starting and stopping, only errors (logs follow -v).",
)
@_verbose
@_traceback_option
@click.pass_context
def daemon(ctx: click.Context, concurrency: int | None, quiet: bool, verbose: int) -> None:
    """Run due cycles until SIGTERM or SIGINT (Ctrl-C), sleeping until the next one is due.

    Several daemons can share one PostgreSQL database, on any number of machines; on SQLite run
    one (a daemon of another host is refused). On SIGTERM it starts nothing new, lets running
    cycles finish within AUTOMATION_SHUTDOWN_GRACE seconds, then releases their leases.
    """
    settings = settings_of(ctx)
    apply_verbosity(ctx, verbose)

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with open_app(ctx) as app:
            scheduler = app.scheduler(concurrency=concurrency)

            def ready() -> None:
                if quiet:
                    return
                click.echo(
                    f"tradecore daemon {scheduler.owner}: running up to "
                    f"{scheduler.concurrency} cycle(s) at once; stop with SIGTERM or Ctrl-C.",
                    err=True,
                )

            await scheduler.serve(
                stop,
                host=socket.gethostname(),
                pid=os.getpid(),
                single_host=settings.database.startswith("sqlite"),
                on_ready=ready,
            )
        if not quiet:
            click.echo("tradecore daemon: stopped.", err=True)

    asyncio.run(go())
