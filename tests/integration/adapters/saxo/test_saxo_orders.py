"""Saxo orders: sent once with ManualOrder false, the client id as ExternalReference and an
X-Request-ID; every ambiguous answer is "outcome unknown" and resolved by looking the order up,
never by sending it again (docs/brokers/saxo.md, "Orders"; docs/orders.md)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from tests.fakes.saxo_exchange import FakeSaxo
from tests.integration.adapters.saxo.conftest import ACCOUNT_KEY, BrokerMaker

from tradecore.domain import (
    Account,
    BrokerConnection,
    Instrument,
    OrderRequest,
    OrderStatus,
    OrderType,
    TimeInForce,
    client_order_id_for,
    new_id,
)
from tradecore.errors import (
    InsufficientFunds,
    OrderExists,
    OrderOutcomeUnknown,
    OrderRejected,
)
from tradecore.ports import BrokerPort, RepositoryPort
from tradecore.services import reconcile_orders, submit_order
from tradecore.testing import FakeClock

AAPL = Instrument(symbol="AAPL:xnas", asset_type="stock")


def request(
    connection: BrokerConnection,
    quantity: str = "5",
    *,
    limit: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
) -> OrderRequest:
    return OrderRequest(
        connection_id=connection.id,
        account_id=ACCOUNT_KEY,
        client_order_id=client_order_id_for(f"test-{new_id()}"),
        instrument=AAPL,
        side="buy",
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        quantity=Decimal(quantity),
        limit_price=None if limit is None else Decimal(limit),
        time_in_force=tif,
    )


async def account_of(broker: BrokerPort) -> Account:
    return next(a for a in await broker.get_accounts() if a.account_id == ACCOUNT_KEY)


async def test_the_order_is_sent_once_as_an_automated_order_with_our_ids(
    fake: FakeSaxo, make_broker: BrokerMaker, connection: BrokerConnection
) -> None:
    broker = make_broker()
    wanted = request(connection, limit="150.25", tif=TimeInForce.DAY)

    placed = await broker.place_order(wanted)

    (post,) = [r for r in fake.requests if r.method == "POST" and r.api_path == "/trade/v2/orders"]
    body = post.json()
    assert body["ManualOrder"] is False
    assert body["ExternalReference"] == wanted.client_order_id
    assert body["AccountKey"] == ACCOUNT_KEY
    assert (body["Uic"], body["AssetType"]) == (211, "Stock")
    assert body["OrderPrice"] == Decimal("150.25")
    assert body["OrderDuration"] == {"DurationType": "DayOrder"}
    assert post.headers["x-request-id"]
    assert placed.status is OrderStatus.OPEN
    assert placed.broker_order_id == fake.orders[0].order_id
    await broker.aclose()


@pytest.mark.parametrize(
    "fault",
    [
        "timeout_after_execute",
        ("status", 500, None),
        ("status", 503, None),
        "trade_not_completed",
        "no_order_id",
    ],
)
async def test_an_ambiguous_answer_is_outcome_unknown_and_the_order_is_found_not_resent(
    fake: FakeSaxo, make_broker: BrokerMaker, connection: BrokerConnection, fault: object
) -> None:
    broker = make_broker()
    account = await account_of(broker)
    wanted = request(connection)
    fake.script("POST", "/trade/v2/orders", fault)  # type: ignore[arg-type]

    with pytest.raises(OrderOutcomeUnknown) as raised:
        await broker.place_order(wanted)

    assert raised.value.client_order_id == wanted.client_order_id
    assert fake.count("POST", "/trade/v2/orders") == 1
    executed = fault in ("timeout_after_execute", "trade_not_completed", "no_order_id")
    if executed:
        found = await broker.get_order_status(account, wanted.client_order_id, instrument=AAPL)
        assert found.status is OrderStatus.FILLED
        assert found.filled_quantity == Decimal(5)
    assert len(fake.orders) == (1 if executed else 0)
    await broker.aclose()


async def test_a_connection_failure_before_sending_is_a_rejection(
    fake: FakeSaxo, make_broker: BrokerMaker, connection: BrokerConnection
) -> None:
    broker = make_broker()
    fake.script("POST", "/trade/v2/orders", "timeout_before_execute")

    with pytest.raises(OrderRejected, match="not sent"):
        await broker.place_order(request(connection))
    assert fake.orders == []
    await broker.aclose()


async def test_saxos_duplicate_guard_means_the_order_exists(
    fake: FakeSaxo, make_broker: BrokerMaker, connection: BrokerConnection, clock: FakeClock
) -> None:
    """Saxo's duplicate guard: the same order with the same X-Request-ID inside 15 s answers 409."""
    broker = make_broker()
    account = await account_of(broker)
    wanted = request(connection, limit="100.00")
    await broker.place_order(wanted)
    clock.advance(timedelta(seconds=2))  # past the 1 order/s limit, inside the 15 s guard
    again = make_broker()  # e.g. a restarted process re-sending the same intent

    with pytest.raises(OrderExists):
        await again.place_order(wanted)

    assert len(fake.orders) == 1
    found = await again.get_order_status(account, wanted.client_order_id, instrument=AAPL)
    assert found.status is OrderStatus.OPEN
    await broker.aclose()
    await again.aclose()


async def test_insufficient_cash_is_a_definitive_rejection(
    fake: FakeSaxo, make_broker: BrokerMaker, connection: BrokerConnection
) -> None:
    broker = make_broker()
    with pytest.raises(InsufficientFunds) as raised:
        await broker.place_order(request(connection, "100000"))
    assert raised.value.code == "InsufficientCash"
    assert "X-Correlation" in str(raised.value)
    await broker.aclose()


async def test_orders_are_spaced_one_second_apart(
    fake: FakeSaxo, make_broker: BrokerMaker, connection: BrokerConnection, clock: FakeClock
) -> None:
    """One order per second per session; the fake answers 429 to a faster second one."""
    broker = make_broker()
    started = clock.now()
    for _ in range(3):
        await broker.place_order(request(connection, limit="100.00"))
    assert len(fake.orders) == 3
    times = [r.at for r in fake.requests if r.method == "POST"]
    assert all((b - a).total_seconds() >= 1 for a, b in itertools.pairwise(times))
    assert (clock.now() - started).total_seconds() >= 2
    await broker.aclose()


async def test_submit_order_persists_then_resolves_an_unknown_outcome_by_lookup(
    fake: FakeSaxo,
    make_broker: BrokerMaker,
    connection: BrokerConnection,
    repository: RepositoryPort,
    clock: FakeClock,
) -> None:
    broker = make_broker()
    wanted = request(connection)
    fake.script("POST", "/trade/v2/orders", "timeout_after_execute")

    order = await submit_order(
        repository=repository,
        broker=broker,
        user_id=connection.user_id,
        request=wanted,
        clock=clock,
    )

    # The answer was lost; the order is looked up by its ExternalReference at once, not resent.
    assert order.status is OrderStatus.FILLED
    assert order.broker_order_id == fake.orders[0].order_id
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=connection, clock=clock
    )
    assert (result.checked, result.updated, result.unresolved) == (0, 0, 0)
    async with repository.unit_of_work() as uow:
        stored = await uow.orders.get(connection.user_id, wanted.client_order_id)
    assert stored == order
    assert fake.count("POST", "/trade/v2/orders") == 1, "the order was sent again"
    await broker.aclose()


async def test_cancelling_a_resting_order_needs_its_account_and_is_idempotent(
    fake: FakeSaxo, make_broker: BrokerMaker, connection: BrokerConnection
) -> None:
    broker = make_broker()
    account = await account_of(broker)
    wanted = request(connection, limit="100.00")
    await broker.place_order(wanted)

    cancelled = await broker.cancel_order(account, wanted.client_order_id, instrument=AAPL)
    again = await broker.cancel_order(account, wanted.client_order_id, instrument=AAPL)

    (delete,) = [r for r in fake.requests if r.method == "DELETE"]
    assert delete.param("AccountKey") == ACCOUNT_KEY
    assert cancelled.status is again.status is OrderStatus.CANCELED
    await broker.aclose()
