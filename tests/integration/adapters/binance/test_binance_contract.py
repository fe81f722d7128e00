"""The Binance adapter passes the BrokerPortContract against a mocked Binance (the fake
exchange of tests/fakes answering through ``httpx.MockTransport``), with transport faults
injected between the two."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, BrokerMaker, binance_connection
from tests.fakes.http_faults import FaultyTransport

from tradecore.domain import Instrument
from tradecore.ports import BrokerContext
from tradecore.testing import FakeClock, ScriptedFaults
from tradecore.testing.contracts.broker import BrokerPortContract
from tradecore_adapters.binance._limits import BinanceHosts
from tradecore_adapters.binance.broker import BinanceBroker

EXACT = Decimal("76543210.98765432")
"""Binance's eight decimals, more digits than a float keeps (it reads back 76543210.98765431)."""


def _is_placement(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path in {"/api/v3/order", "/fapi/v1/order"}


class TestBinanceBroker(BrokerPortContract):
    @pytest.fixture
    def venue_faults(self) -> ScriptedFaults:
        return ScriptedFaults()

    @pytest.fixture
    async def mock_http(
        self, fake: FakeBinance, venue_faults: ScriptedFaults
    ) -> AsyncIterator[httpx.AsyncClient]:
        # Overrides conftest's: the same fake, behind the fault switches.
        transport = FaultyTransport(fake.mock_transport(), venue_faults, is_placement=_is_placement)
        async with httpx.AsyncClient(transport=transport) as client:
            yield client

    @pytest.fixture
    def caller_http_client(self, mock_http: httpx.AsyncClient) -> httpx.AsyncClient:
        return mock_http

    @pytest.fixture
    async def broker(
        self, fake: FakeBinance, make_broker: BrokerMaker
    ) -> AsyncIterator[BinanceBroker]:
        # History on two symbols, more than one page on one of them.
        fake.accounts[API_KEY].add_trades("BTCUSDT", 2300)
        fake.accounts[API_KEY].add_trades("ETHBTC", 40)
        fake.add_symbol("XYZUSDT", "XYZ", "USDT", price=str(EXACT), tick_size="0.00000001")
        broker = make_broker(symbols="ETHBTC")
        yield broker
        await broker.aclose()

    @pytest.fixture
    def tradable_instrument(self) -> Instrument:
        return Instrument(symbol="BTCUSDT")

    @pytest.fixture
    def order_quantity(self) -> Decimal:
        return Decimal("0.01000")

    @pytest.fixture
    def exact_price(self) -> tuple[Instrument, Decimal]:
        return Instrument(symbol="XYZUSDT"), EXACT


async def test_aclose_closes_the_client_the_adapter_made_and_twice_is_harmless(
    clock: FakeClock,
) -> None:
    # The contract checks a caller's client stays open; the adapter's own must be closed.
    context = BrokerContext(clock=clock)
    broker = BinanceBroker.create(binance_connection(), context, hosts=BinanceHosts())
    own = broker._client._http  # no request is made: nothing reaches the real Binance
    assert not own.is_closed
    await broker.aclose()
    await broker.aclose()
    assert own.is_closed
