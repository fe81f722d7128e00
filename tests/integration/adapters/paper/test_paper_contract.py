"""The paper broker passes the BrokerPortContract, and its simulation is deterministic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from tests.fakes.venue_faults import FaultyVenueStore, PaperFaults

from tradecore.domain import Account, BrokerConnection, Instrument, Trade
from tradecore.errors import ConfigurationError
from tradecore.ports import BrokerContext
from tradecore.services.venues import LocalVenueStore
from tradecore.testing import FakeClock
from tradecore.testing.contracts.broker import BrokerPortContract
from tradecore_adapters.paper._client import catalogue, quote_at
from tradecore_adapters.paper.broker import PAGE_SIZE, PaperBroker
from tradecore_adapters.paper.config import PaperConfig

CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SYMBOLS = ("BTC-USD", "ETH-USD", "AAPL", "MSFT", "EURUSD")


def _connection(connection_id: str = "conn-paper", **settings: str) -> BrokerConnection:
    return BrokerConnection(
        id=connection_id,
        user_id="user-1",
        broker="paper",
        name="paper",
        settings=settings,
        created_at=CREATED,
    )


def _broker(clock: FakeClock, connection_id: str = "conn-paper", **settings: str) -> PaperBroker:
    return PaperBroker.create(_connection(connection_id, **settings), BrokerContext(clock=clock))


async def _drain(broker: PaperBroker, cursor: str | None = None) -> tuple[list[Trade], str | None]:
    account = (await broker.get_accounts())[0]
    trades: list[Trade] = []
    while True:
        page = await broker.get_trades(account, cursor=cursor)
        trades.extend(page.trades)
        cursor = page.cursor
        if not page.has_more:
            return trades, cursor


def _facts(trades: list[Trade]) -> list[tuple[object, ...]]:
    # Everything but the connection id, which differs between connections by design.
    return [
        (t.broker_trade_id, t.instrument, t.side, t.quantity, t.price, t.fee, t.executed_at)
        for t in trades
    ]


async def _prices(broker: PaperBroker) -> list[tuple[Decimal, Decimal | None, Decimal | None]]:
    quotes = [await broker.get_asset_price(Instrument(symbol=symbol)) for symbol in SYMBOLS]
    return [(quote.last, quote.bid, quote.ask) for quote in quotes]


def _venue_last(symbol: str, when: datetime) -> Decimal:
    # What the simulated venue itself quotes (its price function), before the adapter maps it.
    config = PaperConfig.from_settings({})
    (item,) = [item for item in catalogue(config.currency) if item.symbol == symbol]
    return quote_at(config.seed, item, when).last


class TestPaperBroker(BrokerPortContract):
    @pytest.fixture
    def venue_faults(self) -> PaperFaults:
        return PaperFaults()

    @pytest.fixture
    async def broker(self, venue_faults: PaperFaults):
        # 30 days of hourly history: more than one page of trades; the venue behind faults.
        store = FaultyVenueStore(LocalVenueStore(), venue_faults)
        context = BrokerContext(clock=FakeClock(CREATED + timedelta(hours=5)), venue=store)
        broker = PaperBroker.create(_connection(history_days="30"), context)
        yield broker
        await broker.aclose()

    @pytest.fixture
    def tradable_instrument(self) -> Instrument:
        return Instrument(symbol="BTC-USD")

    @pytest.fixture
    def order_quantity(self) -> Decimal:
        return Decimal("0.01")

    @pytest.fixture
    def exact_price(self) -> tuple[Instrument, Decimal]:
        # The venue's own price at the clock's minute, on its tick (five places for EURUSD).
        return Instrument(symbol="EURUSD"), _venue_last("EURUSD", CREATED + timedelta(hours=5))


async def test_history_is_longer_than_a_page_so_the_contract_pages() -> None:
    broker = _broker(FakeClock(CREATED), history_days="30")
    account = (await broker.get_accounts())[0]
    assert (await broker.get_trades(account)).has_more
    trades, _ = await _drain(broker)
    assert len(trades) > PAGE_SIZE


async def test_same_seed_and_clock_give_the_same_prices_and_history() -> None:
    clock = FakeClock(CREATED + timedelta(hours=7))
    first = _broker(clock, "conn-a", seed="7", history_days="3")
    second = _broker(clock, "conn-b", seed="7", history_days="3")
    assert await _prices(first) == await _prices(second)
    first_trades, _ = await _drain(first)
    second_trades, _ = await _drain(second)
    assert len(first_trades) > 50
    assert _facts(first_trades) == _facts(second_trades)
    assert [p.quantity for p in await first.get_positions((await first.get_accounts())[0])] == [
        p.quantity for p in await second.get_positions((await second.get_accounts())[0])
    ]


async def test_a_different_seed_gives_different_prices_and_history() -> None:
    clock = FakeClock(CREATED + timedelta(hours=7))
    seven = _broker(clock, seed="7", history_days="3")
    eight = _broker(clock, seed="8", history_days="3")
    assert all(a != b for a, b in zip(await _prices(seven), await _prices(eight), strict=True))
    assert _facts((await _drain(seven))[0]) != _facts((await _drain(eight))[0])


async def test_prices_move_with_the_clock_and_stay_on_the_tick() -> None:
    clock = FakeClock(CREATED)
    broker = _broker(clock)
    seen = set()
    for _ in range(30):
        quote = await broker.get_asset_price(Instrument(symbol="EURUSD"))
        assert quote.last == quote.last.quantize(Decimal("0.00001"))
        assert quote.bid is not None
        assert quote.ask is not None
        assert quote.bid < quote.last < quote.ask
        assert quote.as_of == clock.now()
        seen.add(quote.last)
        clock.advance(timedelta(minutes=1))
    assert len(seen) > 10


async def test_history_grows_with_the_clock_and_the_cursor_returns_only_new_fills() -> None:
    clock = FakeClock(CREATED + timedelta(minutes=30))
    broker = _broker(clock, activity_minutes="60")
    first, cursor = await _drain(broker)
    assert [t.executed_at for t in first] == [
        CREATED - timedelta(days=1) + timedelta(hours=h) for h in range(25)
    ]
    assert (await _drain(broker, cursor))[0] == []

    before = clock.now()
    clock.advance(timedelta(hours=3))
    later, _ = await _drain(broker, cursor)
    assert [t.executed_at for t in later] == [CREATED + timedelta(hours=h) for h in (1, 2, 3)]
    assert all(before < t.executed_at <= clock.now() for t in later)
    assert not {t.key for t in later} & {t.key for t in first}


async def test_a_new_broker_continues_from_a_stored_cursor() -> None:
    # Each automation cycle builds a new broker: the stored cursor must still work.
    clock = FakeClock(CREATED)
    _, cursor = await _drain(_broker(clock))
    clock.advance(timedelta(hours=2))
    later, _ = await _drain(_broker(clock), cursor)
    assert [t.executed_at for t in later] == [CREATED + timedelta(hours=h) for h in (1, 2)]


@pytest.mark.parametrize(
    "settings",
    [
        {"seed": "abc"},
        {"seed": "1.5"},
        {"currency": "usd1"},
        {"currency": ""},
        {"starting_cash": "lots"},
        {"starting_cash": "-5"},
        {"starting_cash": "NaN"},
        {"starting_cash": "1e30"},
        {"history_days": "-1"},
        {"history_days": "400"},
        {"activity_minutes": "0"},
        {"activity_minutes": "4"},
        {"activity_minutes": "ten"},
        {"colour": "blue"},
    ],
)
def test_bad_settings_raise_configuration_error_naming_the_setting(
    settings: dict[str, str],
) -> None:
    name = next(iter(settings))
    with pytest.raises(ConfigurationError, match=name):
        _broker(FakeClock(CREATED), **settings)


def test_settings_are_parsed_with_defaults() -> None:
    broker = _broker(FakeClock(CREATED), currency="eur", starting_cash="2500.5", seed="-3")
    config = broker.config
    assert (config.seed, config.currency, config.starting_cash) == (-3, "EUR", Decimal("2500.50"))
    assert (config.history_days, config.activity_minutes) == (1, 60)


async def test_instruments_are_priced_in_the_account_currency() -> None:
    broker = _broker(FakeClock(CREATED), currency="EUR")
    account = (await broker.get_accounts())[0]
    assert account == Account(
        connection_id="conn-paper", account_id="paper", name="Paper account", currency="EUR"
    )
    symbols = {asset.instrument.symbol for asset in await broker.get_assets()}
    assert symbols == {"BTC-EUR", "ETH-EUR", "AAPL", "MSFT", "USDEUR"}
    assert {asset.currency for asset in await broker.get_assets()} == {"EUR"}
