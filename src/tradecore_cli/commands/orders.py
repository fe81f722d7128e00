"""``tradecore order place|status|cancel|list``: orders placed by hand, and every order's state.

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
import json
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import click
from attrs import frozen
from rich.console import Console

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
from tradecore.ports import BrokerPort, UnitOfWork
from tradecore.services import (
    SAFE_WINDOW,
    ManualOrder,
    cancel_recorded_order,
    describe_broker_failure,
    manual_client_order_id,
    notional_of,
    open_broker,
    place_manual_order,
    refresh_order,
)
from tradecore.services.orders import NOT_PLACED_LOOKUPS
from tradecore_adapters.bootstrap import Application
from tradecore_cli.app import connection_named, open_app, user_named, user_option
from tradecore_cli.render import print_table
from tradecore_cli.render_orders import (
    ACCEPTED,
    order_json,
    order_summary,
    orders_table,
    secret_mask,
    time_in_force_text,
)
from tradecore_cli.render_trades import amount

__all__ = ["order"]

_UNRESOLVED = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.UNKNOWN})
_NOTHING_WORKING = frozenset(
    {OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED, OrderStatus.NOT_PLACED}
)


@click.group()
def order() -> None:
    """Orders: place one by hand, look one up, cancel one, list them."""


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


async def _recorded(uow: UnitOfWork, user: User, client_order_id: str) -> Order:
    try:
        return await uow.orders.get(user.id, client_order_id)
    except NotFound:
        raise click.UsageError(
            f"{user.name} has no order with client id {client_order_id!r}; "
            "see `tradecore order list`"
        ) from None


@order.command("place", short_help="Place an order by hand (asks first unless --yes).")
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
            click.echo(f"  {_wanted_summary(wanted)}")
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
    _report(current, placement.connection, just_placed=not placement.existed, keyed=bool(key))
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


def _wanted_summary(wanted: ManualOrder) -> str:
    price = "at market" if wanted.limit_price is None else f"limit {amount(wanted.limit_price)}"
    text = f"{wanted.side.value} {amount(wanted.quantity)} {wanted.instrument.symbol} {price}"
    tif = time_in_force_text(wanted.order_type, wanted.time_in_force)
    return text + (f" ({tif})" if tif else "")


def _accepted(current: Order) -> bool:
    # Open or (partly) filled; a cancelled or expired order counts when something filled.
    if current.status in ACCEPTED:
        return True
    traded = current.filled_quantity > 0
    return traded and current.status in {OrderStatus.CANCELED, OrderStatus.EXPIRED}


def _paper_note(connection: BrokerConnection) -> str:
    if connection.broker != "paper":
        return ""
    return (
        " (The paper broker keeps its orders in the memory of the process that placed them, so "
        "a later command cannot find them.)"
    )


def _report(
    current: Order,
    connection: BrokerConnection,
    *,
    just_placed: bool = False,
    keyed: bool = False,
    explain: bool = True,
) -> None:
    """The order's state, and (with ``explain``) what it means, in a few lines."""
    mask = secret_mask(connection)
    request = current.request
    cid = current.client_order_id
    click.echo(
        f"Order {cid}: {order_summary(current)} on {connection.name} ({connection.broker}), "
        f"account {request.account_id}"
    )
    click.echo(f"  status:        {current.status.value}")
    click.echo(f"  filled:        {amount(current.filled_quantity)} of {amount(request.quantity)}")
    if current.average_fill_price is not None:
        click.echo(f"  average price: {amount(current.average_fill_price)}")
    if current.broker_order_id:
        click.echo(f"  broker id:     {current.broker_order_id}")
    click.echo(f"  recorded:      {current.created_at:%Y-%m-%d %H:%M:%S} UTC")
    if current.updated_at is not None:
        click.echo(f"  updated:       {current.updated_at:%Y-%m-%d %H:%M:%S} UTC")
    if current.reason:
        click.echo(f"  reason:        {mask(current.reason)}")
    if not explain:
        return
    status = current.status
    if status is OrderStatus.UNKNOWN or status is OrderStatus.PENDING_SUBMIT:
        click.echo(
            "The outcome is unknown: the broker did not confirm the order, which may or may not "
            f"have reached the market. It is never sent again: it is looked up by its client "
            f"id, by `tradecore order status {cid}` and by every cycle. If the broker still "
            f"does not know it {_minutes()} after it was recorded and after "
            f"{NOT_PLACED_LOOKUPS} lookups, it is marked not_placed."
        )
        if just_placed and not keyed:
            click.echo(
                "Running this command again would place a new order: look this one up first "
                "(or use --key, which never places twice)."
            )
    elif status is OrderStatus.OPEN or status is OrderStatus.PARTIALLY_FILLED:
        click.echo(
            f"It is working at the broker. Follow it with `tradecore order status {cid}`; "
            f"cancel it with `tradecore order cancel {cid}`."
        )
    elif status is OrderStatus.REJECTED:
        click.echo("The broker refused it: nothing was placed.")
    elif status is OrderStatus.NOT_PLACED:
        click.echo("It never reached the broker (concluded after lookups that found nothing).")


def _minutes() -> str:
    return f"{int(SAFE_WINDOW.total_seconds() // 60)} minutes"


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


def _explain_not_found(found: _LookedUp, current: Order) -> None:
    connection = found.connection
    where = f"{connection.name} ({connection.broker})"
    if current.status in _UNRESOLVED:
        click.echo(
            f"{where} does not know this order (looked up by its client id; "
            f"{current.missing_lookups} lookup(s) found nothing so far). It may never have "
            "reached the broker: it is never sent again, and once it was recorded "
            f"{_minutes()} ago or more and {NOT_PLACED_LOOKUPS} lookups found nothing, it is "
            f"marked not_placed.{_paper_note(connection)}"
        )
    else:
        click.echo(
            f"{where} does not know this order any more (looked up by its client id; "
            f"{current.missing_lookups} lookup(s) found nothing). The broker had accepted it, "
            f"so it stays {current.status.value} in the ledger and is never sent again; check "
            f"it at the broker.{_paper_note(connection)}"
        )


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
        _explain_not_found(found, current)


def _missed(current: Order) -> bool:
    """The last lookup by client id found nothing (finding an order resets the count to 0)."""
    return not current.is_terminal and current.missing_lookups > 0


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
        _explain_not_found(found, current)
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
