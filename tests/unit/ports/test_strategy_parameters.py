"""Typed strategy parameters: every kind reads its text exactly, and every mistake is refused with
a sentence that names the strategy, the parameter and what was expected."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradecore.errors import ConfigurationError
from tradecore.ports import (
    ParameterKind,
    StrategyParameter,
    format_duration,
    parse_duration,
    parse_parameters,
)

SPECS = (
    StrategyParameter(
        name="instrument", description="what to buy", required=True, example="BTC-USD"
    ),
    StrategyParameter(
        name="amount",
        description="quote amount",
        kind=ParameterKind.DECIMAL,
        required=True,
        minimum="0.01",
    ),
    StrategyParameter(
        name="every",
        description="interval",
        kind=ParameterKind.DURATION,
        default="1d",
        minimum="5m",
    ),
    StrategyParameter(
        name="count", description="n", kind=ParameterKind.INTEGER, default="3", maximum="10"
    ),
    StrategyParameter(name="flag", description="b", kind=ParameterKind.BOOLEAN, default="no"),
    StrategyParameter(name="side", description="s", choices=("buy", "sell"), default="buy"),
    StrategyParameter(name="pairs", description="p", kind=ParameterKind.SYMBOLS, default="A,B"),
    StrategyParameter(name="targets", description="w", kind=ParameterKind.WEIGHTS, default="A=0.5"),
)
OWNER = "strategy 'weekly' (dca)"


def parse(**given: str):  # type: ignore[no-untyped-def]
    return parse_parameters(SPECS, given, owner=OWNER)


def test_values_are_typed_and_defaults_filled_in() -> None:
    values = parse(instrument="BTC-USD", amount="100.50", pairs="ETH-USD, BTC-USD,ETH-USD")
    assert values.text("instrument") == "BTC-USD"
    assert values.decimal("amount") == Decimal("100.50")
    assert str(values.decimal("amount")) == "100.50"  # exact digits, never a float
    assert values.duration("every") == timedelta(days=1)
    assert values.integer("count") == 3
    assert values.boolean("flag") is False
    assert values.symbols("pairs") == ("ETH-USD", "BTC-USD")
    assert dict(values.weights("targets")) == {"A": Decimal("0.5")}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"amount": "1"},
            "strategy 'weekly' (dca): parameter 'instrument' is required (for example "
            "instrument=BTC-USD): what to buy",
        ),
        (
            {"instrument": "X", "amount": "1", "colour": "red"},
            "strategy 'weekly' (dca): unknown parameter(s) colour; allowed: amount, count, every, "
            "flag, instrument, pairs, side, targets",
        ),
        (
            {"instrument": "X", "amount": "lots"},
            "strategy 'weekly' (dca): parameter 'amount' must be a decimal number such as 100 or "
            "0.25; got 'lots'",
        ),
        ({"instrument": "X", "amount": "1e3"}, "must be a decimal number"),
        ({"instrument": "X", "amount": "NaN"}, "must be a decimal number"),
        ({"instrument": "X", "amount": "0"}, "parameter 'amount' must be at least 0.01; got '0'"),
        ({"instrument": "X", "amount": "1", "every": "5s"}, "must be a duration such as 30m"),
        (
            {"instrument": "X", "amount": "1", "every": "4m"},
            "'every' must be at least 5m; got '4m'",
        ),
        ({"instrument": "X", "amount": "1", "count": "11"}, "'count' must be at most 10"),
        ({"instrument": "X", "amount": "1", "count": "2.5"}, "must be a whole number"),
        ({"instrument": "X", "amount": "1", "flag": "maybe"}, "must be true or false"),
        ({"instrument": "X", "amount": "1", "side": "hold"}, "must be one of buy, sell"),
        ({"instrument": "X", "amount": "1", "targets": "A=1.5"}, "weight of A must be between"),
        ({"instrument": "X", "amount": "1", "targets": "A=0.5,A=0.1"}, "names A twice"),
        ({"instrument": "X", "amount": "1", "targets": "A"}, "must be SYMBOL=WEIGHT pairs"),
        ({"instrument": "X", "amount": "1", "pairs": " , "}, "must list at least one symbol"),
        ({"instrument": "X", "amount": "1", "pairs": "BTC USD"}, "'BTC USD' is not a symbol"),
    ],
)
def test_mistakes_are_refused_with_a_sentence(given: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_parameters(SPECS, given, owner=OWNER)
    assert message in str(caught.value)


def test_a_declaration_with_a_bad_default_is_refused_when_it_is_made() -> None:
    with pytest.raises(ConfigurationError, match="its default"):
        StrategyParameter(
            name="every", description="d", kind=ParameterKind.DURATION, default="often"
        )
    with pytest.raises(ConfigurationError, match="required parameter has no default"):
        StrategyParameter(name="x", description="d", required=True, default="1")


def test_asking_for_the_wrong_kind_is_a_strategy_bug_said_plainly() -> None:
    values = parse(instrument="X", amount="1")
    with pytest.raises(ConfigurationError, match="parameter 'amount' is not a int"):
        values.integer("amount")
    with pytest.raises(ConfigurationError, match="parameter 'missing' is not set"):
        values.text("missing")


@given(count=st.integers(min_value=1, max_value=999_999), unit=st.sampled_from("mhdw"))
def test_durations_read_back_as_they_are_written(count: int, unit: str) -> None:
    duration = parse_duration(f"{count}{unit}")
    assert duration is not None
    assert parse_duration(format_duration(duration)) == duration
