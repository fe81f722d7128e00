"""``tradecore user passwd|admin``: a user's password (for the web dashboard) and admin flag.

See docs/accounts.md. A password is read from a hidden prompt, asked twice, or with ``--stdin``
as one line from standard input (for scripts); it is never an argument, never echoed, never
printed.
"""

from __future__ import annotations

import asyncio
import sys

import click

from tradecore.domain import User
from tradecore_cli.app import find_user, open_app
from tradecore_cli.plugin_values import interruptible

__all__ = ["user_admin", "user_passwd"]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    with interruptible():
        password: str = click.prompt(
            "New password",
            hide_input=True,
            confirmation_prompt="Repeat the new password",
            show_default=False,
        )
    return password


@click.command("passwd")
@click.argument("name")
@click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help="Read the password as one line from standard input (for scripts) instead of asking.",
)
@click.pass_context
def user_passwd(ctx: click.Context, name: str, from_stdin: bool) -> None:
    """Set the password of the user NAME (it logs in to the web dashboard with it).

    Asked twice at a hidden prompt, or read as one line from standard input with --stdin. At
    least 12 characters, at most 1024, not only spaces; stored as an Argon2id hash
    (docs/accounts.md).
    """

    async def lookup() -> User:
        async with open_app(ctx) as app:
            return await find_user(app, name)

    found = asyncio.run(lookup())
    password = _read_password(from_stdin)

    async def run() -> None:
        async with open_app(ctx) as app:
            await app.passwords.set_password(found.id, password)

    asyncio.run(run())
    click.echo(f"Password set for user {found.name}.")


@click.command("admin")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Take the administrator flag away instead.")
@click.pass_context
def user_admin(ctx: click.Context, name: str, revoke: bool) -> None:
    """Make the user NAME an administrator (or, with --revoke, no longer one).

    An administrator will see every user's automation state and the daemons on the web
    dashboard's operator page, never another user's secrets.
    """

    async def run() -> User:
        async with open_app(ctx) as app:
            found = await find_user(app, name)
            return await app.users.set_admin(found.id, not revoke)

    changed = asyncio.run(run())
    if changed.is_admin:
        click.echo(f"User {changed.name} is now an administrator.")
    else:
        click.echo(f"User {changed.name} is no longer an administrator.")
