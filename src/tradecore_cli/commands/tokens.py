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
from tradecore_cli.output import Output, json_option, quiet_option
from tradecore_cli.render_trades import timestamp

__all__ = ["refresh_tokens"]


@click.command("refresh-tokens", short_help="Renew the OAuth tokens of connections now.")
@click.option(
    "--user",
    "user_name",
    metavar="NAME",
    default=None,
    help="Only this user's connections (default: every user's).",
)
@json_option
@quiet_option
@click.pass_context
def refresh_tokens(ctx: click.Context, user_name: str | None, as_json: bool, quiet: bool) -> None:
    """Renew the OAuth tokens of every active connection that has logged in (one user's with
    --user). Exit status 1 when one of them could not be renewed."""
    out = Output(as_json=as_json, quiet=quiet)

    async def run() -> list[TokenRenewal]:
        async with open_app(ctx) as app:
            user_ids = None if user_name is None else [(await find_user(app, user_name)).id]
            return await app.logins.renew_all(user_ids)

    outcomes = asyncio.run(run())
    out.data(
        [
            {
                "user": each.user.name,
                "connection": each.connection.name,
                "broker": each.connection.broker,
                "renewed": each.tokens is not None,
                "access_expires_at": None
                if each.tokens is None
                else timestamp(each.tokens.access_expires_at),
                "error": each.problem if each.tokens is None else None,
            }
            for each in outcomes
        ]
    )
    if not outcomes:
        out.note("No connection has OAuth tokens to renew.")
        return
    failed = 0
    for outcome in outcomes:
        connection = outcome.connection
        label = f"{outcome.user.name}/{connection.name} ({connection.broker})"
        if outcome.tokens is None:
            failed += 1
            out.error(f"{label}: {outcome.problem}")
        else:
            out.say(
                f"{label}: renewed; access token valid until "
                f"{expiry_text(outcome.tokens.access_expires_at)}"
            )
    if failed:
        ctx.exit(1)
