"""The risk gate: which rule blocks an order, in which order the rules are checked, and what an
allowed order uses of the cycle's budget."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradecore.domain import RiskGate, RiskLimits, RiskRule, TradingHalt
from tradecore.errors import DomainError

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def gate(**limits: object) -> RiskGate:
    return RiskGate(limits=RiskLimits(user_id="u1", **limits))  # type: ignore[arg-type]


def test_by_default_ten_orders_per_cycle_pass_and_the_eleventh_is_blocked() -> None:
    risk = gate()
    assert [risk.check("BTC-USD", Decimal("1000000")) for _ in range(10)] == [None] * 10
    block = risk.check("BTC-USD", Decimal(1))
    assert block is not None
    assert block.rule is RiskRule.MAX_ORDERS_PER_CYCLE
    assert str(block) == (
        "blocked by max_orders_per_cycle: 10 order(s) already placed this cycle; the limit is 10"
    )


def test_the_kill_switch_comes_first_and_says_since_when_and_why() -> None:
    risk = RiskGate(
        limits=RiskLimits(user_id="u1", allowed_instruments=frozenset()),
        halt=TradingHalt(reason="exchange incident", since=NOW),
        paused=True,
    )
    block = risk.check("BTC-USD", Decimal(1))
    assert block is not None
    assert block.rule is RiskRule.KILL_SWITCH
    assert block.reason == "trading is halted since 2026-11-21 09:30 UTC (exchange incident)"


def test_a_paused_automation_blocks_before_the_limits() -> None:
    risk = RiskGate(limits=RiskLimits(user_id="u1", max_orders_per_cycle=0), paused=True)
    block = risk.check("BTC-USD", Decimal(1))
    assert block is not None
    assert block.rule is RiskRule.AUTOMATION_PAUSED


def test_only_allowed_instruments_pass_and_the_message_lists_them() -> None:
    risk = gate(allowed_instruments=frozenset({"ETH-USD", "BTC-USD"}))
    assert risk.check("BTC-USD", Decimal(1)) is None
    block = risk.check("AAPL", Decimal(1))
    assert block is not None
    assert block.rule is RiskRule.ALLOWED_INSTRUMENTS
    assert block.reason == "AAPL is not among the allowed instruments (BTC-USD, ETH-USD)"


def test_an_order_above_the_order_notional_is_blocked_with_its_figures() -> None:
    risk = gate(max_order_notional=Decimal("1000"))
    assert risk.check("BTC-USD", Decimal("1000")) is None  # at the limit is allowed
    block = risk.check("BTC-USD", Decimal("1000.004"))
    assert block is not None
    assert block.rule is RiskRule.MAX_ORDER_NOTIONAL
    assert block.reason == "notional 1000.00 exceeds the limit of 1000"


def test_the_cycle_notional_adds_up_allowed_orders_only() -> None:
    risk = gate(max_cycle_notional=Decimal("1000"), max_order_notional=Decimal("700"))
    assert risk.check("A", Decimal("600")) is None
    assert risk.check("A", Decimal("800")) is not None  # blocked by the order limit: not counted
    block = risk.check("A", Decimal("500"))
    assert block is not None
    assert block.rule is RiskRule.MAX_CYCLE_NOTIONAL
    assert block.reason == (
        "notional 500.00 on top of 600.00 already placed this cycle exceeds the limit of 1000"
    )
    assert risk.check("A", Decimal("400")) is None
    assert (risk.orders, risk.notional) == (2, Decimal("1000"))


def test_an_order_without_a_price_is_blocked_only_when_a_notional_limit_is_set() -> None:
    assert gate().check("X", None) is None
    block = gate(max_cycle_notional=Decimal(5)).check("X", None)
    assert block is not None
    assert block.rule is RiskRule.PRICE_UNKNOWN


def test_a_dry_run_check_does_not_use_the_budget() -> None:
    risk = gate(max_orders_per_cycle=1)
    assert risk.check("A", Decimal(1), consume=False) is None
    assert risk.check("A", Decimal(1)) is None
    assert risk.check("A", Decimal(1), consume=False) is not None


def test_limits_refuse_nonsense() -> None:
    with pytest.raises(DomainError):
        RiskLimits(user_id="u1", max_order_notional=Decimal(0))
    with pytest.raises(DomainError):
        RiskLimits(user_id="u1", max_orders_per_cycle=-1)
    with pytest.raises(DomainError):
        RiskLimits(user_id="u1", allowed_instruments="BTC-USD")  # type: ignore[arg-type]


@given(
    limit=st.decimals(min_value=1, max_value=10**6, places=2),
    orders=st.lists(st.decimals(min_value=0, max_value=10**5, places=4), max_size=30),
)
def test_allowed_orders_never_add_up_beyond_the_cycle_limit(
    limit: Decimal, orders: list[Decimal]
) -> None:
    risk = gate(max_cycle_notional=limit, max_orders_per_cycle=None)
    allowed = [amount for amount in orders if risk.check("A", amount) is None]
    assert sum(allowed, Decimal(0)) <= limit
    assert risk.notional == sum(allowed, Decimal(0))
