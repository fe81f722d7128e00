"""The order protocol against the fake Binance's own faults (docs/brokers/binance.md, "Orders"):
what Binance documents as "execution status unknown" is never a rejection, what proves the order
was refused is, and a lookup that fails too leaves the order to reconcile, never to resend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.fakes.binance_setup import API_KEY
from tests.integration.orders.order_fault_harness import (
    USER_ID,
    BinanceVenue,
    Ledger,
    ledger_order,
)

from tradecore.domain import OrderStatus
from tradecore.services import reconcile_orders, submit_order
from tradecore.services.orders import SAFE_WINDOW
from tradecore.testing import FakeClock

READ_ATTEMPTS = 4
"""How many times the adapter tries a read before giving up (test_binance_faults.py)."""
BAD_GATEWAY = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"

UNKNOWN_OUTCOMES: dict[str, dict[str, Any]] = {
    "500": {
        "status": 500,
        "json": {"code": -1000, "msg": "An unknown error occurred while processing the request."},
    },
    "502-html": {"status": 502, "body": BAD_GATEWAY},
    "503": {
        "status": 503,
        "json": {"code": -1001, "msg": "Internal error; unable to process your request."},
    },
    # The code alone decides: even under a 4xx status these say the outcome is unknown.
    "-1006": {
        "status": 400,
        "json": {
            "code": -1006,
            "msg": "An unexpected response was received from the message bus. Execution status "
            "unknown.",
        },
    },
    "-1007": {
        "status": 400,
        "json": {
            "code": -1007,
            "msg": "Timeout waiting for response from backend server. Send status unknown; "
            "execution status unknown.",
        },
    },
}


@pytest.mark.parametrize("executed", [True, False], ids=["executed", "not-executed"])
@pytest.mark.parametrize("answer", sorted(UNKNOWN_OUTCOMES))
async def test_a_5xx_or_unknown_execution_code_is_never_a_rejection(
    binance: BinanceVenue, ledger: Ledger, clock: FakeClock, answer: str, executed: bool
) -> None:
    """HTTP 5xx: "It is important to NOT treat this as a failure operation; the execution status
    is UNKNOWN and could have been a success" (Binance, HTTP return codes); -1006 UNEXPECTED_RESP
    and -1007 TIMEOUT: "execution status unknown" (Binance, error codes). Executed or not, the
    order is sent once and never ``rejected``: found at once it is adopted; not found it is
    ``unknown`` until reconcile concludes ``not_placed`` after the safe window, still without
    resending."""
    repository = await ledger.create(binance, strategy=False)
    broker = binance.broker(repository)
    request = binance.request()
    binance.fake.script("POST", "/api/v3/order", execute=executed, **UNKNOWN_OUTCOMES[answer])

    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )

    assert order.status is not OrderStatus.REJECTED
    assert binance.placements() == 1
    if executed:
        assert order.status is OrderStatus.FILLED
        assert binance.orders() == [request.client_order_id]
        await broker.aclose()
        return
    assert (order.status, order.missing_lookups) == (OrderStatus.UNKNOWN, 1)
    assert "never sent again" in (order.reason or "")
    assert "not found by client id yet" in (order.reason or "")
    assert binance.orders() == []

    clock.advance(SAFE_WINDOW)
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=binance.connection, clock=clock
    )
    await broker.aclose()

    assert (result.not_placed, result.unresolved) == (1, 0)
    stored = await ledger_order(repository, request.client_order_id)
    assert stored.status is OrderStatus.NOT_PLACED
    assert binance.lookups(request.client_order_id) == 3
    assert binance.placements() == 1, "the order was sent again"


@pytest.mark.parametrize(
    ("quantity", "code", "message"),
    [
        ("100.00000", "-2010", "Account has insufficient balance for requested action."),
        ("0.000001", "-1013", "Filter failure: LOT_SIZE"),
    ],
    ids=["-2010-insufficient-balance", "-1013-filter-failure"],
)
async def test_a_definitive_refusal_is_rejected_and_leaves_nothing_to_reconcile(
    binance: BinanceVenue,
    ledger: Ledger,
    clock: FakeClock,
    quantity: str,
    code: str,
    message: str,
) -> None:
    """-2010 NEW_ORDER_REJECTED for a lack of balance and -1013 for a filter failure prove the
    order was not accepted (docs/brokers/binance.md, "Orders"): ``rejected`` with Binance's code and
    words, nothing open to reconcile, so nothing blocks the strategy's next decision."""
    repository = await ledger.create(binance, strategy=False)
    broker = binance.broker(repository)
    request = binance.request(quantity=quantity)

    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=binance.connection, clock=clock
    )
    await broker.aclose()

    assert order.status is OrderStatus.REJECTED
    assert f"code {code}: {message}" in (order.reason or "")
    assert (result.checked, result.unresolved) == (0, 0)
    assert binance.orders() == []
    assert binance.placements() == 1
    assert binance.lookups(request.client_order_id) == 0, "a refusal needs no lookup"


async def test_when_the_lookup_fails_too_the_order_is_unknown_and_adopted_by_a_later_reconcile(
    binance: BinanceVenue, ledger: Ledger, clock: FakeClock
) -> None:
    """The answer to the POST is lost and the lookup right after hits a 503 that outlasts the
    adapter's read retries: the order is ``unknown`` (nothing proves anything) and its missed
    lookups do not count (a failed lookup is not "not found"). The next reconcile finds it:
    ``filled``, one order at Binance."""
    repository = await ledger.create(binance, strategy=False)
    broker = binance.broker(repository)
    request = binance.request()
    binance.lose_next_answer()
    busy = {"code": -1001, "msg": "Internal error; unable to process your request."}
    binance.fake.script("GET", "/api/v3/order", status=503, json=busy, times=READ_ATTEMPTS)

    order = await submit_order(
        repository=repository, broker=broker, user_id=USER_ID, request=request, clock=clock
    )

    assert (order.status, order.missing_lookups) == (OrderStatus.UNKNOWN, 0)
    assert "looking it up failed" in (order.reason or "")
    assert binance.fake.unused_scripts() == [], "every read attempt met the 503"

    clock.advance(timedelta(seconds=30))
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=binance.connection, clock=clock
    )
    await broker.aclose()

    assert (result.updated, result.unresolved) == (1, 0)
    assert (await ledger_order(repository, request.client_order_id)).status is OrderStatus.FILLED
    assert binance.placements() == 1, "the order was sent again"
    assert binance.orders() == [request.client_order_id]


async def test_binance_would_accept_a_resend_of_a_filled_order_which_is_why_none_is_made(
    binance: BinanceVenue, ledger: Ledger, clock: FakeClock
) -> None:
    """ "Orders with the same newClientOrderID can be accepted only when the previous one is
    filled" (Binance, New order): a market order fills at once, so a blind resend under the
    same client id would be a second fill, not a "Duplicate order sent.". This pins the fake to
    that rule, so the "exactly one order" assertions of the other tests would see a resend."""
    repository = await ledger.create(binance, strategy=False)
    broker = binance.broker(repository)
    request = binance.request()

    await broker.place_order(request)
    await broker.place_order(request)
    await broker.aclose()

    assert binance.orders() == [request.client_order_id] * 2
    assert [o.status for o in binance.fake.accounts[API_KEY].orders] == ["FILLED", "FILLED"]
