"""``tradecore risk show|set|halt|resume``: a user's risk limits and the global kill switch.

Every order, a strategy's or one placed by hand, passes these checks before it is recorded; the
rules are listed in ``docs/orders.md``. Notional is quantity times price in the instrument's price
currency, so one number applies to every currency. Each command calls one use case of
:class:`tradecore.services.Risk` and renders its answer.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from tradecore.domain import RiskLimits, TradingHalt, User, checked_amount
from tradecore.errors import DomainError
from tradecore.services import UNCHANGED, HaltChange, RiskOverview
from tradecore_cli.app import find_user, open_app, user_option
from tradecore_cli.output import Output, json_option
from tradecore_cli.render_orders import limits_lines
from tradecore_cli.render_trades import amount, timestamp

__all__ = ["risk"]

_NONE = frozenset({"none", "no", "off", "unlimited"})


@click.group()
def risk() -> None:
    """Risk limits of a user, and the kill switch that halts all trading."""


def _notional(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    if value is None:
        return UNCHANGED
    text = value.strip()
    if text.lower() in _NONE:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or "e" in text.lower() or number <= 0:
        raise click.BadParameter(
            f"{value!r} is not an amount greater than 0 (such as 1000 or 250.50) nor 'none'",
            ctx=ctx,
            param=param,
        )
    try:
        return checked_amount("notional", number)  # the bounds of docs/orders.md
    except DomainError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _count(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    if value is None:
        return UNCHANGED
    text = value.strip()
    if text.lower() in _NONE:
        return None
    if not text.isdigit() or len(text) > 9:
        raise click.BadParameter(
            f"{value!r} is not a whole number of 0 or more (0 forbids strategy orders) nor 'none'",
            ctx=ctx,
            param=param,
        )
    return int(text)


def _instruments(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    if value is None:
        return UNCHANGED
    text = value.strip()
    if text.lower() == "all":
        return None
    symbols = [item.strip() for item in text.split(",") if item.strip()]
    if not symbols:
        raise click.BadParameter(
            f"{value!r} lists no symbol; give SYMBOL,SYMBOL,... or 'all'", ctx=ctx, param=param
        )
    return frozenset(symbols)


def _print_limits(limits: RiskLimits) -> None:
    for label, value in limits_lines(limits):
        click.echo(f"  {label + ':':22}{value}")


@risk.command("show", short_help="A user's risk limits and the kill switch.")
@user_option
@json_option
@click.pass_context
def risk_show(ctx: click.Context, user_name: str | None, as_json: bool) -> None:
    """Show the user's risk limits ("no limit" when not set), whether the kill switch is engaged
    (for everyone), and whether the user's automation is paused."""

    async def run() -> tuple[User, RiskOverview]:
        async with open_app(ctx) as app:
            user = await find_user(app, user_name)
            return user, await app.risk.show(user.id)

    user, overview = asyncio.run(run())
    limits, halt, paused = overview.limits, overview.halt, overview.paused
    if as_json:
        Output(as_json=True).data(_overview_json(user, overview))
        return
    click.echo(f"Risk limits of {user.name} (every order, a strategy's or placed by hand):")
    _print_limits(limits)
    click.echo("  (notional = quantity x price, in the instrument's price currency)")
    if halt is None:
        click.echo("Kill switch: not engaged.")
    else:
        click.echo(
            f"Kill switch: ENGAGED since {halt.since:%Y-%m-%d %H:%M} UTC ({halt.reason}): no "
            "order is placed for anyone until `tradecore risk resume`."
        )
    if paused:
        click.echo(f"Automation of {user.name}: PAUSED: none of their orders is placed.")
    else:
        click.echo(f"Automation of {user.name}: not paused.")


def _overview_json(user: User, overview: RiskOverview) -> dict[str, Any]:
    limits, halt = overview.limits, overview.halt
    allowed = limits.allowed_instruments
    return {
        "user": user.name,
        "limits": {
            "max_order_notional": amount(limits.max_order_notional),
            "max_cycle_notional": amount(limits.max_cycle_notional),
            "max_orders_per_cycle": limits.max_orders_per_cycle,
            "allowed_instruments": None if allowed is None else sorted(allowed),
        },
        "kill_switch": {
            "engaged": halt is not None,
            "since": None if halt is None else timestamp(halt.since),
            "reason": None if halt is None else halt.reason,
        },
        "automation_paused": overview.paused,
    }


@risk.command("set", short_help="Change some of a user's risk limits.")
@user_option
@click.option(
    "--max-order-notional",
    "max_order_notional",
    metavar="AMOUNT|none",
    callback=_notional,
    help="The largest notional of one order.",
)
@click.option(
    "--max-cycle-notional",
    "max_cycle_notional",
    metavar="AMOUNT|none",
    callback=_notional,
    help="The largest notional of all the orders of the user's strategies in one cycle.",
)
@click.option(
    "--max-orders-per-cycle",
    "max_orders_per_cycle",
    metavar="N|none",
    callback=_count,
    help="How many orders the user's strategies may place in one cycle (default 10); 0 "
    "stops strategies from placing orders (orders placed by hand are not counted).",
)
@click.option(
    "--allowed-instruments",
    "allowed_instruments",
    metavar="A,B,...|all",
    callback=_instruments,
    help="The only symbols that may be traded, as the brokers name them; 'all' allows any.",
)
@click.pass_context
def risk_set(
    ctx: click.Context,
    user_name: str | None,
    max_order_notional: object,
    max_cycle_notional: object,
    max_orders_per_cycle: object,
    allowed_instruments: object,
) -> None:
    """Change the given limits of the user; the others stay as they are. 'none' (or 'all' for
    --allowed-instruments) removes a limit.

    Example: tradecore risk set --max-order-notional 500 --allowed-instruments BTC-USD,ETH-USD
    """
    given = {
        "max_order_notional": max_order_notional,
        "max_cycle_notional": max_cycle_notional,
        "max_orders_per_cycle": max_orders_per_cycle,
        "allowed_instruments": allowed_instruments,
    }
    changes: dict[str, Any] = {
        name: value for name, value in given.items() if value is not UNCHANGED
    }
    if not changes:
        raise click.UsageError(
            "nothing to change; give at least one of --max-order-notional, "
            "--max-cycle-notional, --max-orders-per-cycle, --allowed-instruments"
        )

    async def run() -> tuple[User, RiskLimits]:
        async with open_app(ctx) as app:
            user = await find_user(app, user_name)
            return user, await app.risk.set_limits(user.id, **changes)

    user, limits = asyncio.run(run())
    click.echo(f"Risk limits of {user.name} are now:")
    _print_limits(limits)


@risk.command("halt", short_help="Engage the kill switch: stop all order placement.")
@click.option("--reason", required=True, help="Why; shown with every blocked order.")
@click.pass_context
def risk_halt(ctx: click.Context, reason: str) -> None:
    """Engage the global kill switch: from now on no order is placed for any user, neither by
    strategies nor by hand, until `tradecore risk resume`.

    Orders already at a broker stay there (cancel them with `tradecore order cancel`); cycles
    still sync and follow open orders up.
    """
    if not reason.strip():
        raise click.BadParameter("say why trading is halted", param_hint="--reason")

    async def run() -> HaltChange:
        async with open_app(ctx) as app:
            return await app.risk.halt(reason)

    change = asyncio.run(run())
    halt, before = change.halt, change.before
    if before is not None:
        click.echo(
            f"(It was already engaged since {before.since:%Y-%m-%d %H:%M} UTC: {before.reason}; "
            "the reason is replaced.)"
        )
    click.echo(
        f"Kill switch engaged at {halt.since:%Y-%m-%d %H:%M} UTC ({halt.reason}): no order is "
        "placed for any user, by a strategy or by hand, until `tradecore risk resume`. Orders "
        "already at a broker stay there: cancel them with `tradecore order cancel CLIENT_ID`."
    )


@risk.command("resume", short_help="Release the kill switch.")
@click.pass_context
def risk_resume(ctx: click.Context) -> None:
    """Release the global kill switch: orders are placed again, within each user's limits."""

    async def run() -> TradingHalt | None:
        async with open_app(ctx) as app:
            return await app.risk.resume()

    released = asyncio.run(run())
    if released is None:
        click.echo("The kill switch was not engaged; nothing to release.")
        return
    click.echo(
        f"Kill switch released (engaged since {released.since:%Y-%m-%d %H:%M} UTC: "
        f"{released.reason}). Orders are placed again, within each user's limits."
    )
