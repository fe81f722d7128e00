"""The Binance adapter on Binance's own documented exchanges, replayed with tradecore's
:func:`~tradecore.testing.replay_recorded_responses` (the helper plugin authors use, proved here
on our own adapter).

The recording, ``responses/spot_documented.json``, holds the response samples of Binance's spot
REST API documentation (https://developers.binance.com/docs/binance-spot-api-docs/, the pages
are named in the file); every exchange in it must be used, and any request the adapter makes
that the recording does not hold fails the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from tests.fakes.binance_setup import binance_connection

from tradecore.domain import (
    Account,
    Instrument,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from tradecore.errors import InstrumentNotFound, OrderNotFound
from tradecore.ports import BrokerContext, BrokerPort
from tradecore.testing import (
    FakeClock,
    RecordedResponses,
    UnexpectedRequest,
    replay_recorded_responses,
)
from tradecore_adapters.binance.plugin import tradecore_register_brokers

RECORDING = Path(__file__).parent / "responses" / "spot_documented.json"
SERVER_TIME = datetime.fromtimestamp(1499827319.559, UTC)  # the documented serverTime
SPOT = Account(connection_id="conn-binance", account_id="spot")
LTCBTC = Instrument(symbol="LTCBTC")


@pytest.fixture
def replay() -> RecordedResponses:
    return replay_recorded_responses(RECORDING)


@pytest.fixture
async def broker(replay: RecordedResponses) -> AsyncIterator[BrokerPort]:
    async with httpx.AsyncClient(transport=replay.transport()) as http:
        context = BrokerContext(clock=FakeClock(SERVER_TIME), http_client=http)
        (factory,) = tradecore_register_brokers()
        made = factory.create(binance_connection(), context)
        yield made
        await made.aclose()


async def test_the_documented_exchanges_map_to_exact_domain_values(
    broker: BrokerPort, replay: RecordedResponses
) -> None:
    quote = await broker.get_asset_price(LTCBTC)
    with pytest.raises(InstrumentNotFound):
        await broker.get_asset_price(Instrument(symbol="NOSUCHPAIR"))
    positions = await broker.get_positions(SPOT)
    order = await broker.place_order(
        OrderRequest(
            connection_id="conn-binance",
            account_id="spot",
            client_order_id="6gCrw2kRUAF9CvJDGP16IP",
            instrument=Instrument(symbol="BTCUSDT"),
            side=Side.SELL,
            order_type=OrderType.MARKET,
            quantity=Decimal("10"),
        )
    )
    looked_up = await broker.get_order_status(SPOT, "myOrder1", instrument=LTCBTC)
    with pytest.raises(OrderNotFound):
        await broker.get_order_status(SPOT, "neverPlaced", instrument=LTCBTC)

    assert str(quote.last) == "4.00000200"
    assert {p.instrument.symbol: str(p.quantity) for p in positions} == {
        "BTC": "4723846.89208129",
        "LTC": "4763368.68006011",
    }
    assert (order.status, order.broker_order_id) == (OrderStatus.FILLED, "28")
    assert str(order.filled_quantity) == "10.00000000"
    assert (looked_up.status, looked_up.broker_order_id) == (OrderStatus.OPEN, "1")
    assert str(looked_up.request.limit_price) == "0.1"
    figures = broker.api_figures()
    assert figures["clock_offset_ms"] == "0"
    assert figures["used_weight"].startswith("34")
    replay.assert_all_used()


async def test_a_request_the_recording_does_not_hold_fails_loudly(
    broker: BrokerPort, replay: RecordedResponses
) -> None:
    """A replayed adapter asking for anything else is a test failure, whatever the adapter
    does with the error: it is raised to the adapter and kept for ``assert_all_used``."""
    with pytest.raises(UnexpectedRequest) as raised:
        await broker.get_asset_price(Instrument(symbol="ETHBTC"))

    assert "GET api.binance.com/api/v3/ticker/price?symbol=ETHBTC" in str(raised.value)
    assert replay.unexpected == ["GET api.binance.com/api/v3/ticker/price?symbol=ETHBTC"]
    with pytest.raises(AssertionError, match=r"unexpected requests: GET api\.binance\.com"):
        replay.assert_all_used()
