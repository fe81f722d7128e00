"""``tradecore order place``: an order placed by hand.

A manual order goes through the same protocol and risk checks as a strategy's (see
``docs/orders.md``): it is recorded before it is sent, sent once, and an uncertain outcome is
settled by looking it up by its client id, never by sending it again. ``--key`` makes a placement
idempotent: run the same command with the same key again and the order already recorded is looked
up and shown, not sent a second time.

Every text that may come from an adapter (an order's reason, a broker's error) is shown with the
connection's secrets masked. The command calls :class:`tradecore.services.Orders` (``preview`` to
ask first, then ``place``) and renders the answer.
"""

from __future__ import annotations

import asyncio
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import click

from tradecore.domain import Order, OrderStatus, User, checked_amount
from tradecore.errors import DomainError, NotFound, OrderBlocked
from tradecore.services import (
    AccountNotChosen,
    ConnectionInactive,
    Estimate,
    KeyUsedElsewhere,
    OrderForm,
    OrderPlacement,
    PlacementFailed,
)
from tradecore_cli.app import confirm, find_user, open_app, user_option
from tradecore_cli.output import Output, json_option
from tradecore_cli.render_orders import ACCEPTED, manual_order_summary, order_json, order_report
from tradecore_cli.render_trades import amount

__all__ = ["order_place"]


def _decimal(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    # An exact, positive number: never a float, never an exponent; within the bounds of amounts.
    if value is None:
        return None
    text = value.strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or "e" in text.lower() or number <= 0:
        raise click.BadParameter(
            f"{value!r} is not a number greater than 0 such as 0.5 or 100", ctx=ctx, param=param
        )
    try:
        return checked_amount(param.human_readable_name, number)
    except DomainError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _cents(value: Decimal) -> str:
    if abs(value) >= 1:
        return amount(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) or ""
    return amount(value) or ""


_WHERE = {
    "limit": "at its limit price",
    "ask": "at the current ask",
    "bid": "at the current bid",
    "last": "at the last price",
}


def _estimate_text(estimate: Estimate) -> str:
    """``worth about 600.45 USD at the current ask``."""
    currency = f" {estimate.currency}" if estimate.currency else ""
    return f"worth about {_cents(estimate.notional)}{currency} {_WHERE[estimate.basis]}"


@click.command("place", short_help="Place an order by hand (asks first unless --yes).")
@click.option(
    "--connection",
    "connection_name",
    metavar="NAME",
    required=True,
    help="The broker connection to send it to.",
)
@click.option(
    "--side",
    type=click.Choice(["buy", "sell"], case_sensitive=False),
    required=True,
    help="Buy or sell (any case: BUY and Buy are buy).",
)
@click.option(
    "--symbol",
    required=True,
    help="The instrument, as the broker names it (BTC-USD, BTCUSDT); checked against the "
    "broker's instruments.",
)
@click.option(
    "--quantity",
    required=True,
    callback=_decimal,
    metavar="Q",
    help="How much, in the instrument's units (exact decimal).",
)
@click.option(
    "--type",
    "order_type",
    type=click.Choice(["market", "limit"]),
    default="market",
    show_default=True,
    help="At market, or limited to --price.",
)
@click.option(
    "--price", callback=_decimal, metavar="P", help="The limit price (limit orders only)."
)
@click.option(
    "--tif",
    type=click.Choice(["gtc", "ioc", "fok", "day"]),
    default="gtc",
    show_default=True,
    help="How long a limit order stays working: good till cancelled, immediate or cancel, "
    "fill or kill, the day.",
)
@click.option(
    "--account",
    metavar="ID",
    default=None,
    help="The account to trade (default: the connection's only account).",
)
@click.option(
    "--key",
    metavar="KEY",
    default=None,
    help="An idempotency key: the same key never places a second order; running the command "
    "again looks the first one up instead.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@user_option
@json_option
@click.pass_context
def order_place(
    ctx: click.Context,
    connection_name: str,
    side: str,
    symbol: str,
    quantity: Decimal,
    order_type: str,
    price: Decimal | None,
    tif: str,
    account: str | None,
    key: str | None,
    yes: bool,
    user_name: str | None,
    as_json: bool,
) -> None:
    """Send one order to the user's broker connection --connection, after the risk checks.

    Shows the order and asks for confirmation unless --yes is given: this is a real order.
    The order is recorded before it is sent and sent once; an outcome the broker did not confirm
    is UNKNOWN and is looked up by its client id (`tradecore order status CLIENT_ID`), never sent
    again.

    Exit status: 0 when the broker accepted the order (open, partially filled or filled), 1 when
    it was refused, blocked by a risk rule, or its outcome is unknown.

    Example: tradecore order place --connection p1 --side buy --symbol BTC-USD --quantity 0.01
    --key first-btc

    With --json the question goes to standard error and the order, as recorded, to standard
    output.
    """
    out = Output(as_json=as_json)
    if order_type == "limit" and price is None:
        raise click.UsageError("a limit order needs --price")
    if order_type == "market" and price is not None:
        raise click.UsageError("a market order has no --price; for a limit order add --type limit")
    if key is not None and not key.strip():
        raise click.BadParameter("an idempotency key must not be empty", param_hint="--key")
    if not symbol.strip():
        raise click.BadParameter("a symbol must not be empty", param_hint="--symbol")
    form = OrderForm(
        connection=connection_name,
        symbol=symbol,
        side=side,
        quantity=quantity,
        order_type=order_type,
        limit_price=price,
        time_in_force=tif,
        account=account,
        key=key,
    )

    async def run() -> tuple[User, OrderPlacement] | None:
        async with open_app(ctx) as app:
            user = await find_user(app, user_name)
            try:
                if not yes:
                    ticket = await app.orders.preview(user.id, form)
                    if ticket.existing is None:
                        connection, wanted = ticket.connection, ticket.wanted
                        click.echo(
                            f"About to send an order to {connection.name} ({connection.broker}), "
                            f"account {wanted.account_id}:",
                            err=as_json,
                        )
                        click.echo(f"  {manual_order_summary(wanted)}", err=as_json)
                        if ticket.estimate is not None:
                            click.echo(f"  {_estimate_text(ticket.estimate)}", err=as_json)
                        if key is not None:
                            click.echo(f"  idempotency key {key}", err=as_json)
                        for note in ticket.notes:
                            click.echo(f"  note: {note}", err=as_json)
                        if not confirm("Send it?", err=as_json):
                            return None
                return user, await app.orders.place(user.id, form)
            except NotFound:
                raise click.UsageError(
                    f"{user.name} has no broker connection named {connection_name!r}; see "
                    "`tradecore broker list`"
                ) from None
            except ConnectionInactive as exc:
                raise click.UsageError(str(exc)) from None
            except KeyUsedElsewhere as exc:
                raise click.UsageError(
                    f"key {key!r} was already used for order {exc.client_order_id} on another "
                    f"connection; see `tradecore order status {exc.client_order_id}`, or choose "
                    "another --key"
                ) from None
            except AccountNotChosen as exc:
                if not exc.accounts:
                    raise click.ClickException(str(exc)) from None
                raise click.UsageError(
                    f"connection {exc.connection.name} has {len(exc.accounts)} accounts; say "
                    f"which with --account ({', '.join(exc.accounts)})"
                ) from None
            except PlacementFailed as exc:
                if ctx.find_root().obj.get("traceback"):
                    raise
                raise click.ClickException(_failure_text(exc)) from None

    try:
        placed = asyncio.run(run())
    except OrderBlocked as exc:
        if ctx.find_root().obj.get("traceback"):
            raise
        click.echo(f"Error: order not placed, {exc}; nothing was recorded or sent.", err=True)
        ctx.exit(1)
    if placed is None:
        click.echo("Nothing sent.", err=as_json)
        ctx.exit(1)
    _, placement = placed
    current = placement.order
    data = order_json(current, connection=placement.connection.name, strategy=None)
    del data["strategy"]  # always a manual order
    out.data(
        {
            "order": data,
            "broker": placement.connection.broker,
            "existed": placement.existed,
            "differs": placement.differs,
            "accepted": _accepted(current),
            "notes": list(placement.notes),
        }
    )
    if placement.existed:
        out.say(
            f"An order was already recorded under key {key}: it was looked up at the broker, "
            "not sent again."
        )
        if placement.differs:
            out.say(
                "Note: the recorded order is not the one this command describes; the key "
                "identifies the recorded one. Use another --key for a new order."
            )
    for note in placement.notes:
        out.say(f"Note: {note}.")
    report = order_report(
        current, placement.connection, just_placed=not placement.existed, keyed=bool(key)
    )
    out.say("\n".join(report))
    ctx.exit(0 if _accepted(current) else 1)


def _failure_text(exc: PlacementFailed) -> str:
    connection, recorded = exc.connection, exc.recorded
    where = (
        "nothing was recorded or sent"
        if recorded is None
        else f"the order was recorded ({recorded.status.value}) and may have been sent: look it "
        f"up with `tradecore order status {exc.client_order_id}`; it is never sent again"
    )
    return (
        f"placing order {exc.client_order_id} at {connection.name} ({connection.broker}) "
        f"failed: {exc.reason}; {where}"
    )


def _accepted(current: Order) -> bool:
    # Open or (partly) filled; a cancelled or expired order counts when something filled.
    if current.status in ACCEPTED:
        return True
    traded = current.filled_quantity > 0
    return traded and current.status in {OrderStatus.CANCELED, OrderStatus.EXPIRED}
