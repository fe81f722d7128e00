"""``tradecore demo``: one full cycle for a demo user on the paper broker, with no setup at all."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape

from tradecore.domain import RunStatus
from tradecore.services import DemoSetup
from tradecore_cli.render import positions_table, print_table
from tradecore_cli.settings import settings_of

if TYPE_CHECKING:
    from tradecore_adapters.bootstrap import Settings

__all__ = ["demo"]


@click.command()
@click.option(
    "--seed",
    type=click.IntRange(min=0, max=2**63 - 1),
    default=42,
    show_default=True,
    help="Seed of the paper market (a whole number); used when the demo is first created.",
)
@click.pass_context
def demo(ctx: click.Context, seed: int) -> None:
    """Run one automation cycle for a demo user on the simulated paper broker.

    The demo user has three `dca` strategies: one live (buys 100 USD of BTC-USD every hour), one
    dry run (says what it would buy of ETH-USD), and one dry run too large for the demo's risk
    limit (1000 per order), which the digest shows blocked by max_order_notional.

    The demo keeps its data in its own home (the `demo` folder of the data directory, with its
    own SQLite database and key), apart from your real data: run it again and its history grows
    without duplicates; delete the folder to start over. Prints the cycle's digest and the synced
    positions. The digest goes to Telegram instead when TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID
    are set. The exit status is 0 when the run succeeded, 1 otherwise.
    """
    environ = ctx.find_root().obj["environ"]
    status = asyncio.run(_demo(settings_of(ctx).demo(), str(seed), environ))
    ctx.exit(0 if status is RunStatus.SUCCESS else 1)


async def _demo(settings: Settings, seed: str, environ: Mapping[str, str]) -> RunStatus:
    console = Console(soft_wrap=True)
    from tradecore_adapters.bootstrap import initialise, open_application

    await initialise(settings)

    def introduce(setup: DemoSetup, stored: int) -> None:
        console.print(
            f"Demo user [bold]{escape(setup.user.name)}[/] with paper connection "
            f"[bold]{escape(setup.connection.name)}[/], kept in "
            f"[bold]{escape(str(settings.home))}[/] "
            f"({stored} trades stored so far; delete the folder to start over)."
        )

    async with await open_application(settings, environ=environ) as app:
        demo_run = await app.demo.run(seed=seed, on_ready=introduce)
    setup = demo_run.setup
    failed = dict(demo_run.undelivered)
    for target in demo_run.elsewhere:
        if target in failed:
            console.print(
                f"[red]The digest could not be sent to {escape(target)}:[/] "
                f"{escape(failed[target])}; it was printed here instead."
            )
        else:
            console.print(f"Digest sent to {escape(target)}.")
    table = positions_table(
        list(demo_run.positions),
        connection_names={setup.connection.id: setup.connection.name},
        title=f"Positions of {setup.user.name}",
    )
    print_table(console, table)
    console.print(f"{demo_run.trades_after} trades stored in the demo database.")
    return demo_run.outcome.run.status or RunStatus.FAILURE
