"""The domain refuses floats for money, naive datetimes, and values that make no sense."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradecore.domain import (
    AutomationConfig,
    Instrument,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
    Trade,
)
from tradecore.errors import DomainError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BTC = Instrument(symbol="BTCUSDT", base="BTC", quote="USDT")


def position(**overrides: object) -> Position:
    fields: dict[str, object] = {
        "connection_id": "c1",
        "account_id": "spot",
        "instrument": BTC,
        "quantity": Decimal("0.5"),
        "as_of": NOW,
    }
    fields.update(overrides)
    return Position(**fields)  # type: ignore[arg-type]


def trade(**overrides: object) -> Trade:
    fields: dict[str, object] = {
        "connection_id": "c1",
        "account_id": "spot",
        "broker_trade_id": "1",
        "instrument": BTC,
        "side": "buy",
        "quantity": Decimal("0.1"),
        "price": Decimal("50000.01"),
        "executed_at": NOW,
    }
    fields.update(overrides)
    return Trade(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["quantity", "average_price", "market_value", "unrealized_pnl"])
def test_position_rejects_a_float_amount(field: str) -> None:
    with pytest.raises(DomainError, match="must be a Decimal, got float"):
        position(**{field: 1.5})


@pytest.mark.parametrize("field", ["quantity", "price", "fee"])
def test_trade_rejects_a_float_amount(field: str) -> None:
    with pytest.raises(DomainError, match="Decimal"):
        trade(**{field: 0.1})


def test_an_int_is_not_money_either() -> None:
    with pytest.raises(DomainError, match="got int"):
        position(quantity=3)


def test_nan_and_infinity_are_rejected() -> None:
    with pytest.raises(DomainError, match="finite"):
        position(quantity=Decimal("NaN"))
    with pytest.raises(DomainError, match="finite"):
        trade(price=Decimal("Infinity"))


def test_naive_datetimes_are_rejected_everywhere() -> None:
    naive = datetime(2026, 3, 1, 12, 0)
    with pytest.raises(DomainError, match="naive datetime"):
        position(as_of=naive)
    with pytest.raises(DomainError, match="naive datetime"):
        trade(executed_at=naive)
    with pytest.raises(DomainError, match="naive datetime"):
        Quote(instrument=BTC, last=Decimal(1), as_of=naive)


def test_aware_datetimes_are_normalised_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    stored = trade(executed_at=datetime(2026, 3, 1, 13, 0, tzinfo=paris))
    assert stored.executed_at == NOW
    assert stored.executed_at.tzinfo is UTC


def test_quantities_that_cannot_be_negative_are_refused() -> None:
    with pytest.raises(DomainError, match="greater than zero"):
        trade(quantity=Decimal("-1"))
    with pytest.raises(DomainError, match="greater than zero"):
        trade(quantity=Decimal("0"))
    with pytest.raises(DomainError, match="must not be negative"):
        trade(price=Decimal("-0.01"))
    with pytest.raises(DomainError, match="must not be negative"):
        position(average_price=Decimal("-1"))


def test_a_negative_fee_is_a_rebate_and_is_kept() -> None:
    assert trade(fee=Decimal("-0.07819010")).fee == Decimal("-0.07819010")
    with pytest.raises(DomainError, match="finite"):
        trade(fee=Decimal("-Infinity"))
    with pytest.raises(DomainError, match="finite"):
        trade(fee=Decimal("NaN"))


def test_a_short_position_keeps_its_sign() -> None:
    assert position(quantity=Decimal("-2")).quantity == Decimal("-2")


def test_trade_key_and_notional_are_exact() -> None:
    fill = trade(quantity=Decimal("0.1"), price=Decimal("0.2"))
    assert fill.notional == Decimal("0.02")
    assert fill.key == ("c1", "spot", "BTCUSDT", "1")


@given(
    quantity=st.decimals(min_value="0.00000001", max_value="1000000", places=8, allow_nan=False),
    price=st.decimals(min_value="0", max_value="1000000", places=8, allow_nan=False),
    fee=st.decimals(min_value="-1000", max_value="1000", places=8, allow_nan=False),
)
def test_any_decimal_amount_is_kept_exactly(
    quantity: Decimal, price: Decimal, fee: Decimal
) -> None:
    fill = trade(quantity=quantity, price=price, fee=fee)
    assert (fill.quantity, fill.price, fill.fee) == (quantity, price, fee)
    assert fill.notional == quantity * price


@pytest.mark.parametrize("minutes", [5, 30, 120])
def test_frequency_inside_5_to_120_minutes_is_accepted(minutes: int) -> None:
    config = AutomationConfig(user_id="u1", frequency_minutes=minutes)
    assert config.frequency == timedelta(minutes=minutes)


@pytest.mark.parametrize("minutes", [0, 4, 121, 1440, -30])
def test_frequency_outside_5_to_120_minutes_is_refused(minutes: int) -> None:
    with pytest.raises(DomainError, match="between 5 and 120"):
        AutomationConfig(user_id="u1", frequency_minutes=minutes)


@pytest.mark.parametrize("minutes", [30.0, "30", True])
def test_frequency_must_be_whole_minutes(minutes: object) -> None:
    with pytest.raises(DomainError, match="whole number"):
        AutomationConfig(user_id="u1", frequency_minutes=minutes)  # type: ignore[arg-type]


def test_frequency_change_is_validated_too() -> None:
    config = AutomationConfig(user_id="u1")
    assert config.frequency_minutes == 30
    with pytest.raises(DomainError):
        config.frequency_minutes = 200


def test_limit_and_market_orders_are_consistent() -> None:
    common = {
        "connection_id": "c1",
        "account_id": "spot",
        "client_order_id": "tc-1",
        "instrument": BTC,
        "side": Side.BUY,
        "quantity": Decimal(1),
    }
    with pytest.raises(DomainError, match="needs a limit price"):
        OrderRequest(order_type=OrderType.LIMIT, **common)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="cannot have a limit price"):
        OrderRequest(order_type="market", limit_price=Decimal(1), **common)  # type: ignore[arg-type]
    request = OrderRequest(order_type="limit", limit_price=Decimal("9.5"), **common)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="more than its quantity"):
        Order(request=request, status="filled", filled_quantity=Decimal(2), created_at=NOW)
    assert Order(request=request, status=OrderStatus.FILLED, created_at=NOW).is_terminal


def test_client_order_id_longer_than_36_characters_is_refused() -> None:
    with pytest.raises(DomainError, match="longer than 36"):
        OrderRequest(
            connection_id="c1",
            account_id="spot",
            client_order_id="x" * 37,
            instrument=BTC,
            side="sell",
            order_type="market",
            quantity=Decimal(1),
        )
