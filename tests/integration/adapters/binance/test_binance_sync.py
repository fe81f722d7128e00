"""Trade sync against a fake Binance over loopback HTTP that checks signatures and timestamps
like the real one: every trade stored exactly once, later syncs make only the minimal requests.

Binance facts: myTrades needs a symbol, pages by ``fromId`` (ids >= fromId, ascending, at most 1000
per page), as https://developers.binance.com/docs/binance-spot-api-docs/ documents it and
docs/brokers/binance.md explains.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, API_SECRET, binance_connection, market

from tradecore.domain import BrokerConnection
from tradecore.ports import BrokerContext
from tradecore.services.sync import sync_connection
from tradecore.testing.builders import make_user
from tradecore_adapters.binance._limits import BinanceHosts
from tradecore_adapters.binance.broker import BinanceBroker
from tradecore_adapters.clock import SystemClock
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.migrate import upgrade

HISTORY = {"BTCUSDT": 2300, "ETHUSDT": 1000, "ETHBTC": 5, "BNBUSDT": 0}
"""Three pages, exactly one full page (so a second, empty one), a short page, nothing."""


@pytest.fixture
def exchange() -> FakeBinance:
    fake = FakeBinance()
    market(fake)
    # Binance's clock is 7 s behind this machine's: unsigned by the offset, every request would
    # be "1000ms ahead of the server's time" (-1021).
    fake.clock_offset_ms = -7000
    account = fake.add_account(
        API_KEY,
        secret=API_SECRET,
        balances={
            "BTC": ("0.50000000", "0.10000000"),
            "ETH": ("0", "2.00000000"),  # only locked: still held
            "USDT": ("1000.00000000", "0"),
            "DOGE": ("0", "0"),
        },
    )
    for symbol, count in HISTORY.items():
        if count:
            account.add_trades(symbol, count)
    return fake


@pytest.fixture
async def repository(tmp_path: Path) -> AsyncIterator[SqlRepository]:
    url = f"sqlite:///{tmp_path / 'tradecore.db'}"
    await upgrade(url)
    repo = await SqlRepository.open(url, key_ring=KeyRing.from_keys([KeyRing.generate_key()]))
    yield repo
    await repo.aclose()


async def _store(repository: SqlRepository, connection: BrokerConnection) -> None:
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user(id=connection.user_id))
        await uow.connections.add(connection)
        await uow.commit()


async def _sync(repository: SqlRepository, connection: BrokerConnection) -> tuple[int, int]:
    # A new adapter and a new host registry each time: a new process, nothing cached.
    clock = SystemClock()
    broker = BinanceBroker.create(connection, BrokerContext(clock=clock), hosts=BinanceHosts())
    try:
        result = await sync_connection(
            repository=repository, broker=broker, connection=connection, clock=clock
        )
    finally:
        await broker.aclose()
    return result.trades_seen, result.trades_new


def _requests(fake: FakeBinance, start: int) -> Counter[str]:
    return Counter(f"{r.method} {r.path}" for r in fake.requests[start:])


async def test_first_sync_stores_every_trade_once_and_later_syncs_ask_the_minimum(
    exchange: FakeBinance, repository: SqlRepository
) -> None:
    with exchange.serve() as url:
        connection = binance_connection(base_url=url, symbols="BNBUSDT")
        await _store(repository, connection)

        seen, new = await _sync(repository, connection)
        assert (seen, new) == (3305, 3305)
        assert _requests(exchange, 0) == {
            "GET /api/v3/time": 1,
            "GET /api/v3/account": 1,
            "GET /api/v3/exchangeInfo": 1,  # to match BTC, ETH and USDT with the quote assets
            # BTCUSDT 1000+1000+300, ETHUSDT 1000+0, ETHBTC 5, BNBUSDT (configured) 0
            "GET /api/v3/myTrades": 7,
        }

        async with repository.unit_of_work() as uow:
            stored = await uow.trades.list(connection.user_id)
        by_symbol: dict[str, list[int]] = {}
        for trade in stored:
            by_symbol.setdefault(trade.instrument.symbol, []).append(int(trade.broker_trade_id))
        for symbol, count in HISTORY.items():
            assert sorted(by_symbol.get(symbol, [])) == list(range(1, count + 1)), symbol

        start = len(exchange.requests)
        assert await _sync(repository, connection) == (0, 0)
        assert _requests(exchange, start) == {
            "GET /api/v3/time": 1,
            "GET /api/v3/account": 1,
            "GET /api/v3/myTrades": 4,  # one per symbol, from its stored fromId; no exchangeInfo
        }
        assert {r.param("fromId") for r in exchange.requests[start:] if r.param("fromId")} == {
            "2301",
            "1001",
            "6",
            "0",
        }

        exchange.accounts[API_KEY].add_trades("BTCUSDT", 3)
        start = len(exchange.requests)
        assert await _sync(repository, connection) == (3, 3)
        assert _requests(exchange, start)["GET /api/v3/myTrades"] == 4

        async with repository.unit_of_work() as uow:
            assert await uow.trades.count(connection.user_id) == 3308


async def test_a_newly_held_asset_brings_its_symbols_in(
    exchange: FakeBinance, repository: SqlRepository
) -> None:
    with exchange.serve() as url:
        connection = binance_connection(base_url=url)
        await _store(repository, connection)
        await _sync(repository, connection)

        account = exchange.accounts[API_KEY]
        account.set_balance("BNB", "3.00000000")
        account.add_trades("BNBUSDT", 2)
        start = len(exchange.requests)
        assert await _sync(repository, connection) == (2, 2)
        asked = _requests(exchange, start)
        assert asked["GET /api/v3/exchangeInfo"] == 1, "a new asset is matched once"
        assert asked["GET /api/v3/myTrades"] == 4  # BTCUSDT, ETHUSDT, ETHBTC, BNBUSDT

        account.set_balance("BNB", "0")
        start = len(exchange.requests)
        await _sync(repository, connection)
        assert _requests(exchange, start)["GET /api/v3/myTrades"] == 4, "synced before: kept"
