"""An order the lookup by client id keeps denying past the safe window, while the broker executed
it, is found in the broker's other listings and adopted: one order for the strategy's slot, never
a second (docs/orders.md, "not_placed: never placed").

Binance's ``GET /api/v3/order`` can answer "Order does not exist." (-2013) about a live order
(docs/brokers/binance.md); here it says so for every lookup, and the order is found in
``allOrders`` or, when that listing misses it too, through the account's fills (``myTrades``).
Saxo's lookup (open orders, then the last entry per order in the activity audit) is made to find
nothing; the search over every audit entry since the order was recorded finds it.
"""

from __future__ import annotations

import pytest
from tests.integration.orders.order_fault_harness import (
    BINANCE_NOT_FOUND,
    BinanceVenue,
    Ledger,
    SaxoVenue,
    Venue,
    ledger_order,
    ledger_orders,
    strategy_client_id,
)

from tradecore.domain import OrderStatus, TaskKind
from tradecore.ports import RepositoryPort
from tradecore.services.orders import SAFE_WINDOW
from tradecore.testing import FakeClock

LIES = 50
"""More "not found" answers than any test asks for: the lookup by client id never tells."""


async def lost_then_reconciled(
    venue: Venue, repository: RepositoryPort, clock: FakeClock
) -> tuple[str, list[str]]:
    """Cycle 1 buys for the slot and loses the answer (the broker executed it); cycle 2, a safe
    window later in the same slot, reconciles and runs the strategy again. Returns the client id
    and cycle 2's strategy notes."""
    first = await venue.cycle(repository).run("user-1")
    client_id = strategy_client_id(first)
    assert (await ledger_order(repository, client_id)).status is OrderStatus.UNKNOWN
    clock.advance(SAFE_WINDOW)
    second = await venue.cycle(repository).run("user-1")
    (strategy_step,) = [s for s in second.run.steps if s.kind is TaskKind.STRATEGY]
    return client_id, list(strategy_step.notes)


@pytest.mark.parametrize("found_in", ["allOrders", "myTrades"])
async def test_binance_an_order_denied_by_get_order_is_adopted_from_a_listing(
    binance: BinanceVenue, ledger: Ledger, clock: FakeClock, found_in: str
) -> None:
    repository = await ledger.create(binance)
    binance.lose_next_answer()
    binance.fake.script("GET", "/api/v3/order", status=400, json=BINANCE_NOT_FOUND, times=LIES)
    if found_in == "myTrades":  # the order listing misses it too: only its fills show it
        binance.fake.script("GET", "/api/v3/allOrders", json=[])

    client_id, notes = await lost_then_reconciled(binance, repository, clock)

    order = await ledger_order(repository, client_id)
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == binance.quantity
    assert binance.orders() == [client_id], "one order for the slot"
    assert binance.placements() == 1
    assert [o.status for o in await ledger_orders(repository, binance)] == [OrderStatus.FILLED]
    assert any("already bought" in note for note in notes), notes
    assert binance.fake.count("GET", "/api/v3/allOrders") == 1
    assert binance.fake.count("GET", "/api/v3/myTrades") >= (1 if found_in == "myTrades" else 0)
    if found_in == "myTrades":
        assert "found by its fills" in (order.reason or "")


async def test_binance_nothing_in_any_listing_is_not_placed_and_decided_again(
    binance: BinanceVenue, ledger: Ledger, clock: FakeClock
) -> None:
    """The other side: the order really never reached Binance (refused before it left), so no
    listing holds it either; it is ``not_placed`` and the slot is decided again, once."""
    repository = await ledger.create(binance)
    binance.fake.script("POST", "/api/v3/order", drop=True, execute=False)

    client_id, notes = await lost_then_reconciled(binance, repository, clock)

    assert (await ledger_order(repository, client_id)).status is OrderStatus.NOT_PLACED
    assert binance.fake.count("GET", "/api/v3/allOrders") == 1
    assert len(binance.orders()) == 1, "decided again once: one order at Binance"
    assert not any("already bought" in note for note in notes), notes


async def test_saxo_an_order_its_lookup_misses_is_adopted_from_the_activity_log(
    saxo: SaxoVenue, ledger: Ledger, clock: FakeClock
) -> None:
    repository = await ledger.create(saxo)
    saxo.lose_next_answer()
    saxo.lag(3)  # the lookup right after the lost answer, then the two that make three

    client_id, notes = await lost_then_reconciled(saxo, repository, clock)

    order = await ledger_order(repository, client_id)
    assert order.status is OrderStatus.FILLED
    assert order.broker_order_id == saxo.fake.orders[0].order_id
    assert saxo.orders() == [client_id], "one order for the slot"
    assert saxo.placements() == 1
    assert any("already bought" in note for note in notes), notes
    audits = [r for r in saxo.fake.requests if r.path.endswith("/cs/v1/audit/orderactivities")]
    assert any(r.param("EntryType") == "All" for r in audits), "the search read every entry"
