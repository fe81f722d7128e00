"""``tradecore order status|cancel|list``: every order's state (``place`` is in
:mod:`tradecore_cli.commands.order_place`).

An order whose outcome is uncertain is settled by looking it up by its client id, never by
sending it again (see ``docs/orders.md``). Every text that may come from an adapter (an order's
reason, a broker's error) is shown with the connection's secrets masked. Each command calls one
use case of :class:`tradecore.services.Orders` and renders its answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click
from rich.console import Console

from tradecore.domain import BrokerConnection, Order, OrderStatus, User
from tradecore.errors import NotFound
from tradecore.services import OrderListing, OrderLookup
from tradecore_cli.app import find_user, open_app, user_option
from tradecore_cli.commands.order_place import order_place
from tradecore_cli.output import Output, json_option
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


def _report(
    current: Order, connection: BrokerConnection, *, explain: bool = True, out: Output | None = None
) -> None:
    (out or Output()).say("\n".join(order_report(current, connection, explain=explain)))


def lookup_json(found: OrderLookup, **facts: Any) -> dict[str, Any]:
    """An order looked up (or cancelled) at its broker as JSON: the order as recorded now,
    whether the broker was asked and answered, whether it knew the order, and why asking
    failed."""
    current = found.after or found.before
    data = order_json(current, connection=found.connection.name, strategy=None)
    del data["strategy"]  # a lookup does not name the strategy (see `order list --json`)
    return {
        "order": data,
        "broker": found.connection.broker,
        "asked_broker": found.after is not None and not found.before.is_terminal,
        "known_to_broker": None if found.after is None else not _missed(found.after),
        "error": found.error,
        **facts,
    }


async def _look_up(
    ctx: click.Context, user_name: str | None, client_order_id: str, *, cancel: bool
) -> OrderLookup:
    async with open_app(ctx) as app:
        user = await find_user(app, user_name)
        try:
            if cancel:
                return await app.orders.cancel(user.id, client_order_id)
            return await app.orders.status(user.id, client_order_id)
        except NotFound:
            raise click.UsageError(
                f"{user.name} has no order with client id {client_order_id!r}; "
                "see `tradecore order list`"
            ) from None


def _missed(current: Order) -> bool:
    """The last lookup by client id found nothing (finding an order resets the count to 0)."""
    return not current.is_terminal and current.missing_lookups > 0


@order.command("status", short_help="Look an order up at its broker.")
@click.argument("client_order_id", metavar="CLIENT_ID")
@user_option
@json_option
@click.pass_context
def order_status(
    ctx: click.Context, client_order_id: str, user_name: str | None, as_json: bool
) -> None:
    """Look the user's order CLIENT_ID up at its broker by its client id and record what the
    broker says. A finished order (filled, cancelled, rejected, expired, not placed) is shown
    as recorded, without asking the broker.

    Exit status 0 when the broker answered (the order found or not), 1 when the lookup failed.
    """
    out = Output(as_json=as_json)
    found = asyncio.run(_look_up(ctx, user_name, client_order_id, cancel=False))
    out.data(lookup_json(found))
    if found.after is None:
        _report(found.before, found.connection, out=out)
        click.echo(
            f"Error: could not look order {client_order_id} up at {found.connection.name} "
            f"({found.connection.broker}): {found.error}; the state above is the one last "
            "recorded.",
            err=True,
        )
        ctx.exit(1)
    current = found.after
    missed = _missed(current)
    _report(current, found.connection, explain=not missed, out=out)
    if found.before.is_terminal:
        out.say("(Final: shown as recorded, not looked up again.)")
    elif missed:
        out.say(not_found_text(current, found.connection))


@order.command("cancel", short_help="Cancel an open order.")
@click.argument("client_order_id", metavar="CLIENT_ID")
@user_option
@json_option
@click.pass_context
def order_cancel(
    ctx: click.Context, client_order_id: str, user_name: str | None, as_json: bool
) -> None:
    """Ask the broker to cancel the user's order CLIENT_ID and record what it says. Safe to run
    again: cancelling is idempotent.

    Exit status 0 when nothing of the order is working any more (cancelled now or before,
    expired, refused, never placed), 1 when it filled first, the broker does not know it, or
    the request failed.
    """
    out = Output(as_json=as_json)
    found = asyncio.run(_look_up(ctx, user_name, client_order_id, cancel=True))
    current = found.after or found.before
    out.data(
        lookup_json(
            found,
            cancelled=found.after is not None
            and not found.before.is_terminal
            and current.status is OrderStatus.CANCELED,
            working=current.status not in _NOTHING_WORKING,
        )
    )
    if found.after is None:
        _report(found.before, found.connection, out=out)
        click.echo(
            f"Error: could not cancel order {client_order_id} at {found.connection.name} "
            f"({found.connection.broker}): {found.error}; the state above is the one last "
            "recorded. Cancelling again is safe.",
            err=True,
        )
        ctx.exit(1)
    if found.before.is_terminal:
        out.say(f"Order {client_order_id} is already {current.status.value}: nothing to cancel.")
        _report(current, found.connection, out=out)
    elif current.status is OrderStatus.CANCELED:
        out.say(f"Cancelled order {client_order_id}.")
        _report(current, found.connection, out=out)
    elif _missed(current):
        out.say(f"Nothing was cancelled: the broker does not know order {client_order_id}.")
        _report(current, found.connection, explain=False, out=out)
        out.say(not_found_text(current, found.connection))
    else:
        out.say(f"Order {client_order_id} was not cancelled: it is {current.status.value}.")
        _report(current, found.connection, out=out)
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
@json_option
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

    async def run() -> tuple[User, OrderListing]:
        async with open_app(ctx) as app:
            user = await find_user(app, user_name)
            try:
                listing = await app.orders.list(
                    user.id, connection=connection_name, open_only=open_only, limit=limit
                )
            except NotFound:
                raise click.UsageError(
                    f"{user.name} has no broker connection named {connection_name!r}; see "
                    "`tradecore broker list`"
                ) from None
            return user, listing

    user, listing = asyncio.run(run())
    found, connections, strategies = listing.orders, listing.connections, listing.strategy_names
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
