"""The ``tradecore`` command group. Each command parses, bootstraps, calls one service, renders.

The commands are imported only when one runs (:mod:`tradecore_cli.lazy_group`, with the table in
:mod:`tradecore_cli.command_table`), so ``tradecore --help`` and ``--version`` import neither the
core's services nor any adapter.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click

from tradecore_cli.command_table import COMMANDS
from tradecore_cli.lazy_group import LazyGroup

__all__ = ["INTERRUPTED", "cli"]


INTERRUPTED = 130
"""The exit status of a command stopped by Ctrl-C (SIGINT): 128 + 2, as shells report it."""


class _Group(LazyGroup):
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
        except (click.ClickException, click.exceptions.Exit):
            raise
        except Exception as exc:
            if ctx.obj and ctx.obj.get("traceback"):
                raise
            _report(ctx, exc)


def _report(ctx: click.Context, exc: Exception) -> NoReturn:
    # Imported here, when a command has failed: the core is not loaded for --help.
    from tradecore.errors import ConfigurationError, TradecoreError
    from tradecore.services import describe_error

    if isinstance(exc, TradecoreError):
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, ConfigurationError) else 1)
    # Not one of tradecore's errors: a bug, or a library's error that escaped. One
    # sentence (no SQL, no links, no raw decimal signal), and how to see more.
    command = " ".join(filter(None, ("tradecore", ctx.invoked_subcommand)))
    described = describe_error(exc, doing=f"running `{command}`")
    click.echo(f"Error: {described} (run it again with --traceback for details)", err=True)
    sys.exit(1)


def _interrupted(ctx: click.Context) -> None:
    if ctx.obj and ctx.obj.get("traceback"):
        raise
    click.echo("Interrupted.", err=True)
    sys.exit(INTERRUPTED)


@click.group(cls=_Group, lazy=COMMANDS)
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
