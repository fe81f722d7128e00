"""``tradecore refresh-tokens``: renew the OAuth tokens of the connections that have them, now.

Every cycle renews tokens that are about to expire; this command is for keeping a login alive
without cycles (from cron, more often than the refresh token's lifetime) or for checking one.
A connection whose broker refused its refresh token is reported as needing a new login and left
alone: its refresh token is never presented again.
"""

from __future__ import annotations

import asyncio

import click

from tradecore.services import TokenRenewal
from tradecore_cli.app import find_user, open_app
from tradecore_cli.commands.login import expiry_text

__all__ = ["refresh_tokens"]


@click.command("refresh-tokens", short_help="Renew the OAuth tokens of connections now.")
@click.option(
    "--user",
    "user_name",
    metavar="NAME",
    default=None,
    help="Only this user's connections (default: every user's).",
)
@click.pass_context
def refresh_tokens(ctx: click.Context, user_name: str | None) -> None:
    """Renew the OAuth tokens of every active connection that has logged in (one user's with
    --user). Exit status 1 when one of them could not be renewed."""

    async def run() -> list[TokenRenewal]:
        async with open_app(ctx) as app:
            user_ids = None if user_name is None else [(await find_user(app, user_name)).id]
            return await app.logins.renew_all(user_ids)

    outcomes = asyncio.run(run())
    if not outcomes:
        click.echo("No connection has OAuth tokens to renew.")
        return
    failed = 0
    for outcome in outcomes:
        connection = outcome.connection
        label = f"{outcome.user.name}/{connection.name} ({connection.broker})"
        if outcome.tokens is None:
            failed += 1
            click.echo(f"{label}: {outcome.problem}", err=True)
        else:
            click.echo(
                f"{label}: renewed; access token valid until "
                f"{expiry_text(outcome.tokens.access_expires_at)}"
            )
    if failed:
        ctx.exit(1)
