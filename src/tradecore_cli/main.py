"""The ``tradecore`` command group. Each command parses, bootstraps, calls one service, renders."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from tradecore.errors import ConfigurationError, TradecoreError
from tradecore_cli.commands.demo import demo
from tradecore_cli.commands.plugins import plugins

__all__ = ["cli"]


class _Group(click.Group):
    # Turn tradecore's typed errors into a one-line message and an exit status, never a traceback.
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigurationError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        except TradecoreError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=_Group)
@click.version_option(package_name="tradecore", prog_name="tradecore")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Keep your brokers in one place: sync positions and trades, run strategies, get a digest."""
    ctx.ensure_object(dict)
    ctx.obj.setdefault("environ", dict(os.environ))


cli.add_command(demo)
cli.add_command(plugins)
