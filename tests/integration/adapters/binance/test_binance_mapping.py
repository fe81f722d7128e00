"""Binance payloads become exact domain values, and bad payloads become MalformedResponse.

The payloads are the samples of Binance's REST API documentation,
https://developers.binance.com/docs/binance-spot-api-docs/ (USD-M futures:
https://developers.binance.com/docs/derivatives/usds-margined-futures/), kept as JSON text and
parsed with :func:`json.loads`, the way the client will see them. Where a test needs a variant,
the docstring says which sample it starts from and what changed.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradecore.domain import (
    Account,
    AssetType,
    Instrument,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from tradecore.errors import MalformedResponse, OrderRejected
from tradecore_adapters.binance._mapping import (
    BROKER,
    FUTURES_ACCOUNT_ID,
    SPOT_ACCOUNT_ID,
    SymbolRules,
    assets,
    decimal_field,
    error_body,
    exchange_symbols,
    futures_positions,
    futures_trades,
    max_trade_id,
    order_fills,
    order_from_payload,
    order_params,
    order_status,
    quote,
    request_weight_limit,
    server_time_ms,
    spot_balances,
    spot_positions,
    spot_trades,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SPOT = Account(connection_id="conn-1", account_id=SPOT_ACCOUNT_ID, name="Spot")
FUTURES = Account(connection_id="conn-1", account_id=FUTURES_ACCOUNT_ID, name="USD-M futures")
BNBBTC = Instrument(symbol="BNBBTC", asset_type=AssetType.SPOT, base="BNB", quote="BTC")
BTCUSDT = Instrument(symbol="BTCUSDT", asset_type=AssetType.SPOT, base="BTC", quote="USDT")
BTCUSDT_PERP = Instrument(symbol="BTCUSDT", asset_type=AssetType.FUTURE)


def utc_ms(ms: int) -> datetime:
    """The expected datetime, spelled out independently of the module under test."""
    return datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=ms % 1000 * 1000)


# --- the documented samples, verbatim -------------------------------------------------------------

ACCOUNT_JSON = """
{"makerCommission":15,"takerCommission":15,"buyerCommission":0,"sellerCommission":0,
 "commissionRates":{"maker":"0.00150000","taker":"0.00150000","buyer":"0.00000000","seller":"0.00000000"},
 "canTrade":true,"canWithdraw":true,"canDeposit":true,"brokered":false,"requireSelfTradePrevention":false,
 "preventSor":false,"updateTime":123456789,"accountType":"SPOT",
 "balances":[{"asset":"BTC","free":"4723846.89208129","locked":"0.00000000"},
             {"asset":"LTC","free":"4763368.68006011","locked":"0.00000000"}],
 "permissions":["SPOT"],"uid":354937868}
"""

MY_TRADES_JSON = """
[{"symbol":"BNBBTC","id":28457,"orderId":100234,"orderListId":-1,"price":"4.00000100","qty":"12.00000000",
  "quoteQty":"48.000012","commission":"10.10000000","commissionAsset":"BNB","time":1499865549590,
  "isBuyer":true,"isMaker":false,"isBestMatch":true}]
"""

ACK_JSON = """{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"6gCrw2kRUAF9CvJDGP16IP","transactTime":1507725176595}"""

RESULT_EXTRA_JSON = """
  {"price":"0.00000000","origQty":"10.00000000","executedQty":"10.00000000","origQuoteOrderQty":"0.000000",
   "cummulativeQuoteQty":"10.00000000","status":"FILLED","timeInForce":"GTC","type":"MARKET","side":"SELL",
   "workingTime":1507725176595,"selfTradePreventionMode":"NONE"}
"""

# The five fills (tradeId 56-60) of the FULL response sample of POST /api/v3/order in Binance's
# spot REST API documentation, https://developers.binance.com/docs/binance-spot-api-docs/.
FILLS_JSON = """
[{"price":"4000.00000000","qty":"1.00000000","commission":"4.00000000","commissionAsset":"USDT","tradeId":56},
 {"price":"3999.00000000","qty":"5.00000000","commission":"19.99500000","commissionAsset":"USDT","tradeId":57},
 {"price":"3998.00000000","qty":"2.00000000","commission":"7.99600000","commissionAsset":"USDT","tradeId":58},
 {"price":"3997.00000000","qty":"1.00000000","commission":"3.99700000","commissionAsset":"USDT","tradeId":59},
 {"price":"3995.00000000","qty":"1.00000000","commission":"3.99500000","commissionAsset":"USDT","tradeId":60}]
"""

DELETE_JSON = """
{"symbol":"LTCBTC","origClientOrderId":"myOrder1","orderId":4,"orderListId":-1,"clientOrderId":"cancelMyOrder1",
 "transactTime":1684804350068,"price":"2.00000000","origQty":"1.00000000","executedQty":"0.00000000",
 "origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"0.00000000","status":"CANCELED","timeInForce":"GTC",
 "type":"LIMIT","side":"BUY","selfTradePreventionMode":"NONE"}
"""

OPEN_ORDERS_JSON = """
[{"symbol":"LTCBTC","orderId":1,"orderListId":-1,"clientOrderId":"myOrder1","price":"0.1","origQty":"1.0",
  "executedQty":"0.0","cummulativeQuoteQty":"0.0","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"BUY",
  "stopPrice":"0.0","icebergQty":"0.0","time":1499827319559,"updateTime":1499827319559,"isWorking":true,
  "origQuoteOrderQty":"0.000000","workingTime":1499827319559,"selfTradePreventionMode":"NONE"}]
"""

# The published v2 sample has a stray ",," after "notional": "0" and is not valid JSON as
# published; this is the sample with the extra comma removed. Published at
# https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Position-Information-V2
POSITION_RISK_V2_JSON = """
[{"entryPrice":"0.00000","breakEvenPrice":"0.0","marginType":"isolated","isAutoAddMargin":"false",
  "isolatedMargin":"0.00000000","leverage":"10","liquidationPrice":"0","markPrice":"6679.50671178",
  "maxNotionalValue":"20000000","positionAmt":"0.000","notional":"0","isolatedWallet":"0","symbol":"BTCUSDT",
  "unRealizedProfit":"0.00000000","positionSide":"BOTH","updateTime":0}]
"""

POSITION_RISK_V3_JSON = """
[{"symbol":"ADAUSDT","positionSide":"BOTH","positionAmt":"30","entryPrice":"0.385","breakEvenPrice":"0.385077",
  "markPrice":"0.41047590","unRealizedProfit":"0.76427700","liquidationPrice":"0","isolatedMargin":"0",
  "notional":"12.31427700","marginAsset":"USDT","isolatedWallet":"0","initialMargin":"0.61571385",
  "maintMargin":"0.08004280","positionInitialMargin":"0.61571385","openOrderInitialMargin":"0","adl":2,
  "bidNotional":"0","askNotional":"0","updateTime":1720736417660}]
"""

USER_TRADES_JSON = """
[{"buyer":false,"commission":"-0.07819010","commissionAsset":"USDT","id":698759,"maker":false,"orderId":25851813,
  "price":"7819.01","qty":"0.002","quoteQty":"15.63802","realizedPnl":"-0.91539999","side":"SELL",
  "positionSide":"SHORT","symbol":"BTCUSDT","time":1569514978020}]
"""


def load(text: str) -> Any:
    return json.loads(text)


def result_payload() -> dict[str, Any]:
    """The documented RESULT response: the ACK fields plus the listed ones."""
    return {**load(ACK_JSON), **load(RESULT_EXTRA_JSON)}


def full_payload() -> dict[str, Any]:
    """The documented FULL response: the RESULT fields plus ``fills`` (the doc's 5 fills, 56-60)."""
    return {**result_payload(), "fills": load(FILLS_JSON)}


def market_sell(client_order_id: str = "6gCrw2kRUAF9CvJDGP16IP") -> OrderRequest:
    """The request the POST /api/v3/order sample answers: MARKET SELL 10 BTCUSDT."""
    return OrderRequest(
        connection_id="conn-1",
        account_id=SPOT_ACCOUNT_ID,
        client_order_id=client_order_id,
        instrument=BTCUSDT,
        side=Side.SELL,
        order_type=OrderType.MARKET,
        quantity=Decimal("10"),
    )


def test_server_time_is_the_documented_integer() -> None:
    """The documented ``GET /api/v3/time`` sample, ``{"serverTime": 1499827319559}``."""
    assert server_time_ms(load('{"serverTime": 1499827319559}')) == 1499827319559


@pytest.mark.parametrize(
    "body", ["{}", '{"serverTime": 1.5e12}', '{"serverTime": "1499827319559"}', "[]", "null"]
)
def test_server_time_in_another_shape_is_malformed(body: str) -> None:
    with pytest.raises(MalformedResponse, match="GET /api/v3/time") as caught:
        server_time_ms(load(body), "GET /api/v3/time")
    assert caught.value.broker == BROKER


# Built from Binance's spot documentation,
# https://developers.binance.com/docs/binance-spot-api-docs/: the rate limit is its
# REQUEST_WEIGHT enum sample, the filters its PRICE_FILTER / LOT_SIZE examples.
EXCHANGE_INFO_JSON = """
{"timezone":"UTC","serverTime":1565246363776,
 "rateLimits":[{"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":61000},
               {"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},
               {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50}],
 "exchangeFilters":[],
 "symbols":[
  {"symbol":"ETHBTC","status":"TRADING","baseAsset":"ETH","baseAssetPrecision":8,"quoteAsset":"BTC",
   "quotePrecision":8,"orderTypes":["LIMIT","MARKET"],"isSpotTradingAllowed":true,
   "filters":[{"filterType":"PRICE_FILTER","minPrice":"0.00000100","maxPrice":"100000.00000000","tickSize":"0.00000100"},
              {"filterType":"LOT_SIZE","minQty":"0.00100000","maxQty":"100000.00000000","stepSize":"0.00100000"},
              {"filterType":"NOTIONAL","minNotional":"0.00100000","applyMinToMarket":true}]},
  {"symbol":"LUNABTC","status":"BREAK","baseAsset":"LUNA","quoteAsset":"BTC",
   "filters":[{"filterType":"PRICE_FILTER","minPrice":"0","maxPrice":"0","tickSize":"0.00000000"}]}]}
"""


def test_exchange_info_gives_rules_with_exact_steps_and_zero_as_none() -> None:
    rules = exchange_symbols(load(EXCHANGE_INFO_JSON))
    eth = rules["ETHBTC"]
    assert (eth.base, eth.quote, eth.status, eth.tradable) == ("ETH", "BTC", "TRADING", True)
    assert str(eth.tick_size) == "0.00000100"
    assert str(eth.step_size) == "0.00100000"
    assert str(eth.min_qty) == "0.00100000"
    luna = rules["LUNABTC"]
    assert luna == SymbolRules(
        symbol="LUNABTC",
        base="LUNA",
        quote="BTC",
        status="BREAK",
        tick_size=None,
        step_size=None,
        min_qty=None,
    )
    assert not luna.tradable
    assert eth.instrument() == Instrument(symbol="ETHBTC", base="ETH", quote="BTC")
    assert eth.instrument(AssetType.FUTURE).asset_type is AssetType.FUTURE


def test_request_weight_limit_is_the_one_minute_entry() -> None:
    """Binance's documented REQUEST_WEIGHT sample: ``{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}``."""
    assert request_weight_limit(load(EXCHANGE_INFO_JSON)) == 6000
    assert request_weight_limit({"symbols": []}) is None
    assert request_weight_limit({"rateLimits": [{"rateLimitType": "ORDERS"}]}) is None
    with pytest.raises(MalformedResponse, match="rateLimits"):
        request_weight_limit({"rateLimits": {"REQUEST_WEIGHT": 6000}})


def test_assets_carry_the_rules() -> None:
    eth, luna = assets(exchange_symbols(load(EXCHANGE_INFO_JSON)).values())
    assert eth.instrument == Instrument(symbol="ETHBTC", base="ETH", quote="BTC")
    assert eth.currency == "BTC"
    assert eth.tradable is True
    assert (str(eth.min_quantity), str(eth.quantity_step), str(eth.price_step)) == (
        "0.00100000",
        "0.00100000",
        "0.00000100",
    )
    assert luna.tradable is False
    assert luna.price_step is None


@pytest.mark.parametrize(
    "change",
    [
        {"symbols": {"ETHBTC": {}}},
        {"symbols": [["ETHBTC"]]},
        {"symbols": [{"symbol": "ETHBTC", "status": "TRADING", "quoteAsset": "BTC"}]},
        {
            "symbols": [
                {
                    "symbol": "ETHBTC",
                    "status": "TRADING",
                    "baseAsset": "ETH",
                    "quoteAsset": "BTC",
                    "filters": [{"filterType": "LOT_SIZE", "stepSize": 0.001, "minQty": "0"}],
                }
            ]
        },
    ],
    ids=["symbols-object", "symbol-list", "no-baseAsset", "float-stepSize"],
)
def test_exchange_info_in_another_shape_is_malformed(change: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponse, match="exchangeInfo"):
        exchange_symbols({**load(EXCHANGE_INFO_JSON), **change})


def test_ticker_price_is_the_quote() -> None:
    """The documented ``GET /api/v3/ticker/price?symbol=LTCBTC`` sample, ``{"symbol":"LTCBTC","price":"4.00000200"}``."""
    ltcbtc = Instrument(symbol="LTCBTC", base="LTC", quote="BTC")
    got = quote(load('{"symbol":"LTCBTC","price":"4.00000200"}'), instrument=ltcbtc, as_of=NOW)
    assert str(got.last) == "4.00000200"
    assert (got.instrument, got.currency, got.as_of) == (ltcbtc, "BTC", NOW)
    with pytest.raises(MalformedResponse, match="symbol"):
        quote(load('{"symbol":"ETHBTC","price":"1"}'), instrument=ltcbtc, as_of=NOW)


# --- balances and positions ----------------------------------------------------------------------


def test_account_balances_are_free_plus_locked_exactly() -> None:
    """The documented ``GET /api/v3/account`` sample."""
    balances = spot_balances(load(ACCOUNT_JSON))
    assert balances == {"BTC": Decimal("4723846.89208129"), "LTC": Decimal("4763368.68006011")}
    assert str(balances["BTC"]) == "4723846.89208129"


def test_zero_balances_are_left_out_and_locked_counts() -> None:
    """The account sample with a zero balance (default omitZeroBalances=false) and a locked part."""
    payload = load(ACCOUNT_JSON)
    payload["balances"] += [
        {"asset": "ETH", "free": "0.00000000", "locked": "0.00000000"},
        {"asset": "BNB", "free": "1.50000000", "locked": "0.25000000"},
    ]
    balances = spot_balances(payload)
    assert "ETH" not in balances
    assert str(balances["BNB"]) == "1.75000000"


def test_spot_positions_are_one_per_non_zero_balance() -> None:
    """The documented ``GET /api/v3/account`` sample."""
    positions = spot_positions(load(ACCOUNT_JSON), account=SPOT, as_of=NOW)
    assert [p.instrument for p in positions] == [
        Instrument(symbol="BTC", asset_type=AssetType.SPOT, base="BTC"),
        Instrument(symbol="LTC", asset_type=AssetType.SPOT, base="LTC"),
    ]
    btc = positions[0]
    assert str(btc.quantity) == "4723846.89208129"
    assert (btc.connection_id, btc.account_id, btc.as_of) == ("conn-1", "spot", NOW)
    assert (btc.currency, btc.average_price, btc.market_value) == (None, None, None)


@pytest.mark.parametrize(
    "balance",
    [
        {"asset": "BTC", "free": "-1.00000000", "locked": "0.00000000"},
        {"asset": "BTC", "free": 4723846.89208129, "locked": "0.00000000"},
        {"asset": "BTC", "free": "4723846.89208129"},
        ["BTC", "1", "0"],
    ],
    ids=["negative", "float", "no-locked", "list"],
)
def test_a_bad_balance_is_malformed(balance: Any) -> None:
    payload = load(ACCOUNT_JSON)
    payload["balances"][0] = balance
    with pytest.raises(MalformedResponse, match="/api/v3/account") as caught:
        spot_balances(payload)
    assert "4763368" not in str(caught.value)  # the other balance: no whole payload in messages


def test_position_risk_v3_sample() -> None:
    """The documented ``GET /fapi/v3/positionRisk`` sample (one-way mode).

    https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Position-Information-V3
    """
    (position,) = futures_positions(load(POSITION_RISK_V3_JSON), account=FUTURES, as_of=NOW)
    assert position.instrument == Instrument(symbol="ADAUSDT", asset_type=AssetType.FUTURE)
    assert str(position.quantity) == "30"
    assert str(position.average_price) == "0.385"
    assert str(position.market_value) == "12.31427700"
    assert str(position.unrealized_pnl) == "0.76427700"
    assert position.currency == "USDT"
    assert (position.account_id, position.as_of) == ("usdm-futures", NOW)


def test_position_risk_v2_sample_has_no_open_position() -> None:
    """The documented ``GET /fapi/v2/positionRisk`` sample, with the published stray ",," removed."""
    assert futures_positions(load(POSITION_RISK_V2_JSON), account=FUTURES, as_of=NOW) == []


def test_position_risk_v2_row_without_margin_asset() -> None:
    """The v2 sample with ``positionAmt`` "-0.010" and ``entryPrice`` "6700.5": v2 has no marginAsset."""
    rows = load(POSITION_RISK_V2_JSON)
    rows[0].update(positionAmt="-0.010", entryPrice="6700.5", notional="-66.79506711")
    (position,) = futures_positions(rows, account=FUTURES, as_of=NOW)
    assert str(position.quantity) == "-0.010"
    assert str(position.average_price) == "6700.5"
    assert str(position.market_value) == "-66.79506711"
    assert position.currency is None
    assert position.instrument.symbol == "BTCUSDT"


def test_hedge_mode_rows_are_named_by_side() -> None:
    """The v3 sample in hedge mode (one LONG and one SHORT row per symbol)."""
    base = load(POSITION_RISK_V3_JSON)[0]
    long_row = {**base, "positionSide": "LONG"}
    short_row = {**base, "positionSide": "SHORT", "positionAmt": "-12", "notional": "-4.92571080"}
    empty_long = {**base, "symbol": "BTCUSDT", "positionSide": "LONG", "positionAmt": "0.000"}
    positions = futures_positions([long_row, short_row, empty_long], account=FUTURES, as_of=NOW)
    assert [(p.instrument.symbol, str(p.quantity)) for p in positions] == [
        ("ADAUSDT:LONG", "30"),
        ("ADAUSDT:SHORT", "-12"),
    ]
    assert {p.instrument.asset_type for p in positions} == {AssetType.FUTURE}


def test_zero_entry_price_is_no_average() -> None:
    rows = load(POSITION_RISK_V3_JSON)
    rows[0]["entryPrice"] = "0.0"
    (position,) = futures_positions(rows, account=FUTURES, as_of=NOW)
    assert position.average_price is None


@pytest.mark.parametrize(
    "change",
    [{"positionSide": "BOTHWAYS"}, {"positionAmt": 30.0}, {"entryPrice": "-1"}, {"notional": None}],
    ids=["side", "float-amount", "negative-entry", "null-notional"],
)
def test_a_bad_position_row_is_malformed(change: dict[str, Any]) -> None:
    rows = load(POSITION_RISK_V3_JSON)
    rows[0].update(change)
    with pytest.raises(MalformedResponse, match="positionRisk"):
        futures_positions(rows, account=FUTURES, as_of=NOW)


# --- trades --------------------------------------------------------------------------------------


def test_my_trades_sample() -> None:
    """The documented ``GET /api/v3/myTrades`` sample."""
    (trade,) = spot_trades(load(MY_TRADES_JSON), account=SPOT, instrument=BNBBTC)
    assert trade.instrument is BNBBTC
    assert (trade.connection_id, trade.account_id) == ("conn-1", "spot")
    assert (trade.broker_trade_id, trade.broker_order_id, trade.client_order_id) == (
        "28457",
        "100234",
        None,
    )
    assert trade.side is Side.BUY
    assert str(trade.price) == "4.00000100"
    assert str(trade.quantity) == "12.00000000"
    assert str(trade.fee) == "10.10000000"
    assert trade.fee_asset == "BNB"
    assert trade.executed_at == utc_ms(1499865549590)
    assert trade.executed_at == datetime(2017, 7, 12, 13, 19, 9, 590000, tzinfo=UTC)


def test_my_trades_seller_and_one_instrument_for_all_rows() -> None:
    """The myTrades sample repeated with ``isBuyer`` false and later ids."""
    first = load(MY_TRADES_JSON)[0]
    rows = [first, {**first, "id": 28458, "isBuyer": False}, {**first, "id": 28459}]
    trades = spot_trades(rows, account=SPOT, instrument=BNBBTC)
    assert [t.side for t in trades] == [Side.BUY, Side.SELL, Side.BUY]
    assert all(t.instrument is BNBBTC for t in trades)
    assert max_trade_id(trades) == 28459


def test_my_trades_row_of_another_symbol_is_malformed() -> None:
    with pytest.raises(MalformedResponse, match="symbol"):
        spot_trades(load(MY_TRADES_JSON), account=SPOT, instrument=BTCUSDT)


def test_max_trade_id_compares_numbers_not_text() -> None:
    first = load(MY_TRADES_JSON)[0]
    rows = [{**first, "id": 9}, {**first, "id": 100}, {**first, "id": 10}]
    assert max_trade_id(spot_trades(rows, account=SPOT, instrument=BNBBTC)) == 100
    assert max_trade_id([]) is None


def test_user_trades_sample() -> None:
    """The documented futures ``GET /fapi/v1/userTrades`` sample: side from "side", and a
    negative commission (a rebate) kept exactly.

    https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Account-Trade-List
    """
    rows = load(USER_TRADES_JSON)
    (trade,) = futures_trades(rows, account=FUTURES, instrument=BTCUSDT_PERP)
    assert trade.instrument is BTCUSDT_PERP
    assert trade.side is Side.SELL
    assert (trade.broker_trade_id, trade.broker_order_id) == ("698759", "25851813")
    assert str(trade.price) == "7819.01"
    assert str(trade.quantity) == "0.002"
    assert str(trade.fee) == "-0.07819010"
    assert trade.fee_asset == "USDT"
    assert trade.executed_at == utc_ms(1569514978020)
    assert trade.account_id == "usdm-futures"


def test_user_trades_unknown_side_is_malformed() -> None:
    rows = load(USER_TRADES_JSON)
    rows[0]["side"] = "SHORT"
    with pytest.raises(MalformedResponse, match="'side'"):
        futures_trades(rows, account=FUTURES, instrument=BTCUSDT_PERP)


@given(
    quantity=st.decimals(
        min_value=Decimal("0.00000001"),
        max_value=Decimal("100000000"),
        places=8,
        allow_nan=False,
        allow_infinity=False,
    ),
    price=st.decimals(
        min_value=Decimal(0),
        max_value=Decimal("100000000"),
        places=8,
        allow_nan=False,
        allow_infinity=False,
    ),
)
def test_any_decimal_string_is_kept_exactly(quantity: Decimal, price: Decimal) -> None:
    """The myTrades sample row with random decimal strings (formatted like Binance's, never 1E-8)."""
    qty_text, price_text = format(quantity, "f"), format(price, "f")
    row = {**load(MY_TRADES_JSON)[0], "qty": qty_text, "price": price_text}
    (trade,) = spot_trades([row], account=SPOT, instrument=BNBBTC)
    assert trade.quantity == Decimal(qty_text)
    assert trade.quantity.as_tuple() == Decimal(qty_text).as_tuple()
    assert trade.price.as_tuple() == Decimal(price_text).as_tuple()


def _row(**change: Any) -> list[Any]:
    return [{**load(MY_TRADES_JSON)[0], **change}]


def _without(key: str) -> list[Any]:
    row = load(MY_TRADES_JSON)[0]
    del row[key]
    return [row]


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        (_row(qty=12.0), "qty"),
        (_row(qty="abc"), "qty"),
        (_row(qty="NaN"), "qty"),
        (_row(price="Infinity"), "price"),
        (_row(qty="sNaN"), "qty"),
        (_row(qty="-12.00000000"), "qty"),
        (_row(qty="0.00000000"), "qty"),
        (_row(qty=" 12"), "qty"),
        (_row(qty="1_2"), "qty"),
        (_row(price="\uff14"), "price"),  # a fullwidth digit four
        (_row(commission=None), "commission"),
        (_row(commission=["10.1"]), "commission"),
        (_row(id="28457"), "id"),
        (_row(id=True), "id"),
        (_row(time="1499865549590"), "time"),
        (_row(time=10**20), "time"),
        (_row(isBuyer="true"), "isBuyer"),
        (_row(commissionAsset=""), "commissionAsset"),
        (_without("id"), "id"),
        (_without("commissionAsset"), "commissionAsset"),
        ([["BNBBTC", 28457]], "row 0"),
        (load(MY_TRADES_JSON)[0], "JSON array"),
        (None, "JSON array"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_malformed_trade_row_raises_malformed_response(rows: Any, field: str) -> None:
    with pytest.raises(MalformedResponse) as caught:
        spot_trades(rows, account=SPOT, instrument=BNBBTC)
    message = str(caught.value)
    assert caught.value.broker == "binance"
    assert "GET /api/v3/myTrades" in message
    assert field in message
    assert "quoteQty" not in message  # never the whole row
    assert "isBestMatch" not in message


INT64_MAX = 2**63 - 1


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"id": 99999999999999999999999}, "'id' is 99999999999999999999999, outside the range"),
        ({"id": INT64_MAX}, f"'id' is {INT64_MAX}, outside the range 0..{INT64_MAX - 1}"),
        ({"id": -1}, "'id' is -1, outside the range"),
        ({"orderId": -1}, "'orderId' is -1, outside the range"),
        ({"orderId": INT64_MAX + 1}, f"'orderId' is {INT64_MAX + 1}, outside the range"),
        ({"price": "1" + "0" * 30}, "'price' must be less than 1,000,000,000,000,000"),
        ({"price": "-4.00000100"}, "'price' is negative"),
        ({"price": "0.0000000000000001"}, "'price' may have at most 12 decimal places"),
        ({"qty": "1234567890.1234567891"}, "'qty' may have at most 18 significant digits"),
        ({"qty": "1E+20"}, "'qty' must be less than"),
        ({"commission": "-1" + "0" * 20}, "'commission' must be less than"),
        ({"time": 0}, "'time' is 1970-01-01 00:00:00 UTC, outside the years 1990..2099"),
        ({"time": 7_258_118_400_000}, "'time' is 2200-01-01 00:00:00 UTC, outside"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else None,
)
def test_a_value_outside_its_documented_range_refuses_the_page(
    change: dict[str, Any], shown: str
) -> None:
    first = load(MY_TRADES_JSON)[0]
    rows = [{**first, "id": 28450}, {**first, **change}]
    with pytest.raises(MalformedResponse) as caught:
        spot_trades(rows, account=SPOT, instrument=BNBBTC)
    message = str(caught.value)
    assert message.startswith("Binance GET /api/v3/myTrades BNBBTC: row 1: "), message
    assert shown in message


def test_the_largest_ids_that_keep_the_next_from_id_legal_are_accepted() -> None:
    first = load(MY_TRADES_JSON)[0]
    rows = [{**first, "id": INT64_MAX - 1, "orderId": INT64_MAX}]
    trades = spot_trades(rows, account=SPOT, instrument=BNBBTC)
    assert max_trade_id(trades) == INT64_MAX - 1


def test_a_futures_fill_or_position_outside_its_range_is_refused() -> None:
    rows = load(USER_TRADES_JSON)
    rows[0]["id"] = -698759
    with pytest.raises(MalformedResponse, match=r"userTrades BTCUSDT: row 0: 'id' is -698759"):
        futures_trades(rows, account=FUTURES, instrument=BTCUSDT_PERP)
    (row,) = load(POSITION_RISK_V3_JSON)
    with pytest.raises(MalformedResponse, match="'entryPrice' must be less than"):
        futures_positions([{**row, "entryPrice": "9" * 20}], account=FUTURES, as_of=NOW)


def test_an_absurd_balance_or_ticker_price_is_refused() -> None:
    payload = {"balances": [{"asset": "BTC", "free": "1e16", "locked": "0"}]}
    with pytest.raises(MalformedResponse, match="'free' must be less than"):
        spot_balances(payload)
    with pytest.raises(MalformedResponse, match="'price' may have at most 12 decimal places"):
        quote({"symbol": "BNBBTC", "price": "0.0000000000001"}, instrument=BNBBTC, as_of=NOW)


# --- orders --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("NEW", OrderStatus.OPEN),
        ("PENDING_NEW", OrderStatus.OPEN),
        ("PARTIALLY_FILLED", OrderStatus.PARTIALLY_FILLED),
        ("FILLED", OrderStatus.FILLED),
        ("CANCELED", OrderStatus.CANCELED),
        ("PENDING_CANCEL", OrderStatus.CANCELED),
        ("REJECTED", OrderStatus.REJECTED),
        ("EXPIRED", OrderStatus.EXPIRED),
        ("EXPIRED_IN_MATCH", OrderStatus.EXPIRED),
    ],
)
def test_every_documented_order_status_maps(value: str, status: OrderStatus) -> None:
    """Binance's documented order ``status`` enum."""
    assert order_status(value) is status


@pytest.mark.parametrize("value", ["CANCELLED", "new", "", None, ["NEW"]])
def test_an_unknown_order_status_is_malformed(value: Any) -> None:
    with pytest.raises(MalformedResponse, match="status"):
        order_status(value)


def limit_buy(**change: Any) -> OrderRequest:
    fields: dict[str, Any] = {
        "connection_id": "conn-1",
        "account_id": SPOT_ACCOUNT_ID,
        "client_order_id": "tc-limit-1",
        "instrument": BTCUSDT,
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "quantity": Decimal("0.00001000"),
        "limit_price": Decimal("1E+1"),
        "time_in_force": TimeInForce.IOC,
    }
    return OrderRequest(**{**fields, **change})


def test_limit_order_params() -> None:
    """``POST /api/v3/order``: LIMIT needs timeInForce, quantity and price."""
    assert order_params(limit_buy()) == [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "IOC"),
        ("quantity", "0.00001000"),
        ("price", "10"),
        ("newClientOrderId", "tc-limit-1"),
        ("newOrderRespType", "FULL"),
    ]


def test_market_order_params() -> None:
    """``POST /api/v3/order``: MARKET needs quantity, no price and no timeInForce."""
    assert order_params(market_sell("tc-market-1")) == [
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "MARKET"),
        ("quantity", "10"),
        ("newClientOrderId", "tc-market-1"),
        ("newOrderRespType", "FULL"),
    ]
    big = OrderRequest(
        **{
            **{f: getattr(market_sell(), f) for f in ("connection_id", "account_id", "side")},
            "client_order_id": "tc-market-2",
            "instrument": BTCUSDT,
            "order_type": OrderType.MARKET,
            "quantity": Decimal("1E+1"),
        }
    )
    assert ("quantity", "10") in order_params(big)


def test_day_time_in_force_is_rejected_before_sending() -> None:
    """Binance's documented ``timeInForce`` enum is GTC, IOC or FOK only."""
    with pytest.raises(OrderRejected, match="no DAY time in force") as caught:
        order_params(limit_buy(time_in_force=TimeInForce.DAY))
    assert caught.value.broker == "binance"


def test_market_order_with_another_time_in_force_is_rejected() -> None:
    request = OrderRequest(
        connection_id="conn-1",
        account_id=SPOT_ACCOUNT_ID,
        client_order_id="tc-market-3",
        instrument=BTCUSDT,
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal(1),
        time_in_force=TimeInForce.FOK,
    )
    with pytest.raises(OrderRejected, match="time in force"):
        order_params(request)


def test_ack_response_is_an_open_order() -> None:
    """The documented POST /api/v3/order ACK sample: no status, no quantities."""
    request = market_sell()
    order = order_from_payload(load(ACK_JSON), request=request, account=SPOT, now=NOW)
    assert order.request is request
    assert order.status is OrderStatus.OPEN
    assert order.broker_order_id == "28"
    assert order.filled_quantity == 0
    assert order.average_fill_price is None
    assert order.created_at == utc_ms(1507725176595)
    assert order.updated_at == utc_ms(1507725176595)


def test_ack_response_cannot_rebuild_a_request() -> None:
    with pytest.raises(MalformedResponse, match="side"):
        order_from_payload(load(ACK_JSON), request=None, account=SPOT, now=NOW)


def test_result_response() -> None:
    """The documented POST /api/v3/order RESULT sample: average cummulativeQuoteQty / executedQty."""
    order = order_from_payload(result_payload(), request=market_sell(), account=SPOT, now=NOW)
    assert order.status is OrderStatus.FILLED
    assert str(order.filled_quantity) == "10.00000000"
    assert order.average_fill_price == Decimal(1)


def test_full_response_average_comes_from_the_fills() -> None:
    """The documented POST /api/v3/order FULL sample with its 5 fills (tradeId 56-60).

    The doc sample's cummulativeQuoteQty ("10.00000000") does not agree with its fills
    (39983 in all); the fills are the better source, so they win.
    """
    order = order_from_payload(full_payload(), request=market_sell(), account=SPOT, now=NOW)
    assert order.average_fill_price == Decimal("3998.3")
    assert order.status is OrderStatus.FILLED


def test_full_response_fills_become_trades() -> None:
    """The documented POST /api/v3/order FULL sample's fills."""
    executed_at = utc_ms(1507725176595)
    trades = order_fills(
        full_payload(),
        account=SPOT,
        instrument=BTCUSDT,
        side=Side.SELL,
        broker_order_id="28",
        client_order_id="6gCrw2kRUAF9CvJDGP16IP",
        executed_at=executed_at,
    )
    assert [t.broker_trade_id for t in trades] == ["56", "57", "58", "59", "60"]
    assert [str(t.fee) for t in trades] == [
        "4.00000000",
        "19.99500000",
        "7.99600000",
        "3.99700000",
        "3.99500000",
    ]
    second = trades[1]
    assert (str(second.price), str(second.quantity)) == ("3999.00000000", "5.00000000")
    assert (second.side, second.fee_asset, second.executed_at) == (Side.SELL, "USDT", executed_at)
    assert (second.broker_order_id, second.client_order_id) == ("28", "6gCrw2kRUAF9CvJDGP16IP")
    assert second.instrument is BTCUSDT
    assert max_trade_id(trades) == 60
    no_fills = order_fills(
        load(ACK_JSON),
        account=SPOT,
        instrument=BTCUSDT,
        side=Side.SELL,
        broker_order_id="28",
        client_order_id="6gCrw2kRUAF9CvJDGP16IP",
        executed_at=executed_at,
    )
    assert no_fills == []


def test_delete_response_rebuilds_the_cancelled_order() -> None:
    """The documented DELETE /api/v3/order sample: the order's own id is origClientOrderId."""
    order = order_from_payload(load(DELETE_JSON), request=None, account=SPOT, now=NOW)
    request = order.request
    assert request.client_order_id == "myOrder1"
    assert request.instrument == Instrument(symbol="LTCBTC", asset_type=AssetType.SPOT)
    assert (request.side, request.order_type, request.time_in_force) == (
        Side.BUY,
        OrderType.LIMIT,
        TimeInForce.GTC,
    )
    assert str(request.quantity) == "1.00000000"
    assert str(request.limit_price) == "2.00000000"
    assert (request.connection_id, request.account_id) == ("conn-1", "spot")
    assert order.status is OrderStatus.CANCELED
    assert order.broker_order_id == "4"
    assert order.filled_quantity == 0
    assert order.average_fill_price is None
    assert order.created_at == utc_ms(1684804350068)


def test_delete_response_checks_the_request_client_id() -> None:
    """The documented DELETE sample: origClientOrderId "myOrder1" matches, anything else does not."""
    kept = OrderRequest(
        connection_id="conn-1",
        account_id=SPOT_ACCOUNT_ID,
        client_order_id="myOrder1",
        instrument=Instrument(symbol="LTCBTC", base="LTC", quote="BTC"),
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(1),
        limit_price=Decimal(2),
    )
    order = order_from_payload(load(DELETE_JSON), request=kept, account=SPOT, now=NOW)
    assert order.request is kept
    other = OrderRequest(**{**_fields(kept), "client_order_id": "someoneElse"})
    with pytest.raises(MalformedResponse, match="clientOrderId"):
        order_from_payload(load(DELETE_JSON), request=other, account=SPOT, now=NOW)


def _fields(request: OrderRequest) -> dict[str, Any]:
    names = (
        "connection_id",
        "account_id",
        "client_order_id",
        "instrument",
        "side",
        "order_type",
        "quantity",
        "limit_price",
        "time_in_force",
    )
    return {name: getattr(request, name) for name in names}


def test_open_orders_row() -> None:
    """The documented GET /api/v3/openOrders sample row (extra keys such as icebergQty ignored)."""
    (row,) = load(OPEN_ORDERS_JSON)
    order = order_from_payload(row, request=None, account=SPOT, now=NOW)
    assert order.status is OrderStatus.OPEN
    assert order.client_order_id == "myOrder1"
    assert str(order.request.limit_price) == "0.1"
    assert str(order.request.quantity) == "1.0"
    assert str(order.filled_quantity) == "0.0"
    assert order.average_fill_price is None
    assert order.created_at == utc_ms(1499827319559)
    assert order.updated_at == utc_ms(1499827319559)


def test_negative_cummulative_quote_qty_means_no_average() -> None:
    """GET /api/v3/order, as documented: cummulativeQuoteQty < 0 is "data not available".

    The openOrders row, filled, with cummulativeQuoteQty "-1.00000000".
    """
    (row,) = load(OPEN_ORDERS_JSON)
    row.update(status="FILLED", executedQty="1.0", cummulativeQuoteQty="-1.00000000")
    order = order_from_payload(row, request=None, account=SPOT, now=NOW)
    assert order.status is OrderStatus.FILLED
    assert order.average_fill_price is None


def test_market_order_price_zero_still_has_an_average() -> None:
    """ccxt's recorded Binance fetchOrder (a filled MARKET SELL): price "0.00000000", average 9.08 / 0.1.

    The RESULT sample with the ccxt figures and its own client id.
    """
    payload = result_payload()
    payload.update(origQty="0.10000000", executedQty="0.10000000", cummulativeQuoteQty="9.08000000")
    order = order_from_payload(payload, request=None, account=SPOT, now=NOW)
    assert order.request.order_type is OrderType.MARKET
    assert order.request.limit_price is None
    assert order.average_fill_price == Decimal("90.8")


def test_times_missing_from_the_payload_are_now() -> None:
    payload = result_payload()
    del payload["transactTime"]
    order = order_from_payload(payload, request=market_sell(), account=SPOT, now=NOW)
    assert (order.created_at, order.updated_at) == (NOW, NOW)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"type": "LIMIT_MAKER"}, "unsupported order type"),
        ({"type": "STOP_LOSS_LIMIT"}, "unsupported order type"),
        ({"side": "HOLD"}, "side"),
        ({"timeInForce": "GTX"}, "timeInForce"),
        ({"status": "SETTLED"}, "status"),
        ({"executedQty": "2.0"}, "cannot fill more"),
        ({"origQty": 1.0}, "origQty"),
        ({"orderId": "1"}, "orderId"),
        ({"clientOrderId": "x" * 40}, "longer than 36"),
        ({"price": "NaN"}, "price"),
    ],
)
def test_a_malformed_order_payload_raises_malformed_response(
    change: dict[str, Any], match: str
) -> None:
    """The openOrders sample row with one field broken."""
    (row,) = load(OPEN_ORDERS_JSON)
    row.update(change)
    with pytest.raises(MalformedResponse, match=match) as caught:
        order_from_payload(row, request=None, account=SPOT, now=NOW)
    assert caught.value.broker == "binance"
    assert "isWorking" not in str(caught.value)


def test_an_order_payload_that_is_a_list_is_malformed() -> None:
    with pytest.raises(MalformedResponse, match="JSON object"):
        order_from_payload(load(OPEN_ORDERS_JSON), request=None, account=SPOT, now=NOW)


def test_a_bad_fill_is_malformed() -> None:
    payload = full_payload()
    payload["fills"][2] = {**payload["fills"][2], "qty": 2.0}
    with pytest.raises(MalformedResponse, match="qty"):
        order_from_payload(payload, request=market_sell(), account=SPOT, now=NOW)
    with pytest.raises(MalformedResponse, match="fill 2"):
        order_fills(
            payload,
            account=SPOT,
            instrument=BTCUSDT,
            side=Side.SELL,
            broker_order_id="28",
            client_order_id="6gCrw2kRUAF9CvJDGP16IP",
            executed_at=NOW,
        )


def test_payloads_are_not_changed() -> None:
    payload = full_payload()
    before = copy.deepcopy(payload)
    order_from_payload(payload, request=market_sell(), account=SPOT, now=NOW)
    assert payload == before


# --- decimal_field and error bodies --------------------------------------------------------------


def test_decimal_field_is_exact_and_strict() -> None:
    assert str(decimal_field({"p": "4.00000100"}, "p", "here")) == "4.00000100"
    assert decimal_field({"p": 7}, "p", "here") == Decimal(7)
    for payload in ({"p": 4.0}, {"p": "Infinity"}, {}, {"p": True}):
        with pytest.raises(MalformedResponse, match="here"):
            decimal_field(payload, "p", "here")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"code": -1121, "msg": "Invalid symbol."}', (-1121, "Invalid symbol.")),
        (
            b'{"code":-1021,"msg":"Timestamp for this request was 1000ms ahead of the server\'s time."}',
            (-1021, "Timestamp for this request was 1000ms ahead of the server's time."),
        ),
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", (None, None)),
        (b"", (None, None)),
        (b"\xff\xfe\x00garbage", (None, None)),
        (b'{"code": -1121, "msg": ', (None, None)),
        (b"[1, 2]", (None, None)),
        (b'"Invalid symbol."', (None, None)),
        (b'{"code": "-1121", "message": "Invalid symbol."}', (None, None)),
        (b'{"code": true, "msg": 5}', (None, None)),
        (b"[" * 100_000 + b"]" * 100_000, (None, None)),
    ],
    ids=[
        "invalid-symbol",
        "timestamp",
        "html",
        "empty",
        "garbage",
        "truncated",
        "list",
        "string",
        "other-keys",
        "wrong-types",
        "deep",
    ],
)
def test_error_body(content: bytes, expected: tuple[int | None, str | None]) -> None:
    """The documented error body; a real -1021 answer; anything else is (None, None)."""
    assert error_body(content) == expected
