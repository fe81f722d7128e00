"""The order protocol under faults injected with tradecore's own kit,
:class:`tradecore.testing.BrokerFaults`, around the real paper broker and the real Binance
adapter (over the fake Binance): the same faults a plugin author injects around their broker,
whatever it speaks (docs/plugins/testing.md).

Each scenario asserts what the venue itself holds and received (the fake Binance counts its
POSTs; the paper venue's orders are read from its store), and the injector's own call counts,
so a resend would show on both sides.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from tests.integration.orders.order_fault_harness import (
    USER_ID,
    BinanceVenue,
    Ledger,
    PaperVenueHarness,
    Venue,
    ledger_order,
    ledger_orders,
    stored_steps,
)

from tradecore.domain import OrderStatus, TaskKind, TaskStatus
from tradecore.errors import BrokerUnavailable
from tradecore.services import reconcile_orders, submit_order
from tradecore.services.orders import SAFE_WINDOW
from tradecore.testing import FakeClock

WRAPPED: dict[str, type[Venue]] = {"paper": PaperVenueHarness, "binance": BinanceVenue}


@pytest.fixture(params=sorted(WRAPPED))
async def venue(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[Venue]:
    """The paper venue and the fake Binance, each behind its real adapter wrapped in
    ``venue.faults`` (a :class:`tradecore.testing.BrokerFaults`)."""
    made = WRAPPED[request.param](clock)
    yield made
    assert not made.internal_errors(), "a fake failed: a bug in the test or the fake"
    await made.aclose()


async def test_a_lost_answer_then_a_hidden_order_is_adopted_by_a_later_cycle_never_resent(
    venue: Venue, ledger: Ledger, clock: FakeClock
) -> None:
    """The adapter places the order, the answer is lost, and the next two lookups do not find
    it (as Binance reports a live order "does not exist" for a while): ``unknown`` after the
    first cycle and the second, adopted by the third; one order at the venue."""
    repository = await ledger.create(venue)
    cycle = venue.cycle(repository)
    venue.faults.lose_answer()
    venue.faults.hide_from_lookups(2)

    await cycle.run(USER_ID)
    (order,) = await ledger_orders(repository, venue)
    assert (order.status, order.missing_lookups) == (OrderStatus.UNKNOWN, 1)

    clock.advance(timedelta(seconds=30))
    await cycle.run(USER_ID)
    stored = await ledger_order(repository, order.client_order_id)
    assert (stored.status, stored.missing_lookups) == (OrderStatus.UNKNOWN, 2)

    clock.advance(timedelta(seconds=30))
    third = await cycle.run(USER_ID)

    (reconcile,) = (await stored_steps(repository, third))[TaskKind.RECONCILE]
    assert reconcile.counts["orders_updated"] == 1
    stored = await ledger_order(repository, order.client_order_id)
    assert (stored.status, stored.missing_lookups) == (OrderStatus.FILLED, 0)
    assert venue.faults.calls["place_order"] == 1, "the order was sent again"
    assert venue.placements() == 1
    assert venue.orders() == [order.client_order_id]
    assert venue.faults.calls["get_order_status"] == 3
    assert venue.faults.armed == ()


async def test_a_failure_before_sending_places_nothing_and_is_concluded_not_placed(
    venue: Venue, ledger: Ledger, clock: FakeClock
) -> None:
    """``fail_before_send``: the adapter never sees the order and the caller gets
    ``BrokerUnavailable``, which proves nothing: ``unknown``, then ``not_placed`` once the safe
    window has passed and three lookups found nothing. Nothing reached the venue, nothing was
    resent."""
    repository = await ledger.create(venue, strategy=False)
    broker = venue.broker(repository)
    request = venue.request()
    venue.faults.fail_before_send()

    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )
    assert order.status is OrderStatus.UNKNOWN
    assert "could not be reached" in (order.reason or "")

    clock.advance(SAFE_WINDOW)
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=venue.connection, clock=clock
    )
    await broker.aclose()

    assert result.not_placed == 1
    assert (await ledger_order(repository, request.client_order_id)).status is (
        OrderStatus.NOT_PLACED
    )
    assert venue.faults.calls["place_order"] == 1
    assert venue.faults.sent == []
    assert venue.placements() == 0
    assert venue.orders() == []
    assert venue.faults.calls["get_order_status"] == 3


async def test_a_lookup_that_fails_after_a_lost_answer_leaves_it_unknown_until_reconciled(
    venue: Venue, ledger: Ledger, clock: FakeClock
) -> None:
    """The answer is lost and the immediate lookup fails too (a gateway error, injected on
    ``get_order_status``): the order stays ``unknown``; the next reconcile finds it filled.
    Placed once."""
    repository = await ledger.create(venue, strategy=False)
    broker = venue.broker(repository)
    request = venue.request()
    venue.faults.lose_answer()
    venue.faults.fail(
        "get_order_status", BrokerUnavailable("HTTP 502 Bad Gateway", broker=venue.name)
    )

    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )
    assert order.status is OrderStatus.UNKNOWN

    result = await reconcile_orders(
        repository=repository, broker=broker, connection=venue.connection, clock=clock
    )
    await broker.aclose()

    assert result.updated == 1
    stored = await ledger_order(repository, request.client_order_id)
    assert stored.status is OrderStatus.FILLED
    assert venue.faults.calls["place_order"] == 1, "the order was sent again"
    assert venue.placements() == 1
    assert venue.faults.calls["get_order_status"] == 2


async def test_a_strategy_step_on_a_broker_whose_prices_fail_places_nothing(
    venue: Venue, ledger: Ledger, clock: FakeClock
) -> None:
    """An error injected on ``get_asset_price`` (the strategy's prices) fails that strategy's
    step, and no order is sent."""
    repository = await ledger.create(venue)
    cycle = venue.cycle(repository)
    venue.faults.fail(
        "get_asset_price", BrokerUnavailable("read timed out", broker=venue.name), times=5
    )

    outcome = await cycle.run(USER_ID)

    (step,) = (await stored_steps(repository, outcome))[TaskKind.STRATEGY]
    assert step.status is TaskStatus.FAILURE
    assert "read timed out" in (step.error or "")
    assert venue.faults.calls["place_order"] == 0
    assert venue.placements() == 0
