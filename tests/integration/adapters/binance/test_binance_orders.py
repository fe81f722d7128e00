"""Spot orders through the Binance adapter against the fake exchange (POST/GET/DELETE
/api/v3/order, https://developers.binance.com/docs/binance-spot-api-docs/; docs/brokers/binance.md,
"Orders"): the client id is sent as newClientOrderId, the FULL response is mapped, refusals keep
Binance's code, a duplicate is "exists", cancels are idempotent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import BrokerMaker, binance_connection

from tradecore.domain import (
    Account,
    Instrument,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from tradecore.errors import InsufficientFunds, OrderExists, OrderNotFound, OrderRejected
from tradecore.services.orders import submit_order
from tradecore.testing import FakeClock
from tradecore.testing.builders import make_user
from tradecore_adapters.memory import MemoryRepository

SPOT = Account(connection_id="conn-binance", account_id="spot")
BTCUSDT = Instrument(symbol="BTCUSDT")


def _request(
    client_order_id: str,
    *,
    quantity: str = "0.01000",
    limit: str | None = None,
    side: Side = Side.BUY,
    tif: TimeInForce = TimeInForce.GTC,
) -> OrderRequest:
    return OrderRequest(
        connection_id="conn-binance",
        account_id="spot",
        client_order_id=client_order_id,
        instrument=BTCUSDT,
        side=side,
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        quantity=Decimal(quantity),
        limit_price=None if limit is None else Decimal(limit),
        time_in_force=tif,
    )


async def test_market_order_sends_our_client_id_and_maps_the_full_response(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    order = await make_broker().place_order(_request("tc-market-1"))
    sent = next(r for r in fake.requests if r.method == "POST")
    assert sent.param("newClientOrderId") == "tc-market-1"
    assert sent.param("newOrderRespType") == "FULL"
    assert sent.param("quantity") == "0.01000"
    assert sent.raw_query.rsplit("&", 1)[1].startswith("signature="), "signature last"
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == Decimal("0.01000")
    assert order.average_fill_price == Decimal("50000.00")
    assert order.broker_order_id is not None


async def test_resting_limit_order_is_open_then_cancelled_and_cancelling_again_changes_nothing(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    broker = make_broker()
    placed = await broker.place_order(_request("tc-limit-1", limit="30000.00"))
    assert placed.status is OrderStatus.OPEN
    assert placed.request.limit_price == Decimal("30000.00")
    cancelled = await broker.cancel_order(SPOT, "tc-limit-1", instrument=BTCUSDT)
    assert cancelled.status is OrderStatus.CANCELED
    assert cancelled.client_order_id == "tc-limit-1"
    again = await broker.cancel_order(SPOT, "tc-limit-1", instrument=BTCUSDT)
    assert again.status is OrderStatus.CANCELED


async def test_unknown_order_is_not_found_for_lookup_and_cancel(make_broker: BrokerMaker) -> None:
    broker = make_broker()
    with pytest.raises(OrderNotFound, match="-2013"):
        await broker.get_order_status(SPOT, "tc-never-sent", instrument=BTCUSDT)
    with pytest.raises(OrderNotFound):
        await broker.cancel_order(SPOT, "tc-never-sent", instrument=BTCUSDT)


async def test_duplicate_open_client_id_is_reported_as_exists(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    broker = make_broker()
    await broker.place_order(_request("tc-dup-1", limit="30000.00"))
    with pytest.raises(OrderExists) as caught:
        await broker.place_order(_request("tc-dup-1", limit="30000.00"))
    assert caught.value.client_order_id == "tc-dup-1"
    assert caught.value.code == "-2010"
    assert len(fake.accounts[next(iter(fake.accounts))].open_orders()) == 1


async def test_submit_order_adopts_the_existing_order_on_duplicate(
    fake: FakeBinance, make_broker: BrokerMaker, clock: FakeClock
) -> None:
    # A crashed process sent the order; the restarted one records the intent and sends again.
    broker = make_broker()
    await broker.place_order(_request("tc-dup-2", limit="30000.00"))
    repository = MemoryRepository()
    connection = binance_connection()
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user(id=connection.user_id))
        await uow.connections.add(connection)
        await uow.commit()
    order = await submit_order(
        repository=repository,
        broker=broker,
        user_id=connection.user_id,
        request=_request("tc-dup-2", limit="30000.00"),
        clock=clock,
    )
    assert order.status is OrderStatus.OPEN
    assert order.broker_order_id is not None
    assert fake.count("POST", "/api/v3/order") == 2


async def test_definitive_refusals_keep_binance_code_and_message(
    make_broker: BrokerMaker,
) -> None:
    broker = make_broker()
    with pytest.raises(InsufficientFunds):
        await broker.place_order(_request("tc-big-1", quantity="1000.00000"))
    with pytest.raises(OrderRejected) as caught:
        await broker.place_order(_request("tc-lot-1", quantity="0.000001"))
    assert caught.value.code is not None
    assert caught.value.code.startswith("-")


async def test_day_time_in_force_is_refused_before_anything_is_sent(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    with pytest.raises(OrderRejected, match="DAY"):
        await make_broker().place_order(_request("tc-day-1", limit="30000.00", tif=TimeInForce.DAY))
    assert fake.count("POST", "/api/v3/order") == 0


async def test_orders_on_the_futures_account_are_refused_unsent(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    request = OrderRequest(
        connection_id="conn-binance",
        account_id="usdm-futures",
        client_order_id="tc-fut-1",
        instrument=BTCUSDT,
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal("1"),
    )
    with pytest.raises(OrderRejected, match="spot account only"):
        await make_broker(market="both").place_order(request)
    assert fake.count("POST", "/api/v3/order") == 0
