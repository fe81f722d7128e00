"""``tradecore order status|cancel|list``: every order's state (``place`` is in
:mod:`tradecore_cli.commands.order_place`).

An order whose outcome is uncertain is settled by looking it up by its client id, never by
sending it again (see ``docs/orders.md``). Every text that may come from an adapter (an order's
reason, a broker's error) is shown with the connection's secrets masked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import click
from attrs import frozen
from rich.console import Console

from tradecore.domain import BrokerConnection, Order, OrderStatus, User
from tradecore.errors import NotFound
from tradecore.ports import UnitOfWork
from tradecore.services import (
    cancel_recorded_order,
    describe_broker_failure,
    open_broker,
    refresh_order,
)
from tradecore_cli.app import connection_named, open_app, user_named, user_option
from tradecore_cli.commands.order_place import order_place
from tradecore_cli.render import print_table
from tradecore_cli.render_orders import (
    not_found_text,
    order_json,
    order_report,
    orders_table,
    secret_mask,
)

__all__ = ["order"]

_NOTHING_WORKING = frozenset(
    {OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED, OrderStatus.NOT_PLACED}
)


@click.group()
def order() -> None:
    """Orders: place one by hand, look one up, cancel one, list them."""


order.add_command(order_place)


def _report(current: Order, connection: BrokerConnection, *, explain: bool = True) -> None:
    click.echo("\n".join(order_report(current, connection, explain=explain)))


async def _recorded(uow: UnitOfWork, user: User, client_order_id: str) -> Order:
    try:
        return await uow.orders.get(user.id, client_order_id)
    except NotFound:
        raise click.UsageError(
            f"{user.name} has no order with client id {client_order_id!r}; "
            "see `tradecore order list`"
        ) from None


@frozen(kw_only=True)
class _LookedUp:
    user: User
    connection: BrokerConnection
    before: Order
    after: Order | None
    error: str | None = None


async def _look_up(
    ctx: click.Context, user_name: str | None, client_order_id: str, *, cancel: bool
) -> _LookedUp:
    async with open_app(ctx) as app:
        async with app.repository.unit_of_work() as uow:
            user = await user_named(uow, user_name)
            before = await _recorded(uow, user, client_order_id)
            connection = await uow.connections.get(user.id, before.request.connection_id)
        if before.is_terminal:
            return _LookedUp(user=user, connection=connection, before=before, after=before)
        try:
            async with open_broker(
                connection,
                brokers=app.registry.brokers,
                repository=app.repository,
                clock=app.clock,
            ) as broker:
                await broker.authenticate()
                action = cancel_recorded_order if cancel else refresh_order
                after = await action(
                    repository=app.repository,
                    broker=broker,
                    user_id=user.id,
                    order=before,
                    clock=app.clock,
                )
        except Exception as exc:
            if ctx.find_root().obj.get("traceback"):
                raise
            return _LookedUp(
                user=user,
                connection=connection,
                before=before,
                after=None,
                error=describe_broker_failure(exc, connection),
            )
        return _LookedUp(user=user, connection=connection, before=before, after=after)


def _missed(current: Order) -> bool:
    """The last lookup by client id found nothing (finding an order resets the count to 0)."""
    return not current.is_terminal and current.missing_lookups > 0


@order.command("status", short_help="Look an order up at its broker.")
@click.argument("client_order_id", metavar="CLIENT_ID")
@user_option
@click.pass_context
def order_status(ctx: click.Context, client_order_id: str, user_name: str | None) -> None:
    """Look the user's order CLIENT_ID up at its broker by its client id and record what the
    broker says. A finished order (filled, cancelled, rejected, expired, not placed) is shown
    as recorded, without asking the broker.

    Exit status 0 when the broker answered (the order found or not), 1 when the lookup failed.
    """
    found = asyncio.run(_look_up(ctx, user_name, client_order_id, cancel=False))
    if found.after is None:
        _report(found.before, found.connection)
        click.echo(
            f"Error: could not look order {client_order_id} up at {found.connection.name} "
            f"({found.connection.broker}): {found.error}; the state above is the one last "
            "recorded.",
            err=True,
        )
        ctx.exit(1)
    current = found.after
    missed = _missed(current)
    _report(current, found.connection, explain=not missed)
    if found.before.is_terminal:
        click.echo("(Final: shown as recorded, not looked up again.)")
    elif missed:
        click.echo(not_found_text(current, found.connection))


@order.command("cancel", short_help="Cancel an open order.")
@click.argument("client_order_id", metavar="CLIENT_ID")
@user_option
@click.pass_context
def order_cancel(ctx: click.Context, client_order_id: str, user_name: str | None) -> None:
    """Ask the broker to cancel the user's order CLIENT_ID and record what it says. Safe to run
    again: cancelling is idempotent.

    Exit status 0 when nothing of the order is working any more (cancelled now or before,
    expired, refused, never placed), 1 when it filled first, the broker does not know it, or
    the request failed.
    """
    found = asyncio.run(_look_up(ctx, user_name, client_order_id, cancel=True))
    if found.after is None:
        _report(found.before, found.connection)
        click.echo(
            f"Error: could not cancel order {client_order_id} at {found.connection.name} "
            f"({found.connection.broker}): {found.error}; the state above is the one last "
            "recorded. Cancelling again is safe.",
            err=True,
        )
        ctx.exit(1)
    current = found.after
    if found.before.is_terminal:
        click.echo(f"Order {client_order_id} is already {current.status.value}: nothing to cancel.")
        _report(current, found.connection)
    elif current.status is OrderStatus.CANCELED:
        click.echo(f"Cancelled order {client_order_id}.")
        _report(current, found.connection)
    elif _missed(current):
        click.echo(f"Nothing was cancelled: the broker does not know order {client_order_id}.")
        _report(current, found.connection, explain=False)
        click.echo(not_found_text(current, found.connection))
    else:
        click.echo(f"Order {client_order_id} was not cancelled: it is {current.status.value}.")
        _report(current, found.connection)
    ctx.exit(0 if current.status in _NOTHING_WORKING else 1)


@order.command("list")
@user_option
@click.option(
    "--connection",
    "connection_name",
    metavar="NAME",
    default=None,
    help="Only the orders of this broker connection.",
)
@click.option(
    "--open", "open_only", is_flag=True, help="Only orders not finished yet (open, unknown…)."
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    default=None,
    help="Only the newest N of the orders selected.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def order_list(
    ctx: click.Context,
    user_name: str | None,
    connection_name: str | None,
    open_only: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    """List the user's recorded orders, oldest first: manual ones and their strategies'.

    The ledger as recorded; nothing is asked of a broker (`tradecore order status` does).
    In JSON, amounts are strings holding the exact decimal digits and times are ISO 8601 with
    their UTC offset.
    """

    async def run() -> tuple[User, Sequence[Order], list[BrokerConnection], dict[str, str]]:
        async with open_app(ctx) as app, app.repository.unit_of_work() as uow:
            user = await user_named(uow, user_name)
            connection_id = None
            if connection_name is not None:
                connection_id = (await connection_named(uow, user, connection_name)).id
            found = await uow.orders.list(
                user.id, connection_id=connection_id, open_only=open_only, limit=limit
            )
            connections = list(await uow.connections.list(user.id))
            strategies = {each.id: each.name for each in await uow.strategies.list(user.id)}
            return user, found, connections, strategies

    user, found, connections, strategies = asyncio.run(run())
    names = {each.id: each.name for each in connections}
    masks = {each.id: secret_mask(each) for each in connections}
    if as_json:
        payload = [
            order_json(
                each,
                connection=names.get(each.request.connection_id, each.request.connection_id),
                strategy=None
                if each.strategy_id is None
                else strategies.get(each.strategy_id, "(removed strategy)"),
                mask=masks.get(each.request.connection_id, str),
            )
            for each in found
        ]
        click.echo(json.dumps(payload, indent=2))
        return
    if not found:
        filters = [f"connection {connection_name}"] if connection_name else []
        filters += ["open"] if open_only else []
        suffix = f" ({', '.join(filters)})" if filters else ""
        click.echo(f"No orders recorded for {user.name}{suffix}.")
        return
    table = orders_table(
        found,
        connection_names=names,
        strategy_names=strategies,
        masks=masks,
        title=f"Orders of {user.name}",
    )
    print_table(Console(soft_wrap=True), table)
    click.echo(f"{len(found)} order(s).")
