"""``tradecore broker edit|enable|disable``: change a connection's settings, or switch it off and
on again, keeping everything stored for it."""

from __future__ import annotations

import asyncio

import click

from tradecore.domain import BrokerConnection
from tradecore_cli.app import find_user, open_app, user_option
from tradecore_cli.plugin_values import key_value_settings, settings_text

__all__ = ["broker_disable", "broker_edit", "broker_enable"]


@click.command("edit", short_help="Change some settings of a connection.")
@click.argument("name")
@user_option
@click.option(
    "--setting",
    "given",
    metavar="KEY=VALUE",
    multiple=True,
    callback=key_value_settings,
    help="A setting to set (repeat for several); see the broker's documentation.",
)
@click.option(
    "--unset",
    "unset",
    metavar="KEY",
    multiple=True,
    help="A setting to remove, so the broker's default applies (repeatable).",
)
@click.pass_context
def broker_edit(
    ctx: click.Context,
    name: str,
    user_name: str | None,
    given: dict[str, str],
    unset: tuple[str, ...],
) -> None:
    """Change some settings of the user's connection NAME; the others stay. The broker checks
    the settings that result (and builds the connection once) before anything is stored; a
    refused change changes nothing. Secrets are replaced with `tradecore broker secrets`.

    Example: tradecore broker edit main --user alice --setting testnet=false
    """
    both = sorted(set(given) & set(unset))
    if both:
        raise click.UsageError(f"{', '.join(both)}: given to both --setting and --unset")
    if not given and not unset:
        raise click.UsageError("nothing to change; give --setting KEY=VALUE or --unset KEY")
    changes: dict[str, str | None] = {**given, **dict.fromkeys(unset)}

    async def run() -> tuple[str, BrokerConnection]:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            return owner.name, await app.connections.edit_settings(owner.id, name, changes)

    owner_name, connection = asyncio.run(run())
    click.echo(
        f"Connection {connection.name} of {owner_name} now has settings "
        f"{settings_text(connection.settings) or '(none: the broker defaults)'}."
    )


def _switch(ctx: click.Context, name: str, user_name: str | None, *, active: bool) -> str:
    async def run() -> str:
        async with open_app(ctx) as app:
            owner = await find_user(app, user_name)
            await app.connections.set_active(owner.id, name, active=active)
            return owner.name

    return asyncio.run(run())


@click.command("enable", short_help="Sync a disabled connection again.")
@click.argument("name")
@user_option
@click.pass_context
def broker_enable(ctx: click.Context, name: str, user_name: str | None) -> None:
    """Sync the user's connection NAME again, and run its strategies, from the next cycle."""
    owner_name = _switch(ctx, name, user_name, active=True)
    click.echo(f"Connection {name} of {owner_name} is enabled: the next cycle syncs it.")


@click.command("disable", short_help="Keep a connection but stop syncing it.")
@click.argument("name")
@user_option
@click.pass_context
def broker_disable(ctx: click.Context, name: str, user_name: str | None) -> None:
    """Keep the user's connection NAME with all its data, but sync nothing and run none of its
    strategies until `tradecore broker enable`. Works even when its secrets cannot be
    decrypted (a lost key)."""
    owner_name = _switch(ctx, name, user_name, active=False)
    click.echo(
        f"Connection {name} of {owner_name} is disabled: kept, but not synced and none of its "
        "strategies run until `tradecore broker enable`."
    )
