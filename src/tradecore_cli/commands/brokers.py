"""``tradecore broker add|list|remove|test``: a user's connections to brokers.

Settings and secrets are read as :mod:`tradecore_cli.plugin_values` says: never a secret from
the command line.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from tradecore.domain import BrokerConnection
from tradecore.errors import PluginError
from tradecore.ports import BrokerFactory
from tradecore.services import ConnectionCheck, ConnectionFootprint
from tradecore_cli.app import confirm, find_user, open_app, user_option
from tradecore_cli.plugin_values import (
    ask_secrets,
    interactive,
    key_value_settings,
    settings_from_environment,
    settings_text,
)
from tradecore_cli.render import print_table
from tradecore_cli.render_trades import timestamp

if TYPE_CHECKING:
    from tradecore_adapters.bootstrap import Application

__all__ = ["broker"]


@click.group()
def broker() -> None:
    """A user's broker connections: add, list, test and remove them."""


def broker_plugin(app: Application, broker_type: str) -> BrokerFactory:
    """The installed broker plugin TYPE, or a usage error pointing at `tradecore plugins`."""
    try:
        return app.connections.factory(broker_type)
    except PluginError as exc:
        raise click.BadParameter(f"{exc}; see `tradecore plugins`", param_hint="TYPE") from None


@broker.command("add", short_help="Connect a user to a broker.")
@click.argument("broker_type", metavar="TYPE")
@click.option(
    "--name",
    required=True,
    help="Your name for this connection (unique per user; see docs/names.md).",
)
@user_option
@click.option(
    "--setting",
    "given",
    metavar="KEY=VALUE",
    multiple=True,
    callback=key_value_settings,
    help="A setting of the broker (repeat for several); see the broker's documentation. "
    "Wins over the environment variable the broker declares for the setting.",
)
@click.pass_context
def broker_add(
    ctx: click.Context,
    broker_type: str,
    name: str,
    user_name: str | None,
    given: dict[str, str],
) -> None:
    """Connect a user to a broker. TYPE is an installed broker plugin (`tradecore plugins`).

    The settings are checked against what the broker accepts. A setting not given with
    --setting is read from the environment variable the broker declares for it, if any, when
    that is set. Secrets (API keys...) are read from the environment variables the broker
    declares, or asked for at a hidden prompt; they are never taken from the command line, and
    are stored encrypted.

    Example: tradecore broker add paper --name p1 --user alice --setting seed=7
    """
    environ = ctx.find_root().obj["environ"]
    is_interactive = interactive(ctx)

    async def run() -> tuple[BrokerConnection, str]:
        async with open_app(ctx) as app:
            factory = broker_plugin(app, broker_type)
            settings = settings_from_environment(factory.settings, given, environ)
            owner = await find_user(app, user_name)
            await app.connections.check_new(
                owner.id, broker=broker_type, name=name, settings=settings
            )
            secrets = ask_secrets(
                factory.secrets,
                environ,
                interactive=is_interactive,
                owner=f"broker {broker_type!r}",
            )
            connection = await app.connections.add(
                owner.id, broker=broker_type, name=name, settings=settings, secrets=secrets
            )
            return connection, owner.name

    connection, owner_name = asyncio.run(run())
    click.echo(
        f"Added {connection.broker} connection {connection.name} for {owner_name}"
        f"{_describe(connection)}."
    )
    click.echo(
        f"Next: tradecore broker test {connection.name} --user {owner_name}, "
        f"then tradecore sync --user {owner_name}"
    )


def _describe(connection: BrokerConnection) -> str:
    parts = []
    if connection.settings:
        parts.append("settings " + settings_text(connection.settings))
    if connection.secrets:
        parts.append("secrets " + ", ".join(sorted(connection.secrets)) + " stored encrypted")
    return f" ({'; '.join(parts)})" if parts else ""


@broker.command("list")
@user_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def broker_list(ctx: click.Context, user_name: str | None, as_json: bool) -> None:
    """List a user's broker connections with their settings.

    Secrets are shown only by name, as "set"; their values are never printed.
    """

    async def run() -> tuple[str, Sequence[BrokerConnection]]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            return owner.name, await app.connections.list(owner.id)

    owner_name, connections = asyncio.run(run())
    if as_json:
        payload = [
            {
                "id": connection.id,
                "name": connection.name,
                "type": connection.broker,
                "active": connection.active,
                "settings": dict(sorted(connection.settings.items())),
                "secrets": dict.fromkeys(sorted(connection.secrets), "set"),
                "secrets_unreadable": connection.secrets_unreadable,
                "created_at": timestamp(connection.created_at),
            }
            for connection in connections
        ]
        click.echo(json.dumps(payload, indent=2))
        return
    if not connections:
        click.echo(
            f"{owner_name} has no broker connections; add one with "
            f"`tradecore broker add TYPE --name NAME --user {owner_name}`."
        )
        return
    table = Table(title=f"Broker connections of {owner_name}", title_justify="left")
    for header in ("name", "type", "active", "settings", "secrets", "created (UTC)"):
        table.add_column(header)
    for connection in connections:
        table.add_row(
            connection.name,
            connection.broker,
            "yes" if connection.active else "no",
            settings_text(connection.settings) or "-",
            _secrets_cell(connection),
            connection.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    print_table(Console(soft_wrap=True), table)


def _secrets_cell(connection: BrokerConnection) -> str:
    if connection.secrets_unreadable:
        return (
            f"UNREADABLE (lost key): `tradecore broker secrets {connection.name}` gives it new ones"
        )
    return ", ".join(f"{key} set" for key in sorted(connection.secrets)) or "-"


@broker.command("remove", short_help="Remove a connection with all its data.")
@click.argument("name")
@user_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def broker_remove(ctx: click.Context, name: str, user_name: str | None, yes: bool) -> None:
    """Remove the user's connection NAME with everything stored for it.

    Its secrets, positions, trades, orders and strategies are deleted. Asks first, saying how
    much will go, unless --yes is given.
    """

    async def run() -> tuple[str, ConnectionFootprint] | None:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            footprint = await app.connections.footprint(owner.id, name)
            connection = footprint.connection
            if not yes and not confirm(
                f"Remove {connection.broker} connection {connection.name} of {owner.name} with "
                f"its positions ({footprint.positions}) and trades ({footprint.trades})? "
                "This cannot be undone"
            ):
                return None
            return owner.name, await app.connections.remove(owner.id, name)

    removed = asyncio.run(run())
    if removed is None:
        click.echo("Nothing removed.")
        ctx.exit(1)
    owner_name, footprint = removed
    click.echo(
        f"Removed connection {footprint.connection.name} of {owner_name} with its positions "
        f"({footprint.positions}) and trades ({footprint.trades})."
    )


@broker.command("test", short_help="Check a connection works: log in, list its accounts.")
@click.argument("name")
@user_option
@click.pass_context
def broker_test(ctx: click.Context, name: str, user_name: str | None) -> None:
    """Check that the user's connection NAME works: log in and list its accounts.

    Prints the accounts found (exit status 0), or what went wrong in one sentence (exit
    status 1). Nothing is stored.
    """

    async def run() -> ConnectionCheck:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            return await app.connections.test(owner.id, name)

    check = asyncio.run(run())
    connection = check.connection
    if not check.works:
        if ctx.find_root().obj.get("traceback") and check.error is not None:
            raise check.error
        click.echo(
            f"Error: connection {connection.name} ({connection.broker}) does not work: "
            f"{check.problem}",
            err=True,
        )
        ctx.exit(1)
    click.echo(
        f"Connection {connection.name} ({connection.broker}) works: "
        f"{len(check.accounts)} account(s) found."
    )
    for account in check.accounts:
        details = ", ".join(part for part in (account.name, account.currency) if part)
        click.echo(f"  {account.account_id}" + (f" ({details})" if details else ""))
