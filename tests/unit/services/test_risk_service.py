"""The risk use cases: show a user's limits, set some of them in one unit of work (checked
first), and the global kill switch."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tradecore.domain import DEFAULT_MAX_ORDERS_PER_CYCLE, AutomationState, User
from tradecore.errors import DomainError, NotFound
from tradecore.services import Risk, ServiceContext, Users
from tradecore.testing import FakeClock
from tradecore.testing.builders import make_automation_config


@pytest.fixture
def risk(context: ServiceContext) -> Risk:
    return Risk(context)


async def _user(context: ServiceContext, name: str = "alice") -> User:
    return await Users(context).add(name)


async def test_show_gives_the_defaults_of_a_user_who_never_set_limits(
    risk: Risk, context: ServiceContext
) -> None:
    alice = await _user(context)

    shown = await risk.show(alice.id)

    assert shown.limits.max_order_notional is None
    assert shown.limits.max_orders_per_cycle == DEFAULT_MAX_ORDERS_PER_CYCLE
    assert shown.limits.allowed_instruments is None
    assert shown.halt is None
    assert shown.paused is False


async def test_show_says_when_the_users_automation_is_paused(
    risk: Risk, context: ServiceContext
) -> None:
    alice = await _user(context)
    async with context.repository.unit_of_work() as uow:
        await uow.automation.save(
            make_automation_config(user_id=alice.id, state=AutomationState.PAUSED)
        )
        await uow.commit()

    assert (await risk.show(alice.id)).paused is True


async def test_set_limits_changes_only_the_ones_given_and_none_removes_one(
    risk: Risk, context: ServiceContext
) -> None:
    alice = await _user(context)

    first = await risk.set_limits(alice.id, max_order_notional=Decimal("250.50"))
    second = await risk.set_limits(alice.id, allowed_instruments=[" BTC-USD", "ETH-USD "])
    third = await risk.set_limits(alice.id, max_order_notional=None, max_orders_per_cycle=0)

    assert first.max_order_notional == Decimal("250.50")
    assert second.max_order_notional == Decimal("250.50")
    assert second.allowed_instruments == frozenset({"BTC-USD", "ETH-USD"})
    assert third.max_order_notional is None
    assert third.max_orders_per_cycle == 0
    assert third.allowed_instruments == frozenset({"BTC-USD", "ETH-USD"})
    assert (await risk.show(alice.id)).limits == third


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, "nothing to change"),
        ({"max_order_notional": Decimal(0)}, "must be greater than 0"),
        ({"max_cycle_notional": Decimal("1e20")}, "must be less than"),
        ({"max_order_notional": Decimal("0.0000000000001")}, "at most 12 decimal places"),
        ({"max_orders_per_cycle": -1}, "whole number >= 0"),
        ({"allowed_instruments": "BTC-USD"}, "not one string"),
        ({"allowed_instruments": []}, "at least one symbol"),
        ({"max_orders_per_cycle": 3, "max_order_notional": Decimal(-5)}, "greater than 0"),
    ],
)
async def test_set_limits_refuses_a_bad_value_and_stores_nothing(
    risk: Risk, context: ServiceContext, changes: dict[str, Any], message: str
) -> None:
    alice = await _user(context)
    before = (await risk.show(alice.id)).limits

    with pytest.raises(DomainError, match=message):
        await risk.set_limits(alice.id, **changes)

    assert (await risk.show(alice.id)).limits == before


async def test_limits_are_per_user(risk: Risk, context: ServiceContext) -> None:
    alice = await _user(context)
    bob = await _user(context, "bob")

    await risk.set_limits(alice.id, max_order_notional=Decimal(100))

    assert (await risk.show(bob.id)).limits.max_order_notional is None
    with pytest.raises(NotFound):
        await risk.set_limits("no-such-user", max_order_notional=Decimal(1))


async def test_halt_and_resume_the_kill_switch(
    risk: Risk, context: ServiceContext, clock: FakeClock
) -> None:
    alice = await _user(context)

    first = await risk.halt("  exchange incident ")
    clock.advance(timedelta(minutes=5))
    again = await risk.halt("still down")

    assert first.before is None
    assert first.halt.reason == "exchange incident"
    assert again.before == first.halt
    assert (await risk.show(alice.id)).halt == again.halt
    assert await risk.resume() == again.halt
    assert (await risk.show(alice.id)).halt is None
    assert await risk.resume() is None
    with pytest.raises(DomainError, match="say why"):
        await risk.halt("   ")
    assert (await risk.show(alice.id)).halt is None
