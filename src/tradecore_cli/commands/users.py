"""``tradecore user add|list|remove``: the people whose brokers, positions and trades are kept."""

from __future__ import annotations

import asyncio
import json

import click
from rich.console import Console
from rich.table import Table

from tradecore.domain import User
from tradecore.services import UserFootprint, UserSummary
from tradecore_cli.app import confirm, find_user, open_app
from tradecore_cli.render import print_table
from tradecore_cli.render_trades import timestamp

__all__ = ["user"]


@click.group()
def user() -> None:
    """The users: each has its own broker connections, positions, trades and strategies."""


@user.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Make the user an administrator (docs/accounts.md).")
@click.pass_context
def user_add(ctx: click.Context, name: str, admin: bool) -> None:
    """Add a user called NAME (names are unique; see docs/names.md for what a name may hold).

    Every other command takes --user NAME to say whose data it touches; with a single user,
    --user can be left out.
    """

    async def run() -> User:
        async with open_app(ctx) as app:
            return await app.users.add(name, is_admin=admin)

    added = asyncio.run(run())
    click.echo(f"Added user {added.name}" + (", an administrator." if added.is_admin else "."))
    click.echo(f"Next: tradecore broker add TYPE --name NAME --user {added.name}  (try TYPE paper)")


@user.command("rename")
@click.argument("name")
@click.argument("new_name", metavar="NEW_NAME")
@click.pass_context
def user_rename(ctx: click.Context, name: str, new_name: str) -> None:
    """Rename the user NAME to NEW_NAME (see docs/names.md); everything it owns stays."""

    async def run() -> User:
        async with open_app(ctx) as app:
            found = await find_user(app, name)
            return await app.users.rename(found.id, new_name)

    renamed = asyncio.run(run())
    click.echo(f"Renamed user {name} to {renamed.name}.")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """List the users with how many broker connections each has."""

    async def run() -> list[UserSummary]:
        async with open_app(ctx) as app:
            return await app.users.list()

    users = [(summary.user, summary.connections) for summary in asyncio.run(run())]
    if as_json:
        payload = [
            {
                "name": each.name,
                "id": each.id,
                "connections": connections,
                "created_at": timestamp(each.created_at),
                "admin": each.is_admin,
            }
            for each, connections in users
        ]
        click.echo(json.dumps(payload, indent=2))
        return
    if not users:
        click.echo("No users yet; add one with `tradecore user add NAME`.")
        return
    table = Table(title="Users", title_justify="left")
    table.add_column("name")
    table.add_column("connections", justify="right")
    table.add_column("created (UTC)")
    table.add_column("admin")
    for each, connections in users:
        table.add_row(
            each.name,
            str(connections),
            each.created_at.strftime("%Y-%m-%d %H:%M"),
            "yes" if each.is_admin else "",
        )
    print_table(Console(soft_wrap=True), table)


@user.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def user_remove(ctx: click.Context, name: str, yes: bool) -> None:
    """Remove the user NAME and everything it owns.

    Its broker connections (with their stored secrets), positions, trades, orders, strategies,
    automation settings and run history are deleted. Asks first, saying how much will go,
    unless --yes is given.
    """

    async def run() -> UserFootprint | None:
        async with open_app(ctx) as app:
            found = await find_user(app, name)
            footprint = await app.users.footprint(found.id)
            if not yes and not confirm(
                f"Remove user {found.name} and everything it owns: broker connections "
                f"({footprint.connections}), strategies ({footprint.strategies}) and trades "
                f"({footprint.trades})? This cannot be undone"
            ):
                return None
            return await app.users.remove(found.id)

    removed = asyncio.run(run())
    if removed is None:
        click.echo("Nothing removed.")
        ctx.exit(1)
    click.echo(
        f"Removed user {removed.user.name} with its broker connections ({removed.connections}), "
        f"strategies ({removed.strategies}) and trades ({removed.trades})."
    )
