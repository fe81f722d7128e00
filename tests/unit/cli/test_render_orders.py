"""The command line's rendering of orders, strategy parameters and risk limits: exact amounts,
masked secrets, defaults filled, "no limit" for an unset limit."""

from __future__ import annotations

import json
from decimal import Decimal

from rich.console import Console

from tradecore.domain import OrderStatus, OrderType, RiskLimits
from tradecore.ports import ParameterKind, StrategyParameter
from tradecore.testing.builders import make_connection, make_order, make_strategy
from tradecore_cli.render_orders import (
    limits_lines,
    order_json,
    order_summary,
    orders_table,
    parameter_line,
    parameters_text,
    secret_mask,
    strategy_json,
    strategy_parameters,
)

SPECS = (
    StrategyParameter(name="instrument", description="What to buy.", required=True),
    StrategyParameter(
        name="every",
        description="How often.",
        kind=ParameterKind.DURATION,
        default="1d",
        minimum="5m",
        example="1w",
    ),
    StrategyParameter(name="max_price", description="A ceiling.", kind=ParameterKind.DECIMAL),
    StrategyParameter(
        name="order_type", description="How.", default="market", choices=("market", "limit")
    ),
)


def test_parameters_are_given_then_defaulted_then_unset() -> None:
    config = make_strategy(parameters={"instrument": "BTC-USD", "every": "1w"})

    rows = strategy_parameters(config, SPECS)

    assert rows == [
        ("instrument", "BTC-USD", False),
        ("every", "1w", False),
        ("max_price", None, False),
        ("order_type", "market", True),
    ]
    assert parameters_text(rows) == "instrument=BTC-USD, every=1w, order_type=market (default)"


def test_without_its_type_only_the_given_parameters_are_shown() -> None:
    config = make_strategy(parameters={"b": "2", "a": "1"})

    assert strategy_parameters(config, None) == [("a", "1", False), ("b", "2", False)]


def test_a_parameter_line_says_kind_default_bounds_and_example() -> None:
    assert parameter_line(SPECS[0]) == "instrument (text, required): What to buy."
    assert parameter_line(SPECS[1]) == (
        "every (duration, default 1d, at least 5m): How often. Example: every=1w"
    )
    assert parameter_line(SPECS[2]) == "max_price (decimal, optional): A ceiling."
    assert parameter_line(SPECS[3]) == (
        "order_type (text, default market, one of market | limit): How."
    )


def test_strategy_json_has_given_and_effective_parameters() -> None:
    config = make_strategy(parameters={"instrument": "BTC-USD"}, dry_run=True)

    payload = strategy_json(config, connection="p1", specs=SPECS)

    assert payload["mode"] == "dry-run"
    assert payload["parameters"] == {"instrument": "BTC-USD"}
    assert payload["effective"] == {
        "instrument": "BTC-USD",
        "every": "1d",
        "order_type": "market",
    }
    json.dumps(payload)


def test_an_order_reason_is_shown_with_the_connections_secrets_masked() -> None:
    connection = make_connection(secrets={"api_key": "s3cr3t-value"})
    order = make_order(
        connection_id=connection.id,
        status=OrderStatus.UNKNOWN,
        reason="BrokerUnavailable: timed out; signed with s3cr3t-value",
    )
    mask = secret_mask(connection)

    payload = order_json(order, connection="main", strategy=None, mask=mask)
    table = orders_table(
        [order],
        connection_names={connection.id: "main"},
        strategy_names={},
        masks={connection.id: mask},
    )
    console = Console(width=400, record=True)
    console.print(table)
    text = console.export_text()

    assert payload["reason"] == "BrokerUnavailable: timed out; signed with **********"
    assert "s3cr3t-value" not in json.dumps(payload)
    assert "s3cr3t-value" not in text
    assert "**********" in text
    assert "manual" in text


def test_order_amounts_are_exact_digits() -> None:
    order = make_order(
        order_type=OrderType.LIMIT,
        limit_price=Decimal("0.00000010"),
        quantity=Decimal("100000"),
        status=OrderStatus.PARTIALLY_FILLED,
        filled_quantity=Decimal("1E+1"),
        average_fill_price=Decimal("0.0000001"),
        strategy_id="s-1",
    )

    payload = order_json(order, connection="main", strategy="dca-btc")

    assert payload["limit_price"] == "0.00000010"
    assert payload["filled_quantity"] == "10"
    assert payload["average_fill_price"] == "0.0000001"
    assert payload["manual"] is False
    assert payload["strategy"] == "dca-btc"
    assert order_summary(order) == "buy 100000 BTCUSDT limit 0.00000010 (good till cancelled)"


def test_limits_say_no_limit_and_all() -> None:
    assert limits_lines(RiskLimits(user_id="u")) == [
        ("max order notional", "no limit"),
        ("max cycle notional", "no limit"),
        ("max orders per cycle", "10"),
        ("allowed instruments", "all"),
    ]
    limits = RiskLimits(
        user_id="u",
        max_order_notional=Decimal("250.50"),
        max_orders_per_cycle=None,
        allowed_instruments={"ETH-USD", "BTC-USD"},
    )
    assert dict(limits_lines(limits)) == {
        "max order notional": "250.50",
        "max cycle notional": "no limit",
        "max orders per cycle": "no limit",
        "allowed instruments": "BTC-USD, ETH-USD",
    }
