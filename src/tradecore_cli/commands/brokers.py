"""``tradecore broker add|list|remove|test``: a user's connections to brokers.

Settings and secrets are read as :mod:`tradecore_cli.plugin_values` says: never a secret from
the command line.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import click
from rich.console import Console
from rich.table import Table

from tradecore.domain import Account, BrokerConnection
from tradecore.errors import AlreadyExists, ConfigurationError, NotFound
from tradecore.ports import (
    ConnectionRepository,
    check_settings,
)
from tradecore.services import create_broker, describe_broker_failure, mask_secrets, open_broker
from tradecore_adapters.bootstrap import Application
from tradecore_cli.app import connection_named, open_app, user_named, user_option
from tradecore_cli.plugin_values import (
    ask_secrets,
    installed,
    interactive,
    key_value_settings,
    settings_from_environment,
    settings_text,
)
from tradecore_cli.render import print_table
from tradecore_cli.render_trades import timestamp

__all__ = ["broker"]


@click.group()
def broker() -> None:
    """A user's broker connections: add, list, test and remove them."""


def _connection_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.strip() or value != value.strip():
        raise click.BadParameter(
            "a connection name must not be empty nor start or end with a space",
            ctx=ctx,
            param=param,
        )
    return value


@broker.command("add", short_help="Connect a user to a broker.")
@click.argument("broker_type", metavar="TYPE")
@click.option(
    "--name",
    required=True,
    callback=_connection_name,
    help="Your name for this connection (unique per user).",
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
            factory = installed(app.registry.brokers, broker_type, "broker")
            owner = f"broker {broker_type!r}"
            settings = settings_from_environment(factory.settings, given, environ)
            check_settings(factory.settings, settings, owner=owner)
            async with app.repository.unit_of_work() as uow:
                owner_user = await user_named(uow, user_name)
                await _name_is_free(uow.connections, owner_user.id, owner_user.name, name)
            secrets = ask_secrets(factory.secrets, environ, interactive=is_interactive, owner=owner)
            connection = BrokerConnection(
                user_id=owner_user.id,
                broker=broker_type,
                name=name,
                settings=settings,
                secrets=secrets,
                created_at=app.clock.now(),
            )
            await _check_with_plugin(ctx, app, connection)
            async with app.repository.unit_of_work() as uow:
                try:
                    await uow.connections.add(connection)
                except AlreadyExists:
                    raise _taken(owner_user.name, name) from None
                await uow.commit()
            return connection, owner_user.name

    connection, owner_name = asyncio.run(run())
    click.echo(
        f"Added {connection.broker} connection {connection.name} for {owner_name}"
        f"{_describe(connection)}."
    )
    click.echo(
        f"Next: tradecore broker test {connection.name} --user {owner_name}, "
        f"then tradecore sync --user {owner_name}"
    )


async def _check_with_plugin(
    ctx: click.Context, app: Application, connection: BrokerConnection
) -> None:
    # Let the plugin check the whole connection now rather than at the first sync: building an
    # adapter does no I/O. Its message is masked in case a plugin quotes a secret.
    try:
        built = create_broker(
            connection, brokers=app.registry.brokers, repository=app.repository, clock=app.clock
        )
        await built.aclose()
    except ConfigurationError as exc:
        if ctx.find_root().obj.get("traceback"):
            raise
        raise ConfigurationError(mask_secrets(str(exc), connection)) from None
    except Exception as exc:
        if ctx.find_root().obj.get("traceback"):
            raise
        raise click.ClickException(
            f"the {connection.broker} plugin cannot build connection {connection.name}: "
            f"{describe_broker_failure(exc, connection)}"
        ) from None


async def _name_is_free(
    connections: ConnectionRepository, user_id: str, user_name: str, name: str
) -> None:
    try:
        await connections.get_by_name(user_id, name)
    except NotFound:
        return
    raise _taken(user_name, name)


def _taken(user_name: str, name: str) -> click.ClickException:
    return click.ClickException(
        f"{user_name} already has a broker connection named {name!r}; choose another --name"
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
        async with open_app(ctx) as app, app.repository.unit_of_work() as uow:
            owner = await user_named(uow, user_name)
            return owner.name, await uow.connections.list(owner.id)

    owner_name, connections = asyncio.run(run())
    if as_json:
        payload = [
            {
                "name": connection.name,
                "type": connection.broker,
                "active": connection.active,
                "settings": dict(sorted(connection.settings.items())),
                "secrets": dict.fromkeys(sorted(connection.secrets), "set"),
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
            ", ".join(f"{key} set" for key in sorted(connection.secrets)) or "-",
            connection.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    print_table(Console(soft_wrap=True), table)


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

    async def run() -> tuple[str, int, int] | None:
        async with open_app(ctx) as app:
            async with app.repository.unit_of_work() as uow:
                owner = await user_named(uow, user_name)
                connection = await connection_named(uow, owner, name)
                trades = await uow.trades.count(owner.id, connection_id=connection.id)
                positions = len(await uow.positions.list(owner.id, connection_id=connection.id))
            if not yes and not click.confirm(
                f"Remove {connection.broker} connection {name} of {owner.name} with its "
                f"positions ({positions}) and trades ({trades})? This cannot be undone",
                default=False,
            ):
                return None
            async with app.repository.unit_of_work() as uow:
                await uow.connections.remove(owner.id, connection.id)
                await uow.commit()
            return owner.name, positions, trades

    removed = asyncio.run(run())
    if removed is None:
        click.echo("Nothing removed.")
        ctx.exit(1)
    owner_name, positions, trades = removed
    click.echo(
        f"Removed connection {name} of {owner_name} with its positions ({positions}) "
        f"and trades ({trades})."
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

    async def run() -> tuple[BrokerConnection, Sequence[Account] | BaseException]:
        async with open_app(ctx) as app:
            async with app.repository.unit_of_work() as uow:
                owner = await user_named(uow, user_name)
                connection = await connection_named(uow, owner, name)
            try:
                async with open_broker(
                    connection,
                    brokers=app.registry.brokers,
                    repository=app.repository,
                    clock=app.clock,
                ) as adapter:
                    await adapter.authenticate()
                    return connection, await adapter.get_accounts()
            except Exception as exc:
                return connection, exc

    connection, outcome = asyncio.run(run())
    if isinstance(outcome, BaseException):
        if ctx.find_root().obj.get("traceback"):
            raise outcome
        click.echo(
            f"Error: connection {connection.name} ({connection.broker}) does not work: "
            f"{describe_broker_failure(outcome, connection)}",
            err=True,
        )
        ctx.exit(1)
    click.echo(
        f"Connection {connection.name} ({connection.broker}) works: "
        f"{len(outcome)} account(s) found."
    )
    for account in outcome:
        details = ", ".join(part for part in (account.name, account.currency) if part)
        click.echo(f"  {account.account_id}" + (f" ({details})" if details else ""))
