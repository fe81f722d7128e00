"""Fixtures of the Binance adapter tests: a fake Binance and adapters built on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, API_SECRET, BrokerMaker, binance_connection, market

from tradecore.domain import BrokerConnection
from tradecore.ports import BrokerContext
from tradecore.testing import FakeClock
from tradecore_adapters.binance._limits import BinanceHosts
from tradecore_adapters.binance.broker import BinanceBroker


@pytest.fixture
def clock() -> FakeClock:
    """Simulated time: sleeps (backoff, throttling) take no real time."""
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def fake(clock: FakeClock) -> FakeBinance:
    """A fake Binance with four symbols and one funded HMAC account. Its clock is ``clock``
    (plus ``clock_offset_ms``), so simulated sleeps move both sides' time together."""
    exchange = FakeBinance()
    exchange.server_time_ms = lambda: (  # type: ignore[method-assign]
        int(clock.now().timestamp() * 1000) + exchange.clock_offset_ms
    )
    market(exchange)
    exchange.add_account(
        API_KEY,
        secret=API_SECRET,
        balances={"USDT": ("100000.00000000", "0"), "BTC": ("1.50000000", "0.25000000")},
    )
    return exchange


@pytest.fixture
async def mock_http(fake: FakeBinance) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client whose every request is answered by ``fake`` in-process."""
    async with httpx.AsyncClient(transport=fake.mock_transport()) as client:
        yield client


@pytest.fixture
def make_broker(mock_http: httpx.AsyncClient, clock: FakeClock) -> BrokerMaker:
    """Build adapters on the mocked transport; they share one host registry, like one process."""
    hosts = BinanceHosts()

    def make(connection: BrokerConnection | None = None, **settings: str) -> BinanceBroker:
        connection = connection or binance_connection(**settings)
        context = BrokerContext(clock=clock, http_client=mock_http)
        return BinanceBroker.create(connection, context, hosts=hosts)

    return make
