"""``tradecore user add|list|remove``: the people whose brokers, positions and trades are kept."""

from __future__ import annotations

import asyncio
import json

import click
from rich.console import Console
from rich.table import Table

from tradecore.domain import User
from tradecore.errors import AlreadyExists
from tradecore_cli.app import open_app, user_named
from tradecore_cli.render import print_table
from tradecore_cli.render_trades import timestamp

__all__ = ["user"]


@click.group()
def user() -> None:
    """The users: each has its own broker connections, positions, trades and strategies."""


def _checked_name(name: str) -> str:
    if not name.strip() or name != name.strip():
        raise click.BadParameter(
            "a user name must not be empty nor start or end with a space", param_hint="NAME"
        )
    return name


@user.command("add")
@click.argument("name")
@click.pass_context
def user_add(ctx: click.Context, name: str) -> None:
    """Add a user called NAME (names are unique).

    Every other command takes --user NAME to say whose data it touches; with a single user,
    --user can be left out.
    """
    name = _checked_name(name)

    async def run() -> None:
        async with open_app(ctx) as app, app.repository.unit_of_work() as uow:
            try:
                await uow.users.add(User(name=name, created_at=app.clock.now()))
            except AlreadyExists:
                raise click.ClickException(f"there is already a user named {name!r}") from None
            await uow.commit()

    asyncio.run(run())
    click.echo(f"Added user {name}.")
    click.echo(f"Next: tradecore broker add TYPE --name NAME --user {name}  (try TYPE paper)")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """List the users with how many broker connections each has."""

    async def run() -> list[tuple[User, int]]:
        async with open_app(ctx) as app, app.repository.unit_of_work() as uow:
            return [
                (each, len(await uow.connections.list(each.id))) for each in await uow.users.list()
            ]

    users = asyncio.run(run())
    if as_json:
        payload = [
            {
                "name": each.name,
                "id": each.id,
                "connections": connections,
                "created_at": timestamp(each.created_at),
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
    for each, connections in users:
        table.add_row(each.name, str(connections), each.created_at.strftime("%Y-%m-%d %H:%M"))
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

    async def run() -> tuple[int, int, int] | None:
        async with open_app(ctx) as app:
            async with app.repository.unit_of_work() as uow:
                found = await user_named(uow, name)
                connections = len(await uow.connections.list(found.id))
                strategies = len(await uow.strategies.list(found.id))
                trades = await uow.trades.count(found.id)
            if not yes and not click.confirm(
                f"Remove user {found.name} and everything it owns: broker connections "
                f"({connections}), strategies ({strategies}) and trades ({trades})? "
                "This cannot be undone",
                default=False,
            ):
                return None
            async with app.repository.unit_of_work() as uow:
                await uow.users.remove(found.id)
                await uow.commit()
            return connections, strategies, trades

    removed = asyncio.run(run())
    if removed is None:
        click.echo("Nothing removed.")
        ctx.exit(1)
    connections, strategies, trades = removed
    click.echo(
        f"Removed user {name} with its broker connections ({connections}), "
        f"strategies ({strategies}) and trades ({trades})."
    )
