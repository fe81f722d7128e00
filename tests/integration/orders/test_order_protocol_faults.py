"""The order protocol under faults (issue 7; docs/orders.md), the same scenarios on the paper
venue, the fake Binance and the fake Saxo:

1. a placement whose answer is lost after the broker executed it is sent once and settled by
   lookup, at once or, while the broker does not show it yet, by a later cycle's reconcile;
2. a crash between the commit of the intent and the POST, then a restart: the order is
   unresolved (strategies on the connection skipped) until the 3-minute safe window has passed
   and 3 lookups found nothing; only then is it ``not_placed`` and the strategy decides again,
   under a new client id;
3. a crash after the broker executed the order but before its answer was recorded: after the
   restart, reconcile adopts it and the strategy does not place it again;
4. "the broker already holds this client id" adopts the existing order;
5. (per broker, see ``test_order_faults_*.py``) a 5xx is never a rejection;
6. a definitive refusal is ``rejected``, and the strategy decides again next cycle.

What is asserted is what a user would see: how many orders the broker holds and under which
client ids, the statuses in the ledger, and the steps of the stored runs. A restart is a new
repository object on the same SQLite file and new broker objects on the same venue.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from attrs import evolve
from tests.fakes.faulty_broker import Crash
from tests.integration.orders.order_fault_harness import (
    SLOT,
    START,
    USER_ID,
    Ledger,
    Venue,
    ledger_order,
    ledger_orders,
    stored_steps,
    strategy_client_id,
    strategy_state,
)

from tradecore.domain import OrderStatus, OrderType, TaskKind, TaskStatus
from tradecore.services import submit_order
from tradecore.services.orders import LOOKUP_INTERVAL, SAFE_WINDOW
from tradecore.testing import FakeClock

TODAY = START.date().isoformat()


# -- 1. the answer is lost after the broker executed the order ---------------------------------


async def test_a_lost_answer_is_settled_by_one_lookup_and_never_resent(
    venue: Venue, ledger: Ledger, clock: FakeClock
) -> None:
    """Binance: a timeout or 5xx means "the execution status is UNKNOWN and could have been a
    success"; Saxo: "do not resubmit blindly; first look for the order by ExternalReference"
    (docs/brokers/saxo.md, "Orders"). The order reached the broker once; ``submit_order`` looks it
    up by client id at once and returns it as the broker reports it, not ``unknown``."""
    repository = await ledger.create(venue, strategy=False)
    broker = venue.broker(repository)
    request = venue.request()
    venue.lose_next_answer()

    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )
    await broker.aclose()

    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == venue.quantity
    assert order.broker_order_id is not None
    assert venue.placements() == 1, "the order was sent again"
    assert venue.orders() == [request.client_order_id]
    stored = await ledger_order(repository, request.client_order_id)
    assert (stored.status, stored.broker_order_id) == (OrderStatus.FILLED, order.broker_order_id)
    assert stored.missing_lookups == 0


async def test_an_executed_order_the_broker_does_not_show_yet_is_adopted_by_a_later_cycle(
    venue: Venue, ledger: Ledger, clock: FakeClock
) -> None:
    """Binance can report a live order as -2013 "Order does not exist." for 22 s to 62 s
    (docs/orders.md, "not_placed"; the dev.binance.vision FAQ). On Saxo and paper the lag is
    simulated (the open orders and the audit both empty; the wrapper's "not found"): the protocol's
    side is the same. The order stays ``unknown``, the next cycle's reconcile keeps strategies off the
    connection while it is not found within the safe window, and the cycle after the lag adopts
    it: one order at the broker, never resent."""
    repository = await ledger.create(venue)
    cycle = venue.cycle(repository)
    venue.lose_next_answer()
    venue.lag(lookups=2)

    first = await cycle.run(USER_ID)

    (order,) = await ledger_orders(repository, venue)
    assert order.client_order_id == strategy_client_id(first)
    assert (order.status, order.missing_lookups) == (OrderStatus.UNKNOWN, 1)
    (step,) = (await stored_steps(repository, first))[TaskKind.STRATEGY]
    assert step.status is TaskStatus.FAILURE
    assert f"it will be looked up as {order.client_order_id}, never resent" in (step.error or "")
    assert step.counts["unknown"] == 1

    clock.advance(timedelta(seconds=30))
    second = await cycle.run(USER_ID)

    steps = await stored_steps(repository, second)
    (reconcile,) = steps[TaskKind.RECONCILE]
    assert reconcile.counts["orders_unresolved"] == 1
    (skipped,) = steps[TaskKind.STRATEGY]
    assert skipped.status is TaskStatus.SKIPPED
    assert "have an unknown outcome" in (skipped.error or "")
    stored = await ledger_order(repository, order.client_order_id)
    assert (stored.status, stored.missing_lookups) == (OrderStatus.UNKNOWN, 2)

    clock.advance(timedelta(seconds=30))
    third = await cycle.run(USER_ID)

    steps = await stored_steps(repository, third)
    (reconcile,) = steps[TaskKind.RECONCILE]
    assert (reconcile.counts["orders_updated"], reconcile.counts["orders_unresolved"]) == (1, 0)
    assert reconcile.notes == (
        f"{order.client_order_id} buy {venue.quantity} {venue.instrument.symbol} at market: filled",
    )
    (strategy,) = steps[TaskKind.STRATEGY]
    assert strategy.status is TaskStatus.SUCCESS
    assert strategy.counts["intents"] == 0, "it had decided this slot already"
    stored = await ledger_order(repository, order.client_order_id)
    assert (stored.status, stored.missing_lookups) == (OrderStatus.FILLED, 0)
    assert venue.placements() == 1, "the order was sent again"
    assert venue.orders() == [order.client_order_id]
    assert venue.lookups(order.client_order_id) == 3


# -- 2. the process dies between the commit and the POST ---------------------------------------


async def test_a_crash_before_sending_is_not_placed_only_after_the_safe_window_then_decided_anew(
    venue: Venue, ledger: Ledger, clock: FakeClock
) -> None:
    """The intent and the strategy's state are committed together, then the process dies
    before the POST. After the restart nothing proves the order was never sent (a request can
    land up to recvWindow, 60 s, after it was signed; a live order can read "does not exist" for
    up to 62 s): the order stays unresolved and the strategy is skipped until the safe window
    (3 min) has passed and 3 lookups in all found nothing. Then it is ``not_placed`` and the
    strategy decides again under a new client id: the broker never sees the first one."""
    first_process = await ledger.create(venue)
    venue.faults.crash_before_send()

    with pytest.raises(Crash):
        await venue.cycle(first_process).run(USER_ID)

    (intent,) = await ledger_orders(first_process, venue)
    assert intent.status is OrderStatus.PENDING_SUBMIT
    assert (await strategy_state(first_process))[SLOT] == TODAY, "state committed with intent"
    assert venue.placements() == 0
    first_id = intent.client_order_id

    # Restart a minute later: new repository object, new broker objects, same file and venue.
    clock.advance(timedelta(minutes=1))
    repository = await ledger.restart()
    cycle = venue.cycle(repository)
    early = await cycle.run(USER_ID)

    steps = await stored_steps(repository, early)
    (reconcile,) = steps[TaskKind.RECONCILE]
    assert (reconcile.counts["orders_checked"], reconcile.counts["orders_unresolved"]) == (1, 1)
    assert reconcile.counts["orders_not_placed"] == 0
    (skipped,) = steps[TaskKind.STRATEGY]
    assert skipped.status is TaskStatus.SKIPPED
    assert skipped.error == (
        f"1 order(s) on {venue.connection.name!r} have an unknown outcome; no strategy trades "
        "it until they are found or shown never placed"
    )
    stored = await ledger_order(repository, first_id)
    assert (stored.status, stored.missing_lookups) == (OrderStatus.PENDING_SUBMIT, 1)
    assert venue.placements() == 0

    # Past the safe window since the intent was recorded: two more lookups, spaced by the clock.
    clock.advance(SAFE_WINDOW)
    late = await cycle.run(USER_ID)

    steps = await stored_steps(repository, late)
    (reconcile,) = steps[TaskKind.RECONCILE]
    assert reconcile.counts["orders_not_placed"] == 1
    assert reconcile.counts["orders_unresolved"] == 0
    assert reconcile.notes == (
        f"{first_id} buy {venue.quantity} {venue.instrument.symbol} at market: not_placed",
    )
    not_placed = await ledger_order(repository, first_id)
    assert not_placed.status is OrderStatus.NOT_PLACED
    assert not_placed.missing_lookups == 3
    assert (not_placed.reason or "").startswith("never placed: not found by client id in 3 lookups")
    assert venue.lookups(first_id) == 3
    assert clock.sleeps.count(LOOKUP_INTERVAL.total_seconds()) == 1, "lookups 2 and 3 spaced"

    (strategy,) = steps[TaskKind.STRATEGY]
    assert strategy.status is TaskStatus.SUCCESS
    assert strategy.counts["orders_placed"] == 1
    second_id = strategy_client_id(late)
    assert second_id != first_id
    placed = await ledger_order(repository, second_id)
    assert placed.status in (OrderStatus.FILLED, OrderStatus.OPEN)
    assert venue.orders() == [second_id], "exactly one order, never one under the first id"
    assert venue.placements() == 1


# -- 3. the process dies after the broker executed the order ------------------------------------


async def test_a_crash_after_the_broker_executed_the_order_is_adopted_after_restart(
    venue: Venue, ledger: Ledger, clock: FakeClock
) -> None:
    """The POST went out and was executed; the process died before recording the answer. The
    restarted process reconciles before any strategy runs: the lookup by client id finds the
    order (``filled``), and the strategy, whose state was committed with the intent, does not
    decide the same buy again: one order at the broker."""
    first_process = await ledger.create(venue)
    venue.faults.crash_after_execute()

    with pytest.raises(Crash):
        await venue.cycle(first_process).run(USER_ID)

    (intent,) = await ledger_orders(first_process, venue)
    assert intent.status is OrderStatus.PENDING_SUBMIT
    assert venue.orders() == [intent.client_order_id]

    clock.advance(timedelta(minutes=1))
    repository = await ledger.restart()
    cycle = venue.cycle(repository)
    after = await cycle.run(USER_ID)

    steps = await stored_steps(repository, after)
    (reconcile,) = steps[TaskKind.RECONCILE]
    assert (reconcile.counts["orders_updated"], reconcile.counts["orders_unresolved"]) == (1, 0)
    assert reconcile.notes == (
        f"{intent.client_order_id} buy {venue.quantity} {venue.instrument.symbol} at market: "
        "filled",
    )
    (strategy,) = steps[TaskKind.STRATEGY]
    assert strategy.status is TaskStatus.SUCCESS
    assert strategy.counts["intents"] == 0
    assert strategy.notes == (f"already bought in slot {TODAY}",)
    adopted = await ledger_order(repository, intent.client_order_id)
    assert adopted.status is OrderStatus.FILLED
    assert adopted.filled_quantity == venue.quantity
    assert adopted.broker_order_id is not None
    assert adopted.strategy_id == intent.strategy_id

    clock.advance(timedelta(minutes=5))
    await cycle.run(USER_ID)
    assert venue.orders() == [intent.client_order_id]
    assert venue.placements() == 1


# -- 4. the broker already holds an order with this client id -----------------------------------


RESTING = {"paper": "30000", "binance": "30000.00", "saxo": "100.00"}
"""A limit price below the market on each venue: the order rests open."""


async def test_an_order_the_broker_already_holds_is_adopted_as_it_reports_it(
    venue: Venue, ledger: Ledger, clock: FakeClock
) -> None:
    """The broker holds an open order with our client id that the ledger does not know (say,
    the database was restored from a backup taken before it was recorded). Sending it again is
    answered "exists": Binance -2010 "Duplicate order sent." (only while the first is open),
    Saxo 409 for the same X-Request-ID within 15 s (docs/brokers/saxo.md), paper the existing order
    unchanged. The order is looked up and recorded as the broker reports it: one order."""
    repository = await ledger.create(venue, strategy=False)
    request = venue.request()
    limit = Decimal(RESTING[venue.name])
    request = evolve(request, order_type=OrderType.LIMIT, limit_price=limit)
    earlier = venue.broker(repository)
    held = await earlier.place_order(request)
    await earlier.aclose()
    clock.advance(timedelta(seconds=2))

    broker = venue.broker(repository)
    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )
    await broker.aclose()

    assert order.status is OrderStatus.OPEN
    assert order.broker_order_id == held.broker_order_id
    assert venue.orders() == [request.client_order_id]
    stored = await ledger_order(repository, request.client_order_id)
    assert (stored.status, stored.broker_order_id) == (OrderStatus.OPEN, held.broker_order_id)


# -- 6. a definitive refusal --------------------------------------------------------------------


async def test_a_definitive_refusal_is_rejected_and_the_strategy_decides_again_next_cycle(
    venue: Venue, ledger: Ledger, clock: FakeClock
) -> None:
    """Binance -2010 "Account has insufficient balance for requested action.", Saxo HTTP 400
    ``InsufficientCash``, paper ``InsufficientFunds``: the broker proved it did not accept the
    order, so it is ``rejected`` (not unknown: nothing to reconcile), the strategy's step fails
    saying why, and the next cycle the strategy decides again under a new client id."""
    repository = await ledger.create(venue)
    cycle = venue.cycle(repository)
    venue.refuse_next()

    first = await cycle.run(USER_ID)

    refused_id = strategy_client_id(first)
    refused = await ledger_order(repository, refused_id)
    assert refused.status is OrderStatus.REJECTED
    (step,) = (await stored_steps(repository, first))[TaskKind.STRATEGY]
    assert step.status is TaskStatus.FAILURE
    assert "rejected" in (step.error or "")
    assert step.counts["rejected"] == 1
    assert venue.orders() == []

    clock.advance(timedelta(minutes=1))
    second = await cycle.run(USER_ID)

    steps = await stored_steps(repository, second)
    assert TaskKind.RECONCILE not in steps, "nothing was left open to reconcile"
    (strategy,) = steps[TaskKind.STRATEGY]
    assert strategy.status is TaskStatus.SUCCESS
    assert strategy.counts["orders_placed"] == 1
    placed_id = strategy_client_id(second)
    assert placed_id != refused_id
    assert venue.orders() == [placed_id]
    assert (await ledger_order(repository, refused_id)).status is OrderStatus.REJECTED
