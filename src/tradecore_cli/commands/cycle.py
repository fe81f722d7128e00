"""``tradecore cycle``: run one full automation cycle for a user now, in this process."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from tradecore.domain import RunStatus, Trigger
from tradecore.errors import NotFound
from tradecore_cli.app import find_user, open_app, user_option
from tradecore_cli.output import Output, json_option, quiet_option
from tradecore_cli.render_runs import busy_data, leased_run_data, leased_run_line

__all__ = ["cycle"]


@click.command()
@user_option
@json_option
@quiet_option
@click.pass_context
def cycle(ctx: click.Context, user_name: str | None, as_json: bool, quiet: bool) -> None:
    """Run one full automation cycle for a user now: sync every active connection, reconcile
    its open orders, run the active strategies (through the risk checks; dry runs place
    nothing), store the run, and send the digest to the console and the user's notification
    targets.

    This is what the scheduler does every N minutes; use it to try a strategy by hand. Like the
    scheduler, it claims the user's cycle first, so it never runs beside a daemon's cycle of the
    same user (it says so and exits 1 instead). The exit status is 0 when the run succeeded, 1
    when it was partial, failed or could not run. With --json the console digest goes to
    standard error and the run, with its steps, to standard output; with --quiet the console
    digest is not printed and only a cycle that did not succeed is reported.
    """
    out = Output(as_json=as_json, quiet=quiet)

    async def run() -> tuple[str, dict[str, Any]]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            with out.guarded():
                report = await app.scheduler(concurrency=1).run_pass(
                    trigger=Trigger.MANUAL, user_ids=[owner.id], force=True
                )
            names = {owner.id: owner.name}
            runs = []
            for leased in report.runs:
                stored = None
                if as_json:
                    try:
                        stored = await app.automation.run(owner.id, leased.run_id)
                    except NotFound:  # a cycle that did not get to record its run
                        stored = None
                runs.append(leased_run_data(leased, owner.name, stored))
            ok = bool(report.runs) and all(r.status is RunStatus.SUCCESS for r in report.runs)
            data = {
                "user": owner.name,
                "ok": ok,
                "runs": runs,
                "busy": [busy_data(busy, names) for busy in report.busy],
            }
            for busy in report.busy:
                out.error(
                    f"{owner.name}: not run, {busy.partition(': ')[2]}; try again when it ends"
                )
            for leased in report.runs:
                if leased.error is not None or (quiet and not leased.ok):
                    out.error(leased_run_line(leased, owner.name))
            return owner.name, data

    _, data = asyncio.run(run())
    out.data(data)
    ctx.exit(0 if data["ok"] else 1)
