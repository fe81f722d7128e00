"""The Binance adapter passes the BrokerPortContract against a mocked Binance (the fake
exchange of tests/fakes answering through ``httpx.MockTransport``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, BrokerMaker

from tradecore.domain import Instrument
from tradecore.testing.contracts.broker import BrokerPortContract
from tradecore_adapters.binance.broker import BinanceBroker


class TestBinanceBroker(BrokerPortContract):
    @pytest.fixture
    async def broker(
        self, fake: FakeBinance, make_broker: BrokerMaker
    ) -> AsyncIterator[BinanceBroker]:
        # History on two symbols, more than one page on one of them.
        fake.accounts[API_KEY].add_trades("BTCUSDT", 2300)
        fake.accounts[API_KEY].add_trades("ETHBTC", 40)
        broker = make_broker(symbols="ETHBTC")
        yield broker
        await broker.aclose()

    @pytest.fixture
    def tradable_instrument(self) -> Instrument:
        return Instrument(symbol="BTCUSDT")

    @pytest.fixture
    def order_quantity(self) -> Decimal:
        return Decimal("0.01000")
