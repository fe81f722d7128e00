"""``tradecore demo``: one full cycle for a demo user on the paper broker, with no setup at all."""

from __future__ import annotations

import asyncio

import click
from rich.console import Console

from tradecore.domain import RunStatus, Trigger
from tradecore.services import ensure_demo
from tradecore_adapters.bootstrap import initialise, open_application
from tradecore_adapters.settings import Settings
from tradecore_cli.render import positions_table, print_table
from tradecore_cli.settings import settings_of

__all__ = ["demo"]


@click.command()
@click.option("--seed", default="42", show_default=True, help="Seed of the paper market.")
@click.pass_context
def demo(ctx: click.Context, seed: str) -> None:
    """Run one automation cycle for a demo user on the simulated paper broker.

    The demo keeps its data in its own home (the `demo` folder of the data directory, with its
    own SQLite database and key), apart from your real data: run it again and its history grows
    without duplicates; delete the folder to start over. Prints the cycle's digest and the synced
    positions. The exit status is 0 when the run succeeded, 1 otherwise.
    """
    status = asyncio.run(_demo(settings_of(ctx).demo(), seed))
    ctx.exit(0 if status is RunStatus.SUCCESS else 1)


async def _demo(settings: Settings, seed: str) -> RunStatus:
    console = Console(soft_wrap=True)
    await initialise(settings)
    async with await open_application(settings) as app:
        setup = await ensure_demo(repository=app.repository, clock=app.clock, seed=seed)
        async with app.repository.unit_of_work() as uow:
            stored = await uow.trades.count(setup.user.id)
        console.print(
            f"Demo user [bold]{setup.user.name}[/] with paper connection "
            f"[bold]{setup.connection.name}[/], kept in [bold]{settings.home}[/] "
            f"({stored} trades stored so far; delete the folder to start over)."
        )
        outcome = await app.cycle.run(setup.user.id, trigger=Trigger.MANUAL)
        async with app.repository.unit_of_work() as uow:
            positions = await uow.positions.list(setup.user.id)
            stored = await uow.trades.count(setup.user.id)
        table = positions_table(
            positions,
            connection_names={setup.connection.id: setup.connection.name},
            title=f"Positions of {setup.user.name}",
        )
        print_table(console, table)
        console.print(f"{stored} trades stored in the demo database.")
        return outcome.run.status or RunStatus.FAILURE
