"""``tradecore broker secrets NAME``: give a connection new secrets (after a lost key, or new API
keys at the broker)."""

from __future__ import annotations

import asyncio

import click

from tradecore.domain import BrokerConnection
from tradecore_cli.app import find_user, open_app, user_option
from tradecore_cli.plugin_values import ask_secrets, interactive

__all__ = ["broker_secrets"]


@click.command("secrets", short_help="Give a connection new secrets (API keys...).")
@click.argument("name")
@user_option
@click.pass_context
def broker_secrets(ctx: click.Context, name: str, user_name: str | None) -> None:
    """Replace the secrets of the user's connection NAME, e.g. after the secret key was lost
    (`tradecore secrets forget`) or when the broker issued new API keys.

    Like `broker add`, the secrets are read from the environment variables the broker declares,
    or asked for at a hidden prompt; never from the command line. They are checked by the
    broker's plugin and stored encrypted under the current key; settings, history and
    strategies are kept.
    """
    environ = ctx.find_root().obj["environ"]
    is_interactive = interactive(ctx)

    async def run() -> tuple[BrokerConnection, str, bool] | None:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            connection = await app.connections.get(owner.id, name)
            factory = app.connections.factory(connection.broker)
            if not factory.secrets:
                click.echo(
                    f"The {connection.broker} broker takes no secrets: connection "
                    f"{connection.name} has nothing to replace."
                )
                return None
            secrets = ask_secrets(
                factory.secrets,
                environ,
                interactive=is_interactive,
                owner=f"broker {connection.broker!r}",
            )
            changed = await app.connections.replace_secrets(owner.id, connection.name, secrets)
            return changed, owner.name, factory.login is not None

    done = asyncio.run(run())
    if done is None:
        return
    connection, owner_name, logs_in = done
    click.echo(
        f"Stored new secrets for {connection.broker} connection {connection.name} of "
        f"{owner_name} ({', '.join(sorted(connection.secrets)) or 'none'}, encrypted)."
    )
    if logs_in and connection.tokens is None:
        click.echo(f"Next: tradecore broker login {connection.name} --user {owner_name}")
    else:
        click.echo(f"Next: tradecore broker test {connection.name} --user {owner_name}")
