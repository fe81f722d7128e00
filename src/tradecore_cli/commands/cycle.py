"""``tradecore cycle``: run one full automation cycle for a user now, in this process."""

from __future__ import annotations

import asyncio

import click

from tradecore.domain import RunStatus, Trigger
from tradecore.services import PassReport
from tradecore_cli.app import find_user, open_app, user_option
from tradecore_cli.render_runs import leased_run_line

__all__ = ["cycle"]


@click.command()
@user_option
@click.pass_context
def cycle(ctx: click.Context, user_name: str | None) -> None:
    """Run one full automation cycle for a user now: sync every active connection, reconcile
    its open orders, run the active strategies (through the risk checks; dry runs place
    nothing), store the run, and send the digest to the console and the user's notification
    targets.

    This is what the scheduler does every N minutes; use it to try a strategy by hand. Like the
    scheduler, it claims the user's cycle first, so it never runs beside a daemon's cycle of the
    same user (it says so and exits 1 instead). The exit status is 0 when the run succeeded, 1
    when it was partial, failed or could not run.
    """

    async def run() -> tuple[str, PassReport]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            report = await app.scheduler(concurrency=1).run_pass(
                trigger=Trigger.MANUAL, user_ids=[owner.id], force=True
            )
            return owner.name, report

    name, report = asyncio.run(run())
    for busy in report.busy:
        click.echo(f"{name}: not run, {busy.partition(': ')[2]}; try again when it ends", err=True)
    for leased in report.runs:
        if leased.error is not None:
            click.echo(leased_run_line(leased, name), err=True)
    ok = bool(report.runs) and all(r.status is RunStatus.SUCCESS for r in report.runs)
    ctx.exit(0 if ok else 1)
