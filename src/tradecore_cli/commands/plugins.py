"""``tradecore plugins``: what is installed and where it comes from."""

from __future__ import annotations

import json

import click
from rich.console import Console

from tradecore_cli.render import plugins_table, print_table
from tradecore_cli.settings import settings_of

__all__ = ["plugins"]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List the installed plugins: brokers, notifiers and strategies, with their distribution."""
    settings = settings_of(ctx)
    from tradecore_adapters.bootstrap import load_plugins

    infos = load_plugins(settings).plugins
    if as_json:
        payload = [
            {
                "name": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "brokers": list(info.brokers),
                "notifiers": list(info.notifiers),
                "strategies": list(info.strategies),
            }
            for info in infos
        ]
        click.echo(json.dumps(payload, indent=2))
        return
    print_table(Console(soft_wrap=True), plugins_table(infos))
