"""Shared setup of the Binance adapter tests: the test key, the market, a connection."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tests.fakes.binance_exchange import FakeBinance

from tradecore.domain import BrokerConnection, Secret
from tradecore_adapters.binance.broker import BinanceBroker

API_KEY = "test-api-key-4f1c2d"
API_SECRET = "test-api-secret-9a8b7c6d5e4f"
CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SPOT_URL = "https://api.binance.com"
"""Production's URL: every test here goes through a mock transport or a loopback override,
so a request escaping to the real Binance would fail loudly instead of reaching it."""

BrokerMaker = Callable[..., BinanceBroker]


def binance_connection(
    connection_id: str = "conn-binance",
    *,
    api_key: str = API_KEY,
    api_secret: str = API_SECRET,
    **settings: str,
) -> BrokerConnection:
    """A ``binance`` connection with an HMAC key."""
    return BrokerConnection(
        id=connection_id,
        user_id="user-1",
        broker="binance",
        name=connection_id,
        settings=settings,
        secrets={"api_key": Secret(api_key), "api_secret": Secret(api_secret)},
        created_at=CREATED,
    )


def market(fake: FakeBinance) -> None:
    """The symbols every test's market lists."""
    fake.add_symbol("BTCUSDT", "BTC", "USDT", price="50000.00")
    fake.add_symbol("ETHUSDT", "ETH", "USDT", price="3000.00")
    fake.add_symbol("ETHBTC", "ETH", "BTC", price="0.06000", tick_size="0.00001000")
    fake.add_symbol("BNBUSDT", "BNB", "USDT", price="600.00")
