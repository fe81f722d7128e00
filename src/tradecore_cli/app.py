"""What commands share: opening the application, finding the user a command is about."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import click

from tradecore.domain import User
from tradecore.errors import NotFound
from tradecore.services import NoUserChosen
from tradecore_cli.plugin_values import interactive, interruptible
from tradecore_cli.settings import settings_of

if TYPE_CHECKING:
    from tradecore_adapters.bootstrap import Application, Settings

__all__ = ["confirm", "find_user", "open_app", "user_option"]

user_option = click.option(
    "--user",
    "user_name",
    metavar="NAME",
    default=None,
    help="The user whose data the command touches (default: the only user, if there is one).",
)


def confirm(question: str, *, err: bool = False) -> bool:
    """A yes from the person at the terminal to ``question``; anything else is a no.

    Every command that deletes or sends something asks through here, unless given ``--yes``,
    and on a no changes nothing and exits 1. With no terminal on standard input (cron, a
    pipe) nothing is asked and nothing waits: it says ``no terminal to confirm on; pass
    --yes`` (tests that feed answers say they are interactive, see
    :func:`tradecore_cli.plugin_values.interactive`). An end of input is a no; Ctrl-C
    interrupts the command (exit 130). With ``err`` the question goes to standard error (a
    ``--json`` command keeps standard output for its JSON).
    """
    if not interactive(click.get_current_context()):
        click.echo(question, err=True)
        click.echo("Not asked: no terminal to confirm on; pass --yes to go ahead.", err=True)
        return False
    try:
        with interruptible():
            return click.confirm(question, default=False, err=err)
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None  # Ctrl-C: interrupted, not answered
        click.echo("", err=err)
        click.echo("No answer; pass --yes to go ahead without being asked.", err=err)
        return False


@asynccontextmanager
async def open_app(
    ctx: click.Context, settings: Settings | None = None, **options: Any
) -> AsyncIterator[Application]:
    """The application on the configured database, closed afterwards.

    Its clock is the system's, unless the caller of the command line put one in
    ``obj["clock"]`` (as ``obj["environ"]``, only a program invoking the command line can: the
    end-to-end tests run several commands at simulated times this way).
    """
    # The adapters (SQLAlchemy…) are imported when a command opens the application, not when
    # its module is: `tradecore COMMAND --help` stays quick.
    from tradecore_adapters.bootstrap import open_application

    root = ctx.find_root().obj
    options.setdefault("environ", root["environ"])
    if root.get("clock") is not None:
        options.setdefault("clock", root["clock"])
    app = await open_application(settings or settings_of(ctx), **options)
    try:
        yield app
    finally:
        await app.aclose()


async def find_user(app: Application, name: str | None) -> User:
    """The user called ``name`` (``--user``); without a name, the only user.

    :raises click.UsageError: no such user, or no name given while there are several (or none);
        the message says what to type.
    """
    try:
        return await app.users.find(name)
    except NotFound:
        raise click.UsageError(
            f"there is no user named {name!r}; see `tradecore user list`"
        ) from None
    except NoUserChosen as exc:
        if not exc.names:
            raise click.UsageError(
                "there are no users yet; add one with `tradecore user add NAME`"
            ) from None
        raise click.UsageError(
            f"there are {len(exc.names)} users; say which with --user ({', '.join(exc.names)})"
        ) from None
