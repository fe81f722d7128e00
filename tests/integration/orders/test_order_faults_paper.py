"""The order protocol on the paper venue, whose own faults cannot be scripted: the wrapper
(``tests/fakes/faulty_broker.py``) raises what an adapter raises when an answer is lost or a
gateway fails, and the venue's own refusals are definitive.

Paper has no HTTP, so no 5xx: scenario 5 here is the error an adapter turns a 5xx into
(``BrokerUnavailable``, ``OrderOutcomeUnknown``) raised before or after the venue executed the
order. Paper's "duplicate" answer is the existing order unchanged (see the cross-broker
``test_order_protocol_faults.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.integration.orders.order_fault_harness import (
    USER_ID,
    Ledger,
    PaperVenueHarness,
    ledger_order,
)

from tradecore.domain import OrderRequest, OrderStatus
from tradecore.errors import BrokerError, BrokerUnavailable, OrderOutcomeUnknown
from tradecore.services import reconcile_orders, submit_order
from tradecore.services.orders import SAFE_WINDOW
from tradecore.testing import FakeClock


def _answer_lost(kind: type[BrokerError]) -> Callable[[OrderRequest], BrokerError]:
    def make(request: OrderRequest) -> BrokerError:
        text = "read timed out after the order request was sent; the order may have been placed"
        if issubclass(kind, OrderOutcomeUnknown):
            return kind(text, broker="paper", client_order_id=request.client_order_id)
        return kind(text, broker="paper")

    return make


@pytest.mark.parametrize("kind", [OrderOutcomeUnknown, BrokerUnavailable])
async def test_an_executed_order_whose_answer_is_lost_is_adopted_whatever_the_error(
    paper: PaperVenueHarness, ledger: Ledger, clock: FakeClock, kind: type[BrokerError]
) -> None:
    """Whether the adapter says "outcome unknown" or only "unavailable" after sending, the
    order is looked up at once and recorded as the venue reports it: one placement."""
    repository = await ledger.create(paper, strategy=False)
    broker = paper.broker(repository)
    request = paper.request()
    paper.faults.lose_answer(_answer_lost(kind))

    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )
    await broker.aclose()

    assert order.status is OrderStatus.FILLED
    assert order.broker_order_id is not None
    assert paper.faults.sent_ids == [request.client_order_id]
    assert paper.lookups(request.client_order_id) == 1


async def test_an_unavailable_gateway_before_sending_is_unknown_then_not_placed_never_rejected(
    paper: PaperVenueHarness, ledger: Ledger, clock: FakeClock
) -> None:
    """A ``BrokerUnavailable`` from ``place_order`` (a 5xx, as adapters report it) proves
    nothing about the order: ``unknown``, never ``rejected``; not found after the safe window
    and 3 lookups it is ``not_placed``. The venue never saw it and nothing resent it."""
    repository = await ledger.create(paper, strategy=False)
    broker = paper.broker(repository)
    request = paper.request()
    paper.faults.fail_before_send(
        BrokerUnavailable("paper gateway answered HTTP 503", broker="paper", code="HTTP 503")
    )

    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )

    assert (order.status, order.missing_lookups) == (OrderStatus.UNKNOWN, 1)
    assert "HTTP 503" in (order.reason or "")

    clock.advance(SAFE_WINDOW)
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=paper.connection, clock=clock
    )
    await broker.aclose()

    assert (result.not_placed, result.unresolved) == (1, 0)
    assert (await ledger_order(repository, request.client_order_id)).status is (
        OrderStatus.NOT_PLACED
    )
    assert paper.faults.sent == []
    assert paper.lookups(request.client_order_id) == 3


@pytest.mark.parametrize(
    ("quantity", "error"),
    [("1000", "InsufficientFunds"), ("0.00001", "OrderRejected")],
    ids=["no-cash", "off-lot"],
)
async def test_the_venues_own_refusals_are_rejected(
    paper: PaperVenueHarness, ledger: Ledger, clock: FakeClock, quantity: str, error: str
) -> None:
    """A buy costing more than the free cash, or a quantity off the instrument's lot: the
    venue refused it, so it is ``rejected`` and nothing is left to reconcile."""
    repository = await ledger.create(paper, strategy=False)
    broker = paper.broker(repository)
    request = paper.request(quantity=quantity)

    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=paper.connection, clock=clock
    )
    await broker.aclose()

    assert order.status is OrderStatus.REJECTED
    assert (order.reason or "").startswith(f"{error}:")
    assert result.checked == 0
    assert paper.faults.sent_ids == [request.client_order_id]
    assert paper.lookups(request.client_order_id) == 0
