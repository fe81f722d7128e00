"""``tradecore refresh-tokens``: renew the OAuth tokens of the connections that have them, now.

Every cycle renews tokens that are about to expire; this command is for keeping a login alive
without cycles (from cron, more often than the refresh token's lifetime) or for checking one.
A connection whose broker refused its refresh token is reported as needing a new login and left
alone: its refresh token is never presented again.
"""

from __future__ import annotations

import asyncio

import click

from tradecore.domain import BrokerConnection, OAuthTokens
from tradecore.services import create_broker, describe_broker_failure
from tradecore_cli.app import open_app, user_named
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

    async def run() -> list[tuple[str, BrokerConnection, OAuthTokens | BaseException]]:
        outcomes: list[tuple[str, BrokerConnection, OAuthTokens | BaseException]] = []
        async with open_app(ctx) as app:
            async with app.repository.unit_of_work() as uow:
                if user_name is not None:
                    users = [await user_named(uow, user_name)]
                else:
                    users = list(await uow.users.list())
                targets = [
                    (user.name, connection)
                    for user in users
                    for connection in await uow.connections.list(user.id, active_only=True)
                    if connection.tokens is not None
                ]
            for owner, connection in targets:
                adapter = create_broker(
                    connection,
                    brokers=app.registry.brokers,
                    repository=app.repository,
                    clock=app.clock,
                )
                try:
                    tokens = await adapter.refresh_auth_token()
                    if tokens is None:
                        continue
                    outcomes.append((owner, connection, tokens))
                except Exception as exc:
                    outcomes.append((owner, connection, exc))
                finally:
                    await adapter.aclose()
        return outcomes

    outcomes = asyncio.run(run())
    if not outcomes:
        click.echo("No connection has OAuth tokens to renew.")
        return
    failed = 0
    for owner, connection, outcome in outcomes:
        label = f"{owner}/{connection.name} ({connection.broker})"
        if isinstance(outcome, BaseException):
            failed += 1
            click.echo(f"{label}: {describe_broker_failure(outcome, connection)}", err=True)
        else:
            click.echo(
                f"{label}: renewed; access token valid until "
                f"{expiry_text(outcome.access_expires_at)}"
            )
    if failed:
        ctx.exit(1)
