"""Submitting an order: a duplicate client id is adopted from the broker, never sent again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from attrs import evolve

from tradecore.domain import Instrument, OrderStatus, Quote, RiskLimits, Side
from tradecore.errors import (
    AlreadyExists,
    BrokerUnavailable,
    OrderBlocked,
    OrderExists,
    OrderRejected,
)
from tradecore.services import ManualOrder, place_manual_order, submit_order
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import make_connection, make_order, make_user
from tradecore_adapters.memory import MemoryRepository

CONNECTION = make_connection()
BTC = Instrument(symbol="BTC-USD")


def BTC_QUOTE(clock: FakeClock) -> Quote:
    return Quote(instrument=BTC, last=Decimal(40000), as_of=clock.now())


DUPLICATE = OrderExists(
    "Duplicate order sent.", client_order_id="tc-1", broker="fake", code="-2010"
)


async def alices_repository() -> MemoryRepository:
    repository = MemoryRepository()
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user())
        await uow.connections.add(CONNECTION)
        await uow.commit()
    return repository


def broker_already_holding_the_order(clock: FakeClock) -> FakeBroker:
    """A broker that placed ``tc-1`` earlier (filled) and now answers a resend with -2010."""
    broker = FakeBroker(clock=clock, connection_id=CONNECTION.id)
    broker.orders["tc-1"] = make_order(
        connection_id=CONNECTION.id,
        client_order_id="tc-1",
        status=OrderStatus.FILLED,
        broker_order_id="B-7",
        filled_quantity=Decimal("0.1"),
        average_fill_price=Decimal("42000.00"),
        created_at=clock.now() - timedelta(minutes=5),
    )
    broker.fail("place_order", DUPLICATE)
    return broker


async def stored_orders(repository: MemoryRepository) -> list[object]:
    async with repository.unit_of_work() as uow:
        return list(await uow.orders.list(make_user().id))


async def test_an_order_the_broker_already_holds_is_adopted_as_the_broker_reports_it() -> None:
    clock = FakeClock()
    repository = await alices_repository()
    broker = broker_already_holding_the_order(clock)
    request = make_order(connection_id=CONNECTION.id, client_order_id="tc-1").request

    order = await submit_order(
        repository=repository, broker=broker, user_id=make_user().id, request=request, clock=clock
    )

    assert (order.status, order.broker_order_id) == (OrderStatus.FILLED, "B-7")
    assert (order.filled_quantity, order.average_fill_price) == (
        Decimal("0.1"),
        Decimal("42000.00"),
    )
    assert (order.request, order.created_at, order.updated_at) == (
        request,
        clock.now(),
        clock.now(),
    )
    assert order.reason is None
    assert broker.calls == ["place_order", "get_order_status"]
    assert await stored_orders(repository) == [order]


async def test_a_duplicate_whose_lookup_fails_is_unknown_and_not_sent_again() -> None:
    clock = FakeClock()
    repository = await alices_repository()
    broker = broker_already_holding_the_order(clock)
    broker.fail("get_order_status", BrokerUnavailable("gateway timeout", broker="fake"))
    request = make_order(connection_id=CONNECTION.id, client_order_id="tc-1").request

    order = await submit_order(
        repository=repository, broker=broker, user_id=make_user().id, request=request, clock=clock
    )

    assert order.status is OrderStatus.UNKNOWN
    assert order.broker_order_id is None
    assert order.reason == (
        "the broker reported the order as existing (OrderExists: Duplicate order sent. "
        "(code -2010)); looking it up failed: BrokerUnavailable: gateway timeout"
    )
    assert broker.calls.count("place_order") == 1
    assert await stored_orders(repository) == [order]


async def test_the_reason_recorded_with_an_order_never_holds_the_connections_secret() -> None:
    clock = FakeClock()
    repository = await alices_repository()
    broker = FakeBroker(clock=clock, connection_id=CONNECTION.id)
    broker.fail("place_order", OrderRejected("key s3cr3t-k3y may not trade", broker="fake"))
    request = make_order(connection_id=CONNECTION.id, client_order_id="tc-2").request

    order = await submit_order(
        repository=repository,
        broker=broker,
        user_id=make_user().id,
        request=request,
        clock=clock,
        secrets=("s3cr3t-k3y", ""),
    )

    assert order.reason == "OrderRejected: key ********** may not trade"
    (stored,) = await stored_orders(repository)
    assert "s3cr3t-k3y" not in repr(stored)


async def test_a_manual_order_is_checked_per_order_not_against_the_cycle_limits() -> None:
    clock = FakeClock()
    repository = await alices_repository()
    user = make_user()
    broker = FakeBroker(clock=clock, connection_id=CONNECTION.id, quotes=[BTC_QUOTE(clock)])
    async with repository.unit_of_work() as uow:
        await uow.risk.save_limits(
            RiskLimits(
                user_id=user.id,
                max_orders_per_cycle=0,
                max_cycle_notional=Decimal(1),
                max_order_notional=Decimal(500),
            )
        )
        await uow.commit()
    wanted = ManualOrder(
        connection_id=CONNECTION.id,
        account_id="main",
        instrument=BTC,
        side=Side.BUY,
        quantity=Decimal("0.01"),
        key="k1",
    )

    placed = await place_manual_order(
        repository=repository, broker=broker, user_id=user.id, wanted=wanted, clock=clock
    )
    with pytest.raises(OrderBlocked) as blocked:
        await place_manual_order(
            repository=repository,
            broker=broker,
            user_id=user.id,
            wanted=evolve(wanted, quantity=Decimal("0.02"), key="k2"),
            clock=clock,
        )

    assert placed.order.status is OrderStatus.FILLED
    assert blocked.value.rule == "max_order_notional"
    assert str(blocked.value) == (
        "blocked by max_order_notional: notional 800.00 exceeds the limit of 500"
    )
    assert broker.calls.count("place_order") == 1


async def test_the_same_key_is_looked_up_not_sent_and_refused_on_another_connection() -> None:
    clock = FakeClock()
    repository = await alices_repository()
    user = make_user()
    broker = FakeBroker(clock=clock, connection_id=CONNECTION.id, quotes=[BTC_QUOTE(clock)])
    wanted = ManualOrder(
        connection_id=CONNECTION.id,
        account_id="main",
        instrument=BTC,
        side=Side.BUY,
        quantity=Decimal("0.01"),
        key="same",
    )

    first = await place_manual_order(
        repository=repository, broker=broker, user_id=user.id, wanted=wanted, clock=clock
    )
    again = await place_manual_order(
        repository=repository, broker=broker, user_id=user.id, wanted=wanted, clock=clock
    )
    with pytest.raises(AlreadyExists, match="on another connection"):
        await place_manual_order(
            repository=repository,
            broker=broker,
            user_id=user.id,
            wanted=evolve(wanted, connection_id="other-connection"),
            clock=clock,
        )

    assert (first.existed, again.existed) == (False, True)
    assert again.order.client_order_id == first.order.client_order_id
    assert broker.calls.count("place_order") == 1
