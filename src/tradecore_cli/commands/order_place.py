"""``tradecore order place``: an order placed by hand.

A manual order goes through the same protocol and risk checks as a strategy's (see
``docs/orders.md``): it is recorded before it is sent, sent once, and an uncertain outcome is
settled by looking it up by its client id, never by sending it again. ``--key`` makes a placement
idempotent: run the same command with the same key again and the order already recorded is looked
up and shown, not sent a second time.

Every text that may come from an adapter (an order's reason, a broker's error) is shown with the
connection's secrets masked.
"""

from __future__ import annotations

import asyncio
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import click
from attrs import frozen

from tradecore.domain import (
    BrokerConnection,
    Instrument,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    User,
    new_id,
)
from tradecore.errors import AlreadyExists, NotFound, OrderBlocked
from tradecore.ports import BrokerPort
from tradecore.services import (
    ManualOrder,
    describe_broker_failure,
    manual_client_order_id,
    notional_of,
    open_broker,
    place_manual_order,
)
from tradecore_adapters.bootstrap import Application
from tradecore_cli.app import connection_named, open_app, user_named, user_option
from tradecore_cli.render_orders import ACCEPTED, manual_order_summary, order_report
from tradecore_cli.render_trades import amount

__all__ = ["order_place"]


def _decimal(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    # An exact, positive number: never a float, never an exponent.
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
    return number


@frozen(kw_only=True)
class _Placement:
    user: User
    connection: BrokerConnection
    order: Order
    existed: bool
    key: str | None
    differs: bool


def _broker_failure(
    ctx: click.Context, exc: Exception, connection: BrokerConnection, doing: str
) -> click.ClickException:
    if ctx.find_root().obj.get("traceback"):
        raise exc
    return click.ClickException(
        f"{doing} at {connection.name} ({connection.broker}) failed: "
        f"{describe_broker_failure(exc, connection)}"
    )


async def _account_of(
    ctx: click.Context, broker: BrokerPort, connection: BrokerConnection, given: str | None
) -> str:
    """``--account``, or the connection's only account."""
    if given is not None:
        return given
    try:
        accounts = await broker.get_accounts()
    except Exception as exc:
        raise _broker_failure(ctx, exc, connection, "listing the accounts") from None
    if len(accounts) == 1:
        return accounts[0].account_id
    if not accounts:
        raise click.ClickException(
            f"connection {connection.name} ({connection.broker}) reports no account to trade"
        )
    listed = ", ".join(account.account_id for account in accounts)
    raise click.UsageError(
        f"connection {connection.name} has {len(accounts)} accounts; say which with "
        f"--account ({listed})"
    )


def _cents(value: Decimal) -> str:
    if abs(value) >= 1:
        return amount(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) or ""
    return amount(value) or ""


async def _estimate(broker: BrokerPort, wanted: ManualOrder) -> str | None:
    """``worth about 600.45 USD at the current ask``, or ``None`` when no price is at hand."""
    quote = None
    if wanted.limit_price is None:
        try:
            quote = await broker.get_asset_price(wanted.instrument)
        except Exception:  # only an estimate: the risk check prices the order again
            return None
    notional = notional_of(
        wanted.side, wanted.quantity, limit_price=wanted.limit_price, quote=quote
    )
    if notional is None:
        return None
    currency = f" {quote.currency}" if quote is not None and quote.currency else ""
    if wanted.limit_price is not None:
        where = "at its limit price"
    elif quote is not None and (quote.ask if wanted.side is Side.BUY else quote.bid):
        where = "at the current ask" if wanted.side is Side.BUY else "at the current bid"
    else:
        where = "at the last price"
    return f"worth about {_cents(notional)}{currency} {where}"


def _same_request(recorded: Order, wanted: ManualOrder) -> bool:
    request = recorded.request
    return (
        request.connection_id,
        request.account_id,
        request.instrument.symbol,
        request.side,
        request.quantity,
        request.order_type,
        request.limit_price,
    ) == (
        wanted.connection_id,
        wanted.account_id,
        wanted.instrument.symbol,
        wanted.side,
        wanted.quantity,
        wanted.order_type,
        wanted.limit_price,
    )


@click.command("place", short_help="Place an order by hand (asks first unless --yes).")
@click.option(
    "--connection",
    "connection_name",
    metavar="NAME",
    required=True,
    help="The broker connection to send it to.",
)
@click.option("--side", type=click.Choice(["buy", "sell"]), required=True, help="Buy or sell.")
@click.option(
    "--symbol", required=True, help="The instrument, as the broker names it (BTC-USD, BTCUSDT)."
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
    """
    if order_type == "limit" and price is None:
        raise click.UsageError("a limit order needs --price")
    if order_type == "market" and price is not None:
        raise click.UsageError("a market order has no --price; for a limit order add --type limit")
    if key is not None and not key.strip():
        raise click.BadParameter("an idempotency key must not be empty", param_hint="--key")
    if not symbol.strip():
        raise click.BadParameter("a symbol must not be empty", param_hint="--symbol")
    instrument = Instrument(symbol=symbol.strip())

    async def place(
        app: Application, broker: BrokerPort, user: User, connection: BrokerConnection
    ) -> _Placement | None:
        # Without --key, a fresh key (as the service would make): the client id is known before
        # anything is sent, so a failure can say where the order stands.
        idempotency_key = key or new_id()
        client_order_id = manual_client_order_id(user.id, idempotency_key)
        existing = await _find(app, user, client_order_id) if key is not None else None
        if existing is not None and existing.request.connection_id != connection.id:
            raise click.UsageError(
                f"key {key!r} was already used for order {existing.client_order_id} on another "
                "connection; see `tradecore order status "
                f"{existing.client_order_id}`, or choose another --key"
            )
        try:
            await broker.authenticate()
        except Exception as exc:
            raise _broker_failure(ctx, exc, connection, "logging in") from None
        account_id = (
            existing.request.account_id
            if existing is not None and account is None
            else await _account_of(ctx, broker, connection, account)
        )
        wanted = ManualOrder(
            connection_id=connection.id,
            account_id=account_id,
            instrument=instrument,
            side=Side(side),
            quantity=quantity,
            order_type=OrderType(order_type),
            limit_price=price,
            time_in_force=TimeInForce(tif),
            key=idempotency_key,
        )
        if existing is None and not yes:
            click.echo(
                f"About to send an order to {connection.name} ({connection.broker}), "
                f"account {account_id}:"
            )
            click.echo(f"  {manual_order_summary(wanted)}")
            estimate = await _estimate(broker, wanted)
            if estimate:
                click.echo(f"  {estimate}")
            if key is not None:
                click.echo(f"  idempotency key {key}")
            if not _confirmed("Send it?"):
                return None
        try:
            placed = await place_manual_order(
                repository=app.repository,
                broker=broker,
                user_id=user.id,
                wanted=wanted,
                clock=app.clock,
                secrets=connection.secret_values(),
            )
        except OrderBlocked:
            raise
        except AlreadyExists:
            raise click.ClickException(
                f"an order with key {key!r} was recorded by another command meanwhile; look it "
                "up with `tradecore order list`"
            ) from None
        except Exception as exc:
            if ctx.find_root().obj.get("traceback"):
                raise
            recorded = await _find(app, user, client_order_id)
            where = (
                "nothing was recorded or sent"
                if recorded is None
                else f"the order was recorded ({recorded.status.value}) and may have been sent: "
                f"look it up with `tradecore order status {client_order_id}`; it is never sent "
                "again"
            )
            raise click.ClickException(
                f"placing order {client_order_id} at {connection.name} ({connection.broker}) "
                f"failed: {describe_broker_failure(exc, connection)}; {where}"
            ) from None
        differs = placed.existed and not _same_request(placed.order, wanted)
        return _Placement(
            user=user,
            connection=connection,
            order=placed.order,
            existed=placed.existed,
            key=key,
            differs=differs,
        )

    async def run() -> _Placement | None:
        async with open_app(ctx) as app:
            async with app.repository.unit_of_work() as uow:
                user = await user_named(uow, user_name)
                connection = await connection_named(uow, user, connection_name)
            if not connection.active:
                raise click.UsageError(
                    f"connection {connection.name} is inactive; orders are not sent to it"
                )
            try:
                async with open_broker(
                    connection,
                    brokers=app.registry.brokers,
                    repository=app.repository,
                    clock=app.clock,
                ) as broker:
                    return await place(app, broker, user, connection)
            except (click.ClickException, click.exceptions.Exit, click.Abort, OrderBlocked):
                raise
            except Exception as exc:  # building the adapter or renewing its login
                raise _broker_failure(ctx, exc, connection, "opening the connection") from None

    try:
        placement = asyncio.run(run())
    except OrderBlocked as exc:
        if ctx.find_root().obj.get("traceback"):
            raise
        click.echo(f"Error: order not placed, {exc}; nothing was recorded or sent.", err=True)
        ctx.exit(1)
    if placement is None:
        click.echo("Nothing sent.")
        ctx.exit(1)
    current = placement.order
    if placement.existed:
        click.echo(
            f"An order was already recorded under key {placement.key}: it was looked up at the "
            "broker, not sent again."
        )
        if placement.differs:
            click.echo(
                "Note: the recorded order is not the one this command describes; the key "
                "identifies the recorded one. Use another --key for a new order."
            )
    report = order_report(
        current, placement.connection, just_placed=not placement.existed, keyed=bool(key)
    )
    click.echo("\n".join(report))
    ctx.exit(0 if _accepted(current) else 1)


async def _find(app: Application, user: User, client_order_id: str) -> Order | None:
    async with app.repository.unit_of_work() as uow:
        try:
            return await uow.orders.get(user.id, client_order_id)
        except NotFound:
            return None


def _confirmed(question: str) -> bool:
    """A yes from the person at the terminal; no answer (no terminal, Ctrl-C) is a no."""
    try:
        return click.confirm(question, default=False)
    except click.Abort:
        click.echo("")
        click.echo("No answer; pass --yes to send an order without being asked.")
        return False


def _accepted(current: Order) -> bool:
    # Open or (partly) filled; a cancelled or expired order counts when something filled.
    if current.status in ACCEPTED:
        return True
    traded = current.filled_quantity > 0
    return traded and current.status in {OrderStatus.CANCELED, OrderStatus.EXPIRED}
