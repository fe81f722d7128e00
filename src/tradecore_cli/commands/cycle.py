"""``tradecore cycle``: run one full automation cycle for a user now, in this process."""

from __future__ import annotations

import asyncio

import click

from tradecore.domain import RunStatus, Trigger
from tradecore_cli.app import open_app, user_named, user_option

__all__ = ["cycle"]


@click.command()
@user_option
@click.pass_context
def cycle(ctx: click.Context, user_name: str | None) -> None:
    """Run one full automation cycle for a user now: sync every active connection, reconcile
    its open orders, run the active strategies (through the risk checks; dry runs place
    nothing), store the run, and send the digest to the console and the user's notification
    targets.

    This is what the scheduler does every N minutes; use it to try a strategy by hand. The
    exit status is 0 when the run succeeded, 1 when it was partial or failed.
    """

    async def run() -> RunStatus:
        async with open_app(ctx) as app:
            async with app.repository.unit_of_work() as uow:
                owner = await user_named(uow, user_name)
            outcome = await app.cycle.run(owner.id, trigger=Trigger.MANUAL)
            return outcome.run.status or RunStatus.FAILURE

    status = asyncio.run(run())
    ctx.exit(0 if status is RunStatus.SUCCESS else 1)
