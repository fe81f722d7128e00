"""Orders, strategies and risk limits for the terminal (rich) and for scripts (JSON-ready dicts).

Amounts are exact digits (never a float, never an exponent); times are UTC. Every text an
adapter may have written (an order's ``reason``) goes through ``masks``: the secret values of the
order's connection are replaced by ``**********`` before anything is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.table import Table

from tradecore.domain import (
    BrokerConnection,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    RiskLimits,
    StrategyConfig,
    TimeInForce,
)
from tradecore.ports import StrategyParameter
from tradecore.services import SAFE_WINDOW, ManualOrder, mask_secrets
from tradecore.services.orders import NOT_PLACED_LOOKUPS
from tradecore_cli.render import literal_table
from tradecore_cli.render_trades import amount, timestamp

__all__ = [
    "ACCEPTED",
    "limits_lines",
    "manual_order_summary",
    "not_found_text",
    "order_json",
    "order_price",
    "order_report",
    "order_summary",
    "orders_table",
    "parameter_bounds",
    "parameter_line",
    "parameters_text",
    "secret_mask",
    "strategy_json",
    "strategy_mode",
    "strategy_parameters",
    "time_in_force_text",
]

Mask = Callable[[str], str]
"""Scrubs a connection's secrets from a text."""

ACCEPTED = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED})
"""The statuses of an order the broker has taken and that is working or (partly) filled."""

_UNRESOLVED = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.UNKNOWN})

_TIME_IN_FORCE = {
    "gtc": "good till cancelled",
    "ioc": "immediate or cancel",
    "fok": "fill or kill",
    "day": "good for the day",
}


def _keep(text: str) -> str:
    return text


def secret_mask(connection: BrokerConnection) -> Mask:
    """What scrubs every secret value of ``connection`` from a text."""

    def scrub(text: str) -> str:
        return mask_secrets(text, connection)

    return scrub


def time_in_force_text(order_type: OrderType, time_in_force: TimeInForce) -> str:
    """``good till cancelled``…, for a limit order; empty for a market order."""
    if order_type is OrderType.MARKET:
        return ""
    return _TIME_IN_FORCE.get(time_in_force.value, time_in_force.value)


def order_price(order: Order) -> str:
    """``market`` or ``limit 190.5``."""
    request = order.request
    if request.limit_price is None:
        return request.order_type.value
    return f"{request.order_type.value} {amount(request.limit_price)}"


def _summary(request: OrderRequest | ManualOrder) -> str:
    price = "at market" if request.limit_price is None else f"limit {amount(request.limit_price)}"
    tif = time_in_force_text(request.order_type, request.time_in_force)
    return (
        f"{request.side.value} {amount(request.quantity)} {request.instrument.symbol} {price}"
        + (f" ({tif})" if tif else "")
    )


def order_summary(order: Order) -> str:
    """``buy 0.5 BTC-USD at market`` / ``sell 2 AAPL limit 190.5 (good till cancelled)``."""
    return _summary(order.request)


def manual_order_summary(wanted: ManualOrder) -> str:
    """An order about to be placed by hand, as :func:`order_summary` shows a recorded one."""
    return _summary(wanted)


def _minutes() -> str:
    return f"{int(SAFE_WINDOW.total_seconds() // 60)} minutes"


def _paper_note(connection: BrokerConnection) -> str:
    if connection.broker != "paper":
        return ""
    return (
        " (A paper connection whose settings were changed trades on a new simulated account, "
        "which does not know the orders of the old one.)"
    )


def order_report(
    current: Order,
    connection: BrokerConnection,
    *,
    just_placed: bool = False,
    keyed: bool = False,
    explain: bool = True,
) -> list[str]:
    """The lines of the order's state, and (with ``explain``) what it means."""
    mask = secret_mask(connection)
    request = current.request
    cid = current.client_order_id
    lines = [
        f"Order {cid}: {order_summary(current)} on {connection.name} ({connection.broker}), "
        f"account {request.account_id}",
        f"  status:        {current.status.value}",
        f"  filled:        {amount(current.filled_quantity)} of {amount(request.quantity)}",
    ]
    if current.average_fill_price is not None:
        lines.append(f"  average price: {amount(current.average_fill_price)}")
    if current.broker_order_id:
        lines.append(f"  broker id:     {current.broker_order_id}")
    lines.append(f"  recorded:      {current.created_at:%Y-%m-%d %H:%M:%S} UTC")
    if current.updated_at is not None:
        lines.append(f"  updated:       {current.updated_at:%Y-%m-%d %H:%M:%S} UTC")
    if current.reason:
        lines.append(f"  reason:        {mask(current.reason)}")
    if not explain:
        return lines
    status = current.status
    if status is OrderStatus.UNKNOWN or status is OrderStatus.PENDING_SUBMIT:
        lines.append(
            "The outcome is unknown: the broker did not confirm the order, which may or may not "
            f"have reached the market. It is never sent again: it is looked up by its client "
            f"id, by `tradecore order status {cid}` and by every cycle. If the broker still "
            f"does not know it {_minutes()} after it was recorded and after "
            f"{NOT_PLACED_LOOKUPS} lookups, it is marked not_placed."
        )
        if just_placed and not keyed:
            lines.append(
                "Running this command again would place a new order: look this one up first "
                "(or use --key, which never places twice)."
            )
    elif status is OrderStatus.OPEN or status is OrderStatus.PARTIALLY_FILLED:
        lines.append(
            f"It is working at the broker. Follow it with `tradecore order status {cid}`; "
            f"cancel it with `tradecore order cancel {cid}`."
        )
    elif status is OrderStatus.REJECTED:
        lines.append("The broker refused it: nothing was placed.")
    elif status is OrderStatus.NOT_PLACED:
        lines.append("It never reached the broker (concluded after lookups that found nothing).")
    return lines


def not_found_text(current: Order, connection: BrokerConnection) -> str:
    """What it means that the broker, asked by client id, does not know ``current``."""
    where = f"{connection.name} ({connection.broker})"
    if current.status in _UNRESOLVED:
        return (
            f"{where} does not know this order (looked up by its client id; "
            f"{current.missing_lookups} lookup(s) found nothing so far). It may never have "
            "reached the broker: it is never sent again, and once it was recorded "
            f"{_minutes()} ago or more and {NOT_PLACED_LOOKUPS} lookups found nothing, it is "
            f"marked not_placed.{_paper_note(connection)}"
        )
    return (
        f"{where} does not know this order any more (looked up by its client id; "
        f"{current.missing_lookups} lookup(s) found nothing). The broker had accepted it, "
        f"so it stays {current.status.value} in the ledger and is never sent again; check "
        f"it at the broker.{_paper_note(connection)}"
    )


def _strategy_of(order: Order, strategy_names: Mapping[str, str]) -> str:
    if order.strategy_id is None:
        return "manual"
    return strategy_names.get(order.strategy_id, "(removed strategy)")


def orders_table(
    orders: Sequence[Order],
    *,
    connection_names: Mapping[str, str],
    strategy_names: Mapping[str, str],
    masks: Mapping[str, Mask] | None = None,
    title: str = "Orders",
) -> Table:
    """One row per order, in the order given: created (UTC), client id, connection, side,
    quantity, symbol, type and price, status, filled quantity, average price, the strategy that
    asked (``manual`` for an order placed by hand) and the reason the broker or tradecore gave.

    :param masks: by connection id, what scrubs that connection's secrets from a reason.
    """
    scrub = masks or {}
    table = Table(title=title, title_justify="left")
    headers = (
        "created (UTC)",
        "client id",
        "connection",
        "side",
        "quantity",
        "symbol",
        "type / price",
        "status",
        "filled",
        "avg price",
        "strategy",
        "reason",
    )
    for header in headers:
        right = header in {"quantity", "filled", "avg price"}
        table.add_column(header, justify="right" if right else "left", no_wrap=header != "reason")
    for order in orders:
        request = order.request
        mask = scrub.get(request.connection_id, _keep)
        table.add_row(
            order.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            order.client_order_id,
            connection_names.get(request.connection_id, request.connection_id),
            request.side.value,
            amount(request.quantity),
            request.instrument.symbol,
            order_price(order),
            order.status.value,
            amount(order.filled_quantity),
            amount(order.average_fill_price) or "",
            _strategy_of(order, strategy_names),
            mask(order.reason) if order.reason else "",
        )
    return literal_table(table)


def order_json(
    order: Order,
    *,
    connection: str,
    strategy: str | None,
    mask: Mask = _keep,
) -> dict[str, Any]:
    """One order as a JSON object; ``connection`` is its connection's name, ``strategy`` the
    name of the strategy that asked (``None`` for a manual order)."""
    request = order.request
    return {
        "created_at": timestamp(order.created_at),
        "updated_at": None if order.updated_at is None else timestamp(order.updated_at),
        "client_order_id": order.client_order_id,
        "broker_order_id": order.broker_order_id,
        "connection": connection,
        "account": request.account_id,
        "side": request.side.value,
        "quantity": amount(request.quantity),
        "symbol": request.instrument.symbol,
        "type": request.order_type.value,
        "limit_price": amount(request.limit_price),
        "time_in_force": request.time_in_force.value,
        "status": order.status.value,
        "filled_quantity": amount(order.filled_quantity),
        "average_fill_price": amount(order.average_fill_price),
        "strategy": strategy,
        "manual": order.strategy_id is None,
        "reason": None if order.reason is None else mask(order.reason),
        "missing_lookups": order.missing_lookups,
    }


def strategy_mode(config: StrategyConfig) -> str:
    """``dry-run`` or ``live``."""
    return "dry-run" if config.dry_run else "live"


def strategy_parameters(
    config: StrategyConfig, specs: Sequence[StrategyParameter] | None
) -> list[tuple[str, str | None, bool]]:
    """``(name, value, is_default)`` for each declared parameter (the value given, else the
    default, else ``None``), then any given parameter the type no longer declares. Without
    ``specs`` (the type is not installed), only the parameters given."""
    given = dict(config.parameters)
    rows: list[tuple[str, str | None, bool]] = []
    for spec in specs or ():
        if spec.name in given:
            rows.append((spec.name, given.pop(spec.name), False))
        else:
            rows.append((spec.name, spec.default, spec.default is not None))
    rows.extend((name, value, False) for name, value in sorted(given.items()))
    return rows


def parameters_text(rows: Sequence[tuple[str, str | None, bool]]) -> str:
    """``amount=100, every=1d (default)``; parameters without a value are left out."""
    return ", ".join(
        f"{name}={value}" + (" (default)" if is_default else "")
        for name, value, is_default in rows
        if value is not None
    )


def strategy_json(
    config: StrategyConfig,
    *,
    connection: str,
    specs: Sequence[StrategyParameter] | None,
) -> dict[str, Any]:
    """One strategy as a JSON object: ``parameters`` holds what was given, ``effective`` the
    value of every declared parameter (given or default)."""
    return {
        "name": config.name,
        "type": config.strategy_type,
        "connection": connection,
        "active": config.active,
        "mode": strategy_mode(config),
        "parameters": dict(sorted(config.parameters.items())),
        "effective": {
            name: value
            for name, value, _ in strategy_parameters(config, specs)
            if value is not None
        },
        "created_at": timestamp(config.created_at),
    }


def parameter_bounds(spec: StrategyParameter) -> str:
    """``10 to 1000``, ``at least 1m``, ``one of a, b``; empty without bounds or choices."""
    if spec.choices:
        return "one of " + " | ".join(spec.choices)
    if spec.minimum is not None and spec.maximum is not None:
        return f"{spec.minimum} to {spec.maximum}"
    if spec.minimum is not None:
        return f"at least {spec.minimum}"
    if spec.maximum is not None:
        return f"at most {spec.maximum}"
    return ""


def parameter_line(spec: StrategyParameter) -> str:
    """``every (duration, default 1d, at least 5m): How often to buy. Example: every=1w``."""
    facts = [spec.kind.value]
    if spec.required:
        facts.append("required")
    elif spec.default is not None:
        facts.append(f"default {spec.default}")
    else:
        facts.append("optional")
    bounds = parameter_bounds(spec)
    if bounds:
        facts.append(bounds)
    example = f" Example: {spec.name}={spec.example}" if spec.example else ""
    return f"{spec.name} ({', '.join(facts)}): {spec.description}{example}"


def _limit(value: object) -> str:
    return "no limit" if value is None else str(value)


def limits_lines(limits: RiskLimits) -> list[tuple[str, str]]:
    """Each limit as ``(option name, value)``; ``no limit`` for ``None``."""
    allowed = limits.allowed_instruments
    return [
        ("max order notional", _limit(amount(limits.max_order_notional))),
        ("max cycle notional", _limit(amount(limits.max_cycle_notional))),
        ("max orders per cycle", _limit(limits.max_orders_per_cycle)),
        (
            "allowed instruments",
            "all" if allowed is None else (", ".join(sorted(allowed)) or "none"),
        ),
    ]
