"""The ``tradecore`` command group. Each command parses, bootstraps, calls one service, renders."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from tradecore.errors import ConfigurationError, TradecoreError
from tradecore.services import describe_error
from tradecore_cli.commands.accounts import user_admin, user_passwd
from tradecore_cli.commands.api_tokens import token
from tradecore_cli.commands.automation import automation
from tradecore_cli.commands.broker_changes import broker_disable, broker_edit, broker_enable
from tradecore_cli.commands.broker_secrets import broker_secrets
from tradecore_cli.commands.brokers import broker
from tradecore_cli.commands.check import check
from tradecore_cli.commands.cycle import cycle
from tradecore_cli.commands.demo import demo
from tradecore_cli.commands.login import broker_login
from tradecore_cli.commands.notify import notify
from tradecore_cli.commands.orders import order
from tradecore_cli.commands.plugins import plugins
from tradecore_cli.commands.portfolio import equity, positions, trades
from tradecore_cli.commands.risk import risk
from tradecore_cli.commands.scheduling import daemon, run
from tradecore_cli.commands.secrets import secrets
from tradecore_cli.commands.setup import db, init
from tradecore_cli.commands.strategies import strategy
from tradecore_cli.commands.sync import sync
from tradecore_cli.commands.tokens import refresh_tokens
from tradecore_cli.commands.users import user
from tradecore_cli.commands.web import web

__all__ = ["INTERRUPTED", "cli"]


INTERRUPTED = 130
"""The exit status of a command stopped by Ctrl-C (SIGINT): 128 + 2, as shells report it."""


class _Group(click.Group):
    # Turn tradecore's typed errors into a one-line message and an exit status, never a traceback
    # (unless --traceback asked for one); Ctrl-C into "Interrupted." and exit status 130 (a
    # prompt interrupted raises click.Abort with the KeyboardInterrupt as its context).
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _interrupted(ctx)
        except click.Abort as exc:
            if not isinstance(exc.__context__, KeyboardInterrupt):
                raise
            _interrupted(ctx)
        except TradecoreError as exc:
            if ctx.obj and ctx.obj.get("traceback"):
                raise
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2 if isinstance(exc, ConfigurationError) else 1)
        except (click.ClickException, click.exceptions.Exit):
            raise
        except Exception as exc:
            # Not one of tradecore's errors: a bug, or a library's error that escaped. One
            # sentence (no SQL, no links, no raw decimal signal), and how to see more.
            if ctx.obj and ctx.obj.get("traceback"):
                raise
            command = " ".join(filter(None, ("tradecore", ctx.invoked_subcommand)))
            described = describe_error(exc, doing=f"running `{command}`")
            click.echo(f"Error: {described} (run it again with --traceback for details)", err=True)
            sys.exit(1)


def _interrupted(ctx: click.Context) -> None:
    if ctx.obj and ctx.obj.get("traceback"):
        raise
    click.echo("Interrupted.", err=True)
    sys.exit(INTERRUPTED)


@click.group(cls=_Group)
@click.version_option(package_name="tradecore", prog_name="tradecore")
@click.option(
    "--traceback", is_flag=True, help="Show the full traceback of an error (for bug reports)."
)
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """Keep your brokers in one place: sync positions and trades, run strategies, get a digest.

    Start with `tradecore init`, then `tradecore user add NAME` and `tradecore broker add`.
    Or just try `tradecore demo`.
    """
    ctx.ensure_object(dict)
    ctx.obj.setdefault("environ", dict(os.environ))
    ctx.obj["traceback"] = traceback


for _command in (
    init,
    db,
    user,
    broker,
    sync,
    cycle,
    automation,
    run,
    daemon,
    refresh_tokens,
    positions,
    trades,
    equity,
    demo,
    plugins,
    secrets,
    notify,
    check,
    strategy,
    order,
    risk,
    token,
    web,
):
    cli.add_command(_command)
user.add_command(user_passwd)
user.add_command(user_admin)
broker.add_command(broker_login)
broker.add_command(broker_secrets)
for _change in (broker_edit, broker_enable, broker_disable):
    broker.add_command(_change)
