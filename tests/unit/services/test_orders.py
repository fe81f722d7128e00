"""Submitting an order: a duplicate client id is adopted from the broker, never sent again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tradecore.domain import OrderStatus
from tradecore.errors import BrokerUnavailable, OrderExists
from tradecore.services import submit_order
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import make_connection, make_order, make_user
from tradecore_adapters.memory import MemoryRepository

CONNECTION = make_connection()
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
