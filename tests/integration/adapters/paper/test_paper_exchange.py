"""One simulated exchange per application: a connection's orders outlive the broker of one cycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tradecore.domain import (
    Account,
    BrokerConnection,
    Instrument,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from tradecore.errors import OrderNotFound
from tradecore.plugins import BrokerContext, PluginRegistry, get_plugin_manager
from tradecore.ports import BrokerPort
from tradecore.testing import FakeClock
from tradecore_adapters.paper import plugin

CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
AAPL = Instrument(symbol="AAPL", asset_type="stock")
ACCOUNT = Account(connection_id="conn-1", account_id="paper")


def registry() -> PluginRegistry:
    return PluginRegistry.from_manager(
        get_plugin_manager(load_entrypoints=False, plugins=[("paper", plugin)])
    )


def connection(**settings: str) -> BrokerConnection:
    return BrokerConnection(
        id="conn-1",
        user_id="u1",
        broker="paper",
        name="demo",
        settings=settings,
        created_at=CREATED,
    )


async def resting_buy(broker: BrokerPort, clock: FakeClock) -> OrderRequest:
    quote = await broker.get_asset_price(AAPL)
    request = OrderRequest(
        connection_id="conn-1",
        account_id="paper",
        client_order_id="tc-resting-1",
        instrument=AAPL,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(1),
        limit_price=(quote.last / 2).quantize(Decimal("0.01")),
    )
    placed = await broker.place_order(request)
    assert placed.status is OrderStatus.OPEN
    return request


async def test_an_order_placed_in_one_cycle_is_found_in_the_next() -> None:
    clock = FakeClock(CREATED)
    factory = registry().broker("paper")
    first = factory.create(connection(), BrokerContext(clock=clock))
    request = await resting_buy(first, clock)
    await first.aclose()

    clock.advance(timedelta(minutes=30))
    second = factory.create(connection(), BrokerContext(clock=clock))
    found = await second.get_order_status(
        ACCOUNT, request.client_order_id, instrument=request.instrument
    )
    assert found.status is OrderStatus.OPEN
    cancelled = await second.cancel_order(
        ACCOUNT, request.client_order_id, instrument=request.instrument
    )
    assert cancelled.status is OrderStatus.CANCELED


async def test_each_application_has_its_own_exchange() -> None:
    clock = FakeClock(CREATED)
    first = registry().broker("paper").create(connection(), BrokerContext(clock=clock))
    request = await resting_buy(first, clock)
    other_app = registry().broker("paper").create(connection(), BrokerContext(clock=clock))
    with pytest.raises(OrderNotFound):
        await other_app.get_order_status(
            ACCOUNT, request.client_order_id, instrument=request.instrument
        )


async def test_changing_the_settings_opens_a_new_venue() -> None:
    clock = FakeClock(CREATED)
    factory = registry().broker("paper")
    first = factory.create(connection(seed="1"), BrokerContext(clock=clock))
    request = await resting_buy(first, clock)
    reseeded = factory.create(connection(seed="2"), BrokerContext(clock=clock))
    with pytest.raises(OrderNotFound):
        await reseeded.get_order_status(
            ACCOUNT, request.client_order_id, instrument=request.instrument
        )
