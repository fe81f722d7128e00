"""The order protocol against the fake Saxo's own faults (docs/brokers/saxo.md, "Orders";
https://www.developer.saxo/openapi/learn/order-placement): a 5xx, ``TradeNotCompleted`` and the
"pending/timed out" codes are never a rejection, a 400 with a business error code is, and Saxo's
duplicate guard lasts only 15 s."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.fakes.saxo_faults import ScriptAction
from tests.fakes.saxo_wire import dumps
from tests.integration.orders.order_fault_harness import (
    USER_ID,
    Ledger,
    SaxoVenue,
    ledger_order,
    stored_steps,
    strategy_client_id,
)

from tradecore.domain import OrderStatus, TaskKind, TaskStatus
from tradecore.services import reconcile_orders, submit_order
from tradecore.services.orders import SAFE_WINDOW
from tradecore.testing import FakeClock


def _error(code: str, message: str) -> bytes:
    return dumps({"ErrorCode": code, "Message": message})


# (how the fake misbehaves, whether the order was executed)
UNKNOWN_OUTCOMES: dict[str, tuple[ScriptAction | int, bool]] = {
    "500": (("status", 500, None), False),
    "503": (("status", 503, None), False),
    "500-after-executing": (500, True),
    "503-after-executing": (503, True),
    "TradeNotCompleted": ("trade_not_completed", True),
    "OrderCommandTimeout": (
        (
            "status",
            400,
            _error("OrderCommandTimeout", "Your order request timed out. Please try again."),
        ),
        False,
    ),
    "OrderCommandPending": (
        (
            "status",
            400,
            _error(
                "OrderCommandPending",
                "Your order request is pending broker confirmation. Confirmation is still "
                "possible.",
            ),
        ),
        False,
    ),
}


@pytest.mark.parametrize("answer", sorted(UNKNOWN_OUTCOMES))
async def test_a_5xx_or_trade_not_completed_is_never_a_rejection(
    saxo: SaxoVenue, ledger: Ledger, clock: FakeClock, answer: str
) -> None:
    """A 5xx, ``TradeNotCompleted`` ("the order may still execute": reconcile through
    ``port/v1/orders`` and the order-activity audit) and the spec's
    ``OrderCommandTimeout``/``OrderCommandPending`` leave the outcome open: the order is sent
    once, adopted when the lookup finds it, otherwise ``unknown`` until reconcile concludes
    ``not_placed`` after the safe window, never ``rejected`` and never resent."""
    fault, executed = UNKNOWN_OUTCOMES[answer]
    repository = await ledger.create(saxo, strategy=False)
    broker = saxo.broker(repository)
    request = saxo.request()
    if isinstance(fault, int):
        saxo.execute_then_answer(fault)
    else:
        saxo.fake.script("POST", "/trade/v2/orders", fault)

    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )

    assert order.status is not OrderStatus.REJECTED
    assert saxo.placements() == 1
    if executed:
        assert order.status is OrderStatus.FILLED
        assert order.broker_order_id == saxo.fake.orders[0].order_id
        assert saxo.orders() == [request.client_order_id]
        await broker.aclose()
        return
    assert (order.status, order.missing_lookups) == (OrderStatus.UNKNOWN, 1)
    assert "never sent again" in (order.reason or "")
    assert saxo.orders() == []

    clock.advance(SAFE_WINDOW)
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=saxo.connection, clock=clock
    )
    await broker.aclose()

    assert (result.not_placed, result.unresolved) == (1, 0)
    assert (await ledger_order(repository, request.client_order_id)).status is (
        OrderStatus.NOT_PLACED
    )
    assert saxo.lookups(request.client_order_id) == 3
    assert saxo.placements() == 1, "the order was sent again"


@pytest.mark.parametrize(
    ("fault", "quantity", "code"),
    [
        (None, "100000", "InsufficientCash"),
        (("status", 400, _error("MarketClosed", "Market is closed.")), None, "MarketClosed"),
        (
            ("status", 400, _error("InstrumentNotAllowed", "Instrument not allowed.")),
            None,
            "InstrumentNotAllowed",
        ),
    ],
    ids=["InsufficientCash", "MarketClosed", "InstrumentNotAllowed"],
)
async def test_a_400_with_an_error_code_is_rejected(
    saxo: SaxoVenue,
    ledger: Ledger,
    clock: FakeClock,
    fault: ScriptAction | None,
    quantity: str | None,
    code: str,
) -> None:
    """Business rejection: "HTTP 400 with ErrorCode/Message": the order was not
    placed, so it is ``rejected`` with Saxo's code, and nothing is left to reconcile."""
    repository = await ledger.create(saxo, strategy=False)
    broker = saxo.broker(repository)
    request = saxo.request(quantity=quantity)
    if fault is not None:
        saxo.fake.script("POST", "/trade/v2/orders", fault)

    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=saxo.connection, clock=clock
    )
    await broker.aclose()

    assert order.status is OrderStatus.REJECTED
    assert code in (order.reason or "")
    assert (result.checked, result.unresolved) == (0, 0)
    assert saxo.orders() == []
    assert saxo.placements() == 1
    assert saxo.lookups(request.client_order_id) == 0, "a refusal needs no lookup"


async def test_a_connection_that_never_opened_is_a_rejection_it_provably_was_not_sent(
    saxo: SaxoVenue, ledger: Ledger, clock: FakeClock
) -> None:
    """Only httpx ``ConnectError``/``ConnectTimeout``/``PoolTimeout`` prove the request never
    left (docs/brokers/saxo.md, "Orders"): that is a refusal, not an unknown outcome."""
    repository = await ledger.create(saxo, strategy=False)
    broker = saxo.broker(repository)
    request = saxo.request()
    saxo.fake.script("POST", "/trade/v2/orders", "timeout_before_execute")

    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )
    await broker.aclose()

    assert order.status is OrderStatus.REJECTED
    assert "was not sent" in (order.reason or "")
    assert saxo.orders() == []


async def test_saxo_would_accept_the_same_order_again_after_15_s_which_is_why_none_is_resent(
    saxo: SaxoVenue, ledger: Ledger, clock: FakeClock
) -> None:
    """Saxo's duplicate guard (409) covers identical requests with the same X-Request-ID within
    15 s only, and ExternalReference is "not checked for uniqueness"
    (https://openapi.help.saxo/hc/en-us/articles/4418504615057): a
    resend after a long timeout is a second order. This pins the fake to that rule, so the
    "exactly one order" assertions of the other tests would see a resend."""
    repository = await ledger.create(saxo, strategy=False)
    broker = saxo.broker(repository)
    request = saxo.request()

    await broker.place_order(request)
    clock.advance(timedelta(seconds=16))
    await broker.place_order(request)
    await broker.aclose()

    assert saxo.orders() == [request.client_order_id] * 2


async def test_an_acknowledged_order_saxo_does_not_list_yet_is_unresolved_not_updated(
    saxo: SaxoVenue, ledger: Ledger, clock: FakeClock
) -> None:
    """Saxo acknowledges a placement with an ``OrderId`` only, so the order is recorded
    ``open``; a market order then fills and leaves ``/port/v1/orders`` before the order-activity
    audit (not streaming) lists it. ``reconcile_orders`` documents this case: "An
    order the broker had acknowledged (``OPEN``) and no longer finds is left open and counted
    unresolved", so strategies stay off the connection until it is found, and nothing was
    updated. Found by the next reconcile, it is ``filled``."""
    repository = await ledger.create(saxo)
    cycle = saxo.cycle(repository)
    first = await cycle.run(USER_ID)
    placed_id = strategy_client_id(first)
    assert (await ledger_order(repository, placed_id)).status is OrderStatus.OPEN

    saxo.lag(lookups=1)
    clock.advance(timedelta(seconds=30))
    second = await cycle.run(USER_ID)

    steps = await stored_steps(repository, second)
    (reconcile,) = steps[TaskKind.RECONCILE]
    assert reconcile.counts["orders_unresolved"] == 1
    assert reconcile.counts["orders_updated"] == 0, "nothing changed: the order was not found"
    assert reconcile.notes == ()
    (strategy,) = steps[TaskKind.STRATEGY]
    assert strategy.status is TaskStatus.SKIPPED

    clock.advance(timedelta(seconds=30))
    third = await cycle.run(USER_ID)

    (reconcile,) = (await stored_steps(repository, third))[TaskKind.RECONCILE]
    assert (reconcile.counts["orders_updated"], reconcile.counts["orders_unresolved"]) == (1, 0)
    assert (await ledger_order(repository, placed_id)).status is OrderStatus.FILLED
    assert saxo.orders() == [placed_id]
