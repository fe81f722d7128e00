"""USD-M futures through the Binance adapter (market=both): positions from positionRisk and trades
from userTrades, symbols from open positions, the setting and earlier syncs (the samples of
Binance's USD-M futures documentation,
https://developers.binance.com/docs/derivatives/usds-margined-futures/)."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, BrokerMaker

from tradecore.domain import Account, AssetType, Trade
from tradecore_adapters.binance.broker import BinanceBroker

FUTURES = Account(connection_id="conn-binance", account_id="usdm-futures")


async def _drain(broker: BinanceBroker, cursor: str | None) -> tuple[list[Trade], str | None]:
    trades: list[Trade] = []
    page = await broker.get_trades(FUTURES, cursor=cursor)
    trades.extend(page.trades)
    while page.has_more:
        page = await broker.get_trades(FUTURES, cursor=page.cursor)
        trades.extend(page.trades)
    return trades, page.cursor


async def test_positions_are_signed_and_hedge_mode_sides_are_separate(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    account = fake.accounts[API_KEY]
    account.add_futures_position("BTCUSDT", "-0.002", "43000.5")
    account.add_futures_position("ETHUSDT", "1.5", "3000", position_side="LONG")
    account.add_futures_position("ETHUSDT", "-0.5", "3100", position_side="SHORT")
    account.add_futures_position("BNBUSDT", "0", "0")
    broker = make_broker(market="both")
    assert [a.account_id for a in await broker.get_accounts()] == ["spot", "usdm-futures"]
    positions = {p.instrument.symbol: p for p in await broker.get_positions(FUTURES)}
    assert set(positions) == {"BTCUSDT", "ETHUSDT:LONG", "ETHUSDT:SHORT"}
    assert positions["BTCUSDT"].quantity == Decimal("-0.002")
    assert positions["BTCUSDT"].average_price == Decimal("43000.5")
    assert positions["BTCUSDT"].instrument.asset_type is AssetType.FUTURE
    assert positions["ETHUSDT:SHORT"].quantity == Decimal("-0.5")


async def test_trades_of_position_configured_and_earlier_symbols_each_once(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    account = fake.accounts[API_KEY]
    account.add_futures_position("BTCUSDT", "0.010", "43000")
    account.add_futures_trades("BTCUSDT", 1200, commission="-0.00100000")
    account.add_futures_trades("ETHUSDT", 4)
    broker = make_broker(market="futures", futures_symbols="ETHUSDT")
    await broker.get_positions(FUTURES)
    trades, cursor = await _drain(broker, None)
    assert Counter(t.instrument.symbol for t in trades) == {"BTCUSDT": 1200, "ETHUSDT": 4}
    assert len({t.key for t in trades}) == 1204
    assert {t.fee for t in trades if t.instrument.symbol == "BTCUSDT"} == {Decimal("-0.00100000")}
    assert fake.count("GET", "/fapi/v1/userTrades") == 3  # BTCUSDT 1000 + 200, ETHUSDT 4

    # The position is closed: the symbol is still synced because it was synced before.
    account.add_futures_position("BTCUSDT", "0", "0")
    account.add_futures_trades("BTCUSDT", 2)
    later = make_broker(market="futures")
    await later.get_positions(FUTURES)
    before = fake.count("GET", "/fapi/v1/userTrades")
    new, _ = await _drain(later, cursor)
    assert [(t.instrument.symbol, t.broker_trade_id) for t in new] == [
        ("BTCUSDT", "1201"),
        ("BTCUSDT", "1202"),
    ]
    assert fake.count("GET", "/fapi/v1/userTrades") - before == 2, "one request per symbol"
    assert fake.count("GET", "/api/v3/myTrades") == 0, "market=futures asks no spot trades"


async def test_a_symbol_with_a_poisoned_trade_id_is_refused_alone_and_its_cursor_kept(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    # ETHUSDT's page holds an id past 2^63-2: that symbol is refused (named in the page, none
    # of its fills, its next id kept, not asked again this round); BTCUSDT pages on.
    account = fake.accounts[API_KEY]
    account.add_futures_trades("BTCUSDT", 1200)
    account.add_futures_trades("ETHUSDT", 1)
    account.add_futures_trades("ETHUSDT", 1, first_id=2**63)
    broker = make_broker(market="futures", futures_symbols="BTCUSDT,ETHUSDT")
    first = await broker.get_trades(FUTURES)
    (refused,) = first.refused
    assert "userTrades ETHUSDT: row 1: 'id' is 9223372036854775808" in refused
    assert "Binance sent an invalid value, so none of ETHUSDT's new trades were stored" in refused
    assert {t.instrument.symbol for t in first.trades} == {"BTCUSDT"}
    assert first.has_more, "BTCUSDT's page was full"
    second = await broker.get_trades(FUTURES, cursor=first.cursor)
    assert second.refused == ()
    assert len(first.trades) + len(second.trades) == 1200
    assert not second.has_more
    assert fake.count("GET", "/fapi/v1/userTrades") == 3, "ETHUSDT asked once this round"
    cursor = json.loads(second.cursor or "")
    assert cursor["next"] == {"BTCUSDT": 1201, "ETHUSDT": 0}, "ETHUSDT's next id kept"

    # The next round asks ETHUSDT from the same id again, and refuses it again.
    third = await broker.get_trades(FUTURES, cursor=second.cursor)
    assert len(third.refused) == 1
    assert third.trades == ()
    assert json.loads(third.cursor or "")["next"]["ETHUSDT"] == 0
