"""Saxo payloads become exact domain values, and bad payloads become MalformedResponse.

The payloads are the documented samples of Saxo's OpenAPI reference
(https://www.developer.saxo/openapi/referencedocs) and of Saxo's sample repositories, kept as JSON
text and parsed with :func:`parse_json`, the way the adapter will see them. Where Saxo lists an
endpoint's fields without a JSON example, the test builds the item from that field list and says
so; where a test needs a variant, the docstring says which sample it starts from and what changed.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradecore.domain import (
    Asset,
    AssetType,
    Instrument,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    client_order_id_for,
)
from tradecore.errors import (
    BrokerUnavailable,
    InstrumentNotFound,
    InsufficientFunds,
    MalformedResponse,
    OrderOutcomeUnknown,
    OrderRejected,
)
from tradecore_adapters.saxo._json import (
    day,
    dumps_exact,
    items,
    next_link,
    number,
    obj,
    opt_number,
    opt_text,
    opt_utc_time,
    parse_json,
    text,
    utc_time,
)
from tradecore_adapters.saxo._mapping import (
    DURATION_TYPES,
    SAXO_ASSET_TYPES,
    ClosedPosition,
    PositionLot,
    SaxoClient,
    SaxoError,
    accounts_from,
    activity_order,
    asset_from,
    asset_type_of,
    asset_with_details,
    cancel_results,
    client_from,
    closed_positions_from,
    error_from,
    instrument,
    net_positions_from,
    open_order_from,
    order_body,
    placed_order,
    position_lots_from,
    quote_from,
    saxo_key,
    trades_from,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CONN = "conn-saxo"
ACCOUNT_KEY = "LZTc7DdejXODf-WSl2aCyQ=="
CID = client_order_id_for("intent-1")
GBPUSD = instrument(31, "FxSpot", "GBPUSD")
AAPL = instrument(211, "Stock", "AAPL:xnas")


def load(text_: str) -> Any:
    """A sample as the adapter sees it: parsed by parse_json (exact Decimals, no floats)."""
    return parse_json(text_.encode(), what="a test sample")


def request(
    *,
    order_type: OrderType = OrderType.MARKET,
    side: Side = Side.BUY,
    quantity: str = "100",
    limit_price: str | None = None,
    time_in_force: TimeInForce = TimeInForce.GTC,
) -> OrderRequest:
    return OrderRequest(
        connection_id=CONN,
        account_id=ACCOUNT_KEY,
        client_order_id=CID,
        instrument=instrument(112809, "Stock", "SAMPLE:xcse"),
        side=side,
        order_type=order_type,
        quantity=Decimal(quantity),
        limit_price=None if limit_price is None else Decimal(limit_price),
        time_in_force=time_in_force,
    )


# --- the documented samples, verbatim where Saxo gives JSON ---------------------------------------

ACCOUNTS_JSON = """
{"Data":[{"AccountGroupKey":"LZTc7DdejXODf-WSl2aCyQ==","AccountId":"192134INET","AccountKey":"LZTc7DdejXODf-WSl2aCyQ==",
 "AccountType":"Normal","Active":true,"ClientId":"654321","ClientKey":"7m4I|vtYLUnEGg77o9uQhw==",
 "Currency":"EUR","CurrencyDecimals":2,"IsTrialAccount":false,"LegalAssetTypes":["FxSpot","Stock"]}]}
"""

POSITIONS_JSON = """
{"__next":"/openapi/port/....../?$top=1&$skip=1",
 "Data":[{"NetPositionId":"GBPUSD_FxSpot","PositionId":"1019942425",
   "PositionBase":{"AccountId":"192134INET","Amount":100000,"AssetType":"FxSpot","CanBeClosed":true,
     "ClientId":"654321","ExecutionTimeOpen":"2016-09-02T10:25:00Z","OpenPrice":1.32167,
     "Status":"Open","Uic":31,"ValueDate":"2017-05-04T00:00:00Z"},
   "PositionView":{"CurrentPrice":1.29169,"CurrentPriceType":"Bid","Exposure":100000,"ExposureCurrency":"GBP",
     "ProfitLossOnTrade":-2998,"ProfitLossOnTradeInBaseCurrency":-2998,"CalculationReliability":"Ok"}}]}
"""

CLOSED_POSITIONS_JSON = """
{"Data":[{"ClosedPositionUniqueId":"139597294-139694249","NetPositionId":"EURUSD_FxSpot",
  "ClosedPosition":{"AccountId":"192134INET","Amount":300000,"AssetType":"FxSpot","BuyOrSell":"Buy",
    "ClosedProfitLoss":9597,"ClosedProfitLossInBaseCurrency":9597,"ClosingMethod":"Explicit",
    "OpeningPositionId":"139597294","ClosingPositionId":"139694249","OpenPrice":1.0594,"ClosingPrice":1.09139,
    "ExecutionTimeOpen":"2017-04-12T00:00:00Z","ExecutionTimeClose":"2017-05-02T00:00:00Z","Uic":21}}]}
"""

ORDER_BODY_JSON = """
{"AccountKey":"<AccountKey>","Uic":112809,"AssetType":"Stock","BuySell":"Buy","Amount":100,
 "OrderType":"Market","OrderDuration":{"DurationType":"DayOrder"},
 "ManualOrder":false,"ExternalReference":"sync-20240101-0001"}
"""

MODEL_STATE_JSON = """
{"ErrorCode":"InvalidModelState","Message":"One or more properties of the request are invalid!",
 "ModelState":{"ToOpenClose":["ToOpenClose must be set to either ToClose or ToOpen when AssetType=FuturesOption,StockIndexOption,StockOption,CfdIndexOption"]}}
"""

# /port/v1/netpositions: Saxo lists the fields without a JSON example, so this item is built from
# that list, with the values of the GBPUSD position sample and its DisplayAndFormat group.
NET_POSITION_JSON = """
{"NetPositionId":"GBPUSD_FxSpot",
 "NetPositionBase":{"AccountId":"192134INET","Amount":100000,"AssetType":"FxSpot","Uic":31,
   "OpeningDirection":"Buy","NumberOfRelatedOrders":0},
 "NetPositionView":{"AverageOpenPrice":1.32167,"AverageOpenPriceIncludingCosts":1.32177,
   "CurrentPrice":1.29169,"Exposure":100000,"MarketValue":-2998,"PositionCount":1,
   "ProfitLossOnTrade":-2998,"Status":"Open","TradeCostsTotal":-10},
 "DisplayAndFormat":{"Symbol":"GBPUSD","Description":"British Pound/US Dollar","Currency":"USD","Decimals":4}}
"""

# The trade report (/cs/v1/reports/trades): fields listed without a JSON example; built from them.
TRADE_JSON = """
{"TradeId":"5002749333","OrderId":"5002749300","AccountId":"192134INET","Uic":211,"AssetType":"Stock",
 "Amount":-25,"Price":172.4512,"TradeDate":"2024-03-05","TradeExecutionTime":"2024-03-05T14:31:02.1234567Z",
 "TradeEventType":"Sold","TradedValue":-4311.28,"InstrumentSymbol":"AAPL:xnas","AccountCurrency":"USD",
 "ToOpenOrClose":"ToClose","Venue":"XNAS","ExternalReference":"%s"}
""".replace("%s", CID)

# /ref/v1/instruments: search item fields listed without a full JSON example; built from them.
INSTRUMENT_JSON = """
{"Identifier":211,"SummaryType":"Instrument","AssetType":"Stock","Symbol":"AAPL:xnas",
 "Description":"Apple Inc.","ExchangeId":"NASDAQ","CurrencyCode":"USD","GroupId":0,
 "PrimaryListing":211,"TradableAs":["Stock","CfdOnStock"],"IsKeywordMatch":true}
"""

# /trade/v1/infoprices: the Quote group fields and LastUpdated/Uic/AssetType, values from the spec
# example (DelayedByMinutes 15, PriceType Indicative).
INFOPRICE_JSON = """
{"Uic":31,"AssetType":"FxSpot","LastUpdated":"2024-03-05T14:31:02.1234567Z",
 "Quote":{"Ask":1.29179,"Bid":1.29169,"Mid":1.29174,"Amount":100000,"DelayedByMinutes":15,
   "PriceTypeAsk":"Indicative","PriceTypeBid":"Indicative","ErrorCode":"None"}}
"""

# /port/v1/orders: open order fields listed without a JSON example; built from them.
OPEN_ORDER_JSON = """
{"OrderId":"5002749333","AccountKey":"LZTc7DdejXODf-WSl2aCyQ==","AccountId":"192134INET","Uic":211,
 "AssetType":"Stock","BuySell":"Buy","Amount":10,"OpenOrderType":"Limit","Price":150.25,
 "Duration":{"DurationType":"GoodTillCancel"},"Status":"Working","OrderTime":"2024-03-05T14:31:02+02:00",
 "OrderRelation":"StandAlone","ExternalReference":"%s","DistanceToMarket":0.12,
 "DisplayAndFormat":{"Symbol":"AAPL:xnas","Currency":"USD"}}
""".replace("%s", CID)

# /cs/v1/audit/orderactivities: status enum and FillAmount/FilledAmount/AveragePrice from the doc.
ACTIVITY_JSON = """
{"OrderId":"5002749333","LogId":"1234","AccountId":"192134INET","Uic":211,"AssetType":"Stock",
 "BuySell":"Sell","Amount":10,"OrderType":"Market","Duration":{"DurationType":"DayOrder"},
 "Status":"FinalFill","FillAmount":4,"FilledAmount":10,"AveragePrice":172.4512,
 "ActivityTime":"2024-03-05T14:31:02.1234567Z","ExternalReference":"%s"}
""".replace("%s", CID)


# --- _json: parsing and value readers ------------------------------------------------------------


def test_parse_json_keeps_saxo_number_digits() -> None:
    """Positions sample: ``OpenPrice: 1.32167`` is an exact Decimal, ``Amount: 100000`` an int; no
    floats."""
    body = load(POSITIONS_JSON)
    base = body["Data"][0]["PositionBase"]
    assert base["OpenPrice"] == Decimal("1.32167")
    assert type(base["OpenPrice"]) is Decimal
    assert str(base["OpenPrice"]) == "1.32167"
    assert type(base["Amount"]) is int

    def floats(value: object) -> bool:
        if isinstance(value, dict):
            return any(floats(v) for v in value.values())
        if isinstance(value, list):
            return any(floats(v) for v in value)
        return isinstance(value, float)

    assert not floats(body)


@pytest.mark.parametrize(
    "content",
    [b"", b"<html><body>404 Not Found</body></html>", b"\xff\xfe\xfa", b'{"a":', b"[1,2"],
)
def test_parse_json_refuses_what_is_not_json(content: bytes) -> None:
    """A wrong URL answers an HTML 404 page; never assume JSON."""
    with pytest.raises(MalformedResponse) as caught:
        parse_json(content, what="GET /port/v1/accounts/me")
    assert str(caught.value) == (
        "Saxo answered GET /port/v1/accounts/me with something that is not JSON"
    )
    assert caught.value.broker == "saxo"


def test_number_reads_ints_and_decimals_exactly() -> None:
    """Position numbers: large amounts and long fractions keep every digit."""
    body = load(
        '{"a": 123456789012345678901234567890, "b": 0.000000012345678901234567891, "c": -2998}'
    )
    assert number(body, "a", what="w") == Decimal("123456789012345678901234567890")
    assert str(number(body, "b", what="w")) == "1.2345678901234567891E-8"
    assert number(body, "c", what="w") == Decimal(-2998)
    assert opt_number(body, "missing", what="w") is None
    assert opt_number({"x": None}, "x", what="w") is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("true", "a boolean"),
        ('"1.5"', "the text '1.5'"),
        ("null", "null"),
        ("NaN", "not a finite number"),
        ("Infinity", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("[1]", "a list"),
    ],
)
def test_number_rejects_what_is_not_a_finite_number(value: str, problem: str) -> None:
    """A position's ``Amount``: anything but a finite JSON number is malformed, naming field and
    endpoint."""
    body = load(f'{{"Amount": {value}}}')
    with pytest.raises(MalformedResponse) as caught:
        number(body, "Amount", what="GET /port/v1/positions item 0")
    message = str(caught.value)
    assert message.startswith("Saxo GET /port/v1/positions item 0: 'Amount'")
    assert problem in message


def test_number_rejects_a_float_from_a_plain_json_parse() -> None:
    """Floats never appear: a payload parsed without parse_json is refused, not rounded."""
    with pytest.raises(MalformedResponse, match="parse_json"):
        number(json.loads('{"OpenPrice": 1.32167}'), "OpenPrice", what="w")


def test_missing_field_is_named() -> None:
    with pytest.raises(MalformedResponse, match=r"Saxo GET x: 'Price' is missing"):
        number({}, "Price", what="GET x")
    with pytest.raises(MalformedResponse, match=r"'Symbol' is missing"):
        text({}, "Symbol", what="GET x")


def test_text_readers() -> None:
    assert text({"a": "x"}, "a", what="w") == "x"
    for bad in ("", "  ", 5, None, True):
        with pytest.raises(MalformedResponse, match="'a' is"):
            text({"a": bad}, "a", what="w")
    assert opt_text({}, "a", what="w") is None
    assert opt_text({"a": None}, "a", what="w") is None
    assert opt_text({"a": ""}, "a", what="w") is None
    with pytest.raises(MalformedResponse):
        opt_text({"a": 3}, "a", what="w")


def test_messages_never_quote_long_values() -> None:
    """A token-like value in the wrong place is described, never quoted in full."""
    token = "eyJhbGciOiJFUzI1NiIsIng1dCI6IjI3RTlCOTAzRUNGMjExMDlBREU1RTVCOUVDMDgxNkI2QjQ5REEwRkYifQ"
    with pytest.raises(MalformedResponse) as caught:
        number({"Amount": token}, "Amount", what="w")
    assert token[:12] not in str(caught.value)
    assert "86-character text" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2016-09-02T10:25:00Z", datetime(2016, 9, 2, 10, 25, tzinfo=UTC)),
        ("2017-05-02T10:25:03.1234567Z", datetime(2017, 5, 2, 10, 25, 3, 123456, tzinfo=UTC)),
        ("2017-05-02T10:25:03.9999999Z", datetime(2017, 5, 2, 10, 25, 3, 999999, tzinfo=UTC)),
        ("2017-05-02T10:25:03.5Z", datetime(2017, 5, 2, 10, 25, 3, 500000, tzinfo=UTC)),
        ("2024-03-05T14:31:02+02:00", datetime(2024, 3, 5, 12, 31, 2, tzinfo=UTC)),
        ("2024-03-05T00:30:00.25-05:30", datetime(2024, 3, 5, 6, 0, 0, 250000, tzinfo=UTC)),
        ("2024-03-05T14:31:02+0000", datetime(2024, 3, 5, 14, 31, 2, tzinfo=UTC)),
    ],
)
def test_utc_time_reads_iso_8601_into_utc(value: str, expected: datetime) -> None:
    """``ExecutionTimeOpen`` and friends: Z or offset, 7 fractional digits truncated."""
    parsed = utc_time({"T": value}, "T", what="w")
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2016-09-02T10:25:00", "no time zone"),
        ("2016-09-02", "not an ISO 8601 time"),
        ("02/09/2016 10:25", "not an ISO 8601 time"),
        ("2017-02-30T10:25:00Z", "not a valid time"),
        ("2017-05-02T25:00:00Z", "not a valid time"),
        ("2017-05-02T10:25:00+24:00", "not a valid time"),
        ("0001-01-01T00:30:00+01:00", "not a valid time"),
        ("\uff12\uff10\uff11\uff17-05-02T10:25:00Z", "not an ISO 8601 time"),
        (1493720703, "not an ISO 8601 time"),
    ],
)
def test_utc_time_refuses_naive_and_bad_times(value: object, problem: str) -> None:
    with pytest.raises(MalformedResponse) as caught:
        utc_time({"T": value}, "T", what="GET w")
    assert problem in str(caught.value)
    assert "'T'" in str(caught.value)


def test_opt_utc_time_and_day() -> None:
    """The trade report's ``TradeDate``: a calendar date, as a date or date-time string."""
    assert opt_utc_time({}, "T", what="w") is None
    assert day({"D": "2017-05-02"}, "D", what="w") == date(2017, 5, 2)
    assert day({"D": "2017-05-02T00:00:00"}, "D", what="w") == date(2017, 5, 2)
    assert day({"D": "2017-05-02T23:30:00-05:00"}, "D", what="w") == date(2017, 5, 2)
    for bad in ("2017-13-01", "20170502", 20170502, None):
        with pytest.raises(MalformedResponse, match="'D'"):
            day({"D": bad}, "D", what="w")


def test_items_and_next_link_read_the_collection_envelope() -> None:
    """The collection envelope of the positions sample: ``Data`` items and the ``__next`` link."""
    body = load(POSITIONS_JSON)
    rows = items(body, what="GET /port/v1/positions")
    assert len(rows) == 1
    assert rows[0]["PositionId"] == "1019942425"
    assert next_link(body) == "/openapi/port/....../?$top=1&$skip=1"
    assert next_link(load(ACCOUNTS_JSON)) is None
    assert next_link({"__next": None, "Data": []}) is None
    assert items({"__count": 0, "Data": []}, what="w") == []


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ([], "expected a JSON object, got a list"),
        ({"__count": 2}, "'Data' is missing"),
        ({"Data": {"a": 1}}, "'Data' is an object, not a list"),
        ({"Data": [{}, 3]}, "item 1: expected a JSON object, got an integer"),
    ],
)
def test_items_refuses_bad_envelopes(payload: object, problem: str) -> None:
    with pytest.raises(MalformedResponse) as caught:
        items(payload, what="GET /port/v1/orders")
    assert problem in str(caught.value)


def test_next_link_refuses_a_non_string() -> None:
    with pytest.raises(MalformedResponse, match="'__next'"):
        next_link({"__next": 5, "Data": []})
    with pytest.raises(MalformedResponse):
        obj("x", what="w")


# --- _json: dumps_exact ---------------------------------------------------------------------------


def test_dumps_exact_writes_decimals_as_plain_numbers() -> None:
    """Order bodies: Decimals keep their digits, no exponent, compact separators."""
    assert dumps_exact({"a": Decimal("1.32167")}) == b'{"a":1.32167}'
    assert dumps_exact([Decimal("1E+2"), Decimal("1E-7"), Decimal("-0.10")]) == (
        b"[100,0.0000001,-0.10]"
    )
    assert dumps_exact({"s": 'q"\\\n', "n": None, "t": True, "f": False, "i": 7, "l": (1,)}) == (
        b'{"s":"q\\"\\\\\\n","n":null,"t":true,"f":false,"i":7,"l":[1]}'
    )
    assert dumps_exact(Decimal("123456789012345678901234567890.123456789")) == (
        b"123456789012345678901234567890.123456789"
    )
    assert dumps_exact({"é": "ü"}) == b'{"\\u00e9":"\\u00fc"}'


def test_dumps_exact_refuses_floats_and_non_finite() -> None:
    with pytest.raises(TypeError):
        dumps_exact({"a": 1.5})
    with pytest.raises(ValueError, match="NaN"):
        dumps_exact([Decimal("NaN")])
    with pytest.raises(TypeError):
        dumps_exact({1: "a"})
    with pytest.raises(TypeError):
        dumps_exact({"a": object()})


@given(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**30), max_value=10**30)
    | st.decimals(allow_nan=False, allow_infinity=False, places=12)
)
def test_dumps_exact_round_trips_any_finite_decimal(value: Decimal) -> None:
    """dumps_exact then parse_json gives the same number, with the same digits for fractions."""
    parsed = parse_json(dumps_exact({"v": value}), what="round trip")
    assert isinstance(parsed, dict)
    back = number(parsed, "v", what="round trip")
    assert back == value
    if value.as_tuple().exponent < 0:  # type: ignore[operator]
        assert back.as_tuple() == value.as_tuple()


# --- instruments ---------------------------------------------------------------------------------


def test_asset_types_map_to_ours() -> None:
    """The AssetType enum: Saxo's types map to ours; anything else is OTHER."""
    expected = {
        "Stock": AssetType.STOCK,
        "Etf": AssetType.ETF,
        "Etc": AssetType.ETF,
        "Etn": AssetType.ETF,
        "Fund": AssetType.FUND,
        "MutualFund": AssetType.FUND,
        "Bond": AssetType.BOND,
        "FxSpot": AssetType.FX,
        "FxForwards": AssetType.FX,
        "FxSwap": AssetType.FX,
        "CfdOnStock": AssetType.CFD,
        "CfdOnIndex": AssetType.CFD,
        "CfdOnFutures": AssetType.CFD,
        "CfdOnEtf": AssetType.CFD,
        "ContractFutures": AssetType.FUTURE,
        "StockOption": AssetType.OPTION,
        "StockIndexOption": AssetType.OPTION,
        "FuturesOption": AssetType.OPTION,
        "FxVanillaOption": AssetType.OPTION,
    }
    for saxo, ours in expected.items():
        assert SAXO_ASSET_TYPES[saxo] is ours
        assert asset_type_of(saxo) is ours
    assert asset_type_of("CertificateBonus") is AssetType.OTHER
    with pytest.raises(TypeError):
        SAXO_ASSET_TYPES["Stock"] = AssetType.OTHER  # type: ignore[index]


def test_instrument_and_saxo_key_round_trip() -> None:
    """Prices and orders need ``(Uic, AssetType)``: kept in broker_key and read back."""
    assert Instrument(symbol="GBPUSD", asset_type=AssetType.FX, broker_key="31:FxSpot") == GBPUSD
    assert saxo_key(GBPUSD) == (31, "FxSpot")
    for key in (None, "", "31", "31:", ":FxSpot", "0:FxSpot", "x:FxSpot", "31:Fx Spot", "-1:Stock"):
        assert saxo_key(Instrument(symbol="S", broker_key=key)) is None


# --- client, accounts ----------------------------------------------------------------------------


def test_client_from_reads_the_client() -> None:
    """``GET /port/v1/clients/me`` (fields as Saxo's reference lists them)."""
    payload = load(
        '{"ClientKey":"7m4I|vtYLUnEGg77o9uQhw==","ClientId":"654321",'
        '"DefaultAccountKey":"LZTc7DdejXODf-WSl2aCyQ==","DefaultAccountId":"192134INET",'
        '"DefaultCurrency":"EUR","LegalAssetTypes":["FxSpot","Stock"],"PositionNettingMethod":"FIFO",'
        '"PositionNettingMode":"EndOfDay","PositionNettingProfile":"FifoEndOfDay",'
        '"IsMarginTradingAllowed":true}'
    )
    assert client_from(payload) == SaxoClient(
        "7m4I|vtYLUnEGg77o9uQhw==", "LZTc7DdejXODf-WSl2aCyQ==", "EUR", "EndOfDay"
    )
    assert client_from({"ClientKey": "k"}) == SaxoClient("k", None, None, None)
    with pytest.raises(MalformedResponse, match=r"clients/me: 'ClientKey' is missing"):
        client_from({"ClientId": "654321"})


def test_accounts_from_reads_the_documented_account() -> None:
    """Accounts: account_id is the AccountKey, the name the human AccountId."""
    (account,) = accounts_from(items(load(ACCOUNTS_JSON), what="w"), connection_id=CONN)
    assert account.connection_id == CONN
    assert account.account_id == "LZTc7DdejXODf-WSl2aCyQ=="
    assert account.name == "192134INET"
    assert account.currency == "EUR"


def test_accounts_from_refuses_bad_items() -> None:
    row = load(ACCOUNTS_JSON)["Data"][0]
    with pytest.raises(MalformedResponse, match="listed twice"):
        accounts_from([row, row], connection_id=CONN)
    broken = {k: v for k, v in row.items() if k != "AccountKey"}
    with pytest.raises(MalformedResponse, match=r"accounts item 1: 'AccountKey' is missing"):
        accounts_from([row, broken], connection_id=CONN)
    with pytest.raises(MalformedResponse, match="list of items"):
        accounts_from(load(ACCOUNTS_JSON), connection_id=CONN)


# --- positions -----------------------------------------------------------------------------------


def test_net_positions_from_reads_the_net_position() -> None:
    """Net position fields with the position sample's values and DisplayAndFormat: exact Decimals,
    symbol from the group."""
    (position,) = net_positions_from(
        [load(NET_POSITION_JSON)], connection_id=CONN, account_id=ACCOUNT_KEY, as_of=NOW
    )
    assert position.instrument == GBPUSD
    assert position.quantity == Decimal(100000)
    assert str(position.average_price) == "1.32167"
    assert position.currency == "USD"
    assert position.market_value == Decimal(-2998)
    assert position.unrealized_pnl == Decimal(-2998)
    assert position.account_id == ACCOUNT_KEY
    assert position.as_of == NOW


def test_net_positions_short_fallback_symbol_and_squared() -> None:
    """Net positions: a short is negative; no DisplayAndFormat → "Uic:AssetType"; Amount 0 (squared
    under end-of-day netting) is left out; the view group is optional."""
    short = load(NET_POSITION_JSON)
    short["NetPositionBase"]["Amount"] = load("-123456789012.5")
    del short["DisplayAndFormat"]
    squared = load(NET_POSITION_JSON)
    squared["NetPositionBase"]["Amount"] = 0
    bare = {"NetPositionBase": {"Uic": 211, "AssetType": "CfdOnStock", "Amount": 3}}
    positions = net_positions_from(
        [short, squared, bare], connection_id=CONN, account_id=ACCOUNT_KEY, as_of=NOW
    )
    assert [p.instrument.symbol for p in positions] == ["31:FxSpot", "211:CfdOnStock"]
    assert positions[0].quantity == Decimal("-123456789012.5")
    assert positions[0].currency is None
    assert positions[1].instrument.asset_type is AssetType.CFD
    assert positions[1].average_price is None
    assert positions[1].market_value is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda i: i["NetPositionBase"].pop("Amount"), "NetPositionBase: 'Amount' is missing"),
        (
            lambda i: i["NetPositionBase"].update(Amount=True),
            "'Amount' is a boolean, not a number",
        ),
        (lambda i: i["NetPositionBase"].update(Uic="31"), "'Uic' is the text '31'"),
        (lambda i: i["NetPositionBase"].update(Uic=0), "'Uic' is not a positive number"),
        (lambda i: i.pop("NetPositionBase"), "'NetPositionBase' is missing"),
        (
            lambda i: i["NetPositionView"].update(AverageOpenPrice=Decimal("-1.3")),
            "'AverageOpenPrice' is negative",
        ),
        (lambda i: i.update(DisplayAndFormat=[]), "'DisplayAndFormat' is a list"),
        (
            lambda i: i["NetPositionBase"].update(Amount=Decimal("-1E+18")),
            "'Amount' must be less than 1,000,000,000,000,000, got -1000000000000000000",
        ),
        (
            lambda i: i["NetPositionView"].update(AverageOpenPrice=Decimal("1E+15")),
            "'AverageOpenPrice' must be less than 1,000,000,000,000,000 in size",
        ),
        (
            lambda i: i["NetPositionView"].update(MarketValue=Decimal("-1E+30")),
            "'MarketValue' must be less than 1,000,000,000,000,000 in size",
        ),
        (
            lambda i: i["NetPositionView"].update(ProfitLossOnTrade=Decimal("1E+15")),
            "'ProfitLossOnTrade' must be less than",
        ),
    ],
)
def test_net_positions_from_refuses_malformed_items(change: Any, problem: str) -> None:
    item = load(NET_POSITION_JSON)
    change(item)
    with pytest.raises(MalformedResponse) as caught:
        net_positions_from([item], connection_id=CONN, account_id=ACCOUNT_KEY, as_of=NOW)
    assert "GET /port/v1/netpositions item 0" in str(caught.value)
    assert problem in str(caught.value)


def test_a_computed_average_price_keeps_all_its_digits() -> None:
    """An average of several fills may carry many digits; only its size is bounded."""
    item = load(NET_POSITION_JSON)
    item["NetPositionView"]["AverageOpenPrice"] = Decimal("1.3216712345678901234567")
    (position,) = net_positions_from([item], connection_id=CONN, account_id=ACCOUNT_KEY, as_of=NOW)
    assert position.average_price == Decimal("1.3216712345678901234567")


def test_position_lots_from_reads_the_documented_position() -> None:
    """Positions sample verbatim: OpenPrice 1.32167 stays Decimal("1.32167")."""
    (lot,) = position_lots_from(items(load(POSITIONS_JSON), what="w"))
    assert lot == PositionLot(
        position_id="1019942425",
        net_position_id="GBPUSD_FxSpot",
        account_id="192134INET",
        instrument=instrument(31, "FxSpot", "31:FxSpot"),
        quantity=Decimal(100000),
        open_price=Decimal("1.32167"),
        opened_at=datetime(2016, 9, 2, 10, 25, tzinfo=UTC),
        current_price=Decimal("1.29169"),
        pnl=Decimal(-2998),
    )
    assert str(lot.open_price) == "1.32167"


def test_position_lots_from_refuses_a_naive_open_time() -> None:
    """Positions sample with ``ExecutionTimeOpen`` lacking its ``Z``."""
    body = load(POSITIONS_JSON)
    body["Data"][0]["PositionBase"]["ExecutionTimeOpen"] = "2016-09-02T10:25:00"
    with pytest.raises(MalformedResponse, match="'ExecutionTimeOpen' has no time zone"):
        position_lots_from(body["Data"])


def test_closed_positions_from_reads_the_documented_closed_position() -> None:
    """Closed positions sample verbatim."""
    (closed,) = closed_positions_from(items(load(CLOSED_POSITIONS_JSON), what="w"))
    assert closed == ClosedPosition(
        closed_position_id="139597294-139694249",
        account_id="192134INET",
        instrument=instrument(21, "FxSpot", "21:FxSpot"),
        quantity=Decimal(300000),
        open_price=Decimal("1.0594"),
        close_price=Decimal("1.09139"),
        opened_at=datetime(2017, 4, 12, tzinfo=UTC),
        closed_at=datetime(2017, 5, 2, tzinfo=UTC),
        realized_pnl=Decimal(9597),
    )


def test_closed_positions_short_is_negative_either_way() -> None:
    """Saxo's sign rule (``Amount: -100000, BuyOrSell: Sell``); an unsigned Sell is negative too,
    and a Buy with a negative amount is a contradiction."""
    body = load(CLOSED_POSITIONS_JSON)
    signed = copy.deepcopy(body["Data"][0])
    signed["ClosedPosition"].update(Amount=-100000, BuyOrSell="Sell")
    unsigned = copy.deepcopy(body["Data"][0])
    unsigned["ClosedPosition"].update(Amount=100000, BuyOrSell="Sell")
    unsigned["DisplayAndFormat"] = {"Symbol": "EURUSD"}
    results = closed_positions_from([signed, unsigned])
    assert [c.quantity for c in results] == [Decimal(-100000), Decimal(-100000)]
    assert results[1].instrument.symbol == "EURUSD"
    wrong = copy.deepcopy(body["Data"][0])
    wrong["ClosedPosition"]["Amount"] = -300000
    with pytest.raises(MalformedResponse, match="'Amount' is negative but 'BuyOrSell' is Buy"):
        closed_positions_from([wrong])
    odd = copy.deepcopy(body["Data"][0])
    odd["ClosedPosition"]["BuyOrSell"] = "Short"
    with pytest.raises(MalformedResponse, match="not Buy or Sell"):
        closed_positions_from([odd])


# --- trades --------------------------------------------------------------------------------------


def test_trades_from_reads_a_report_trade() -> None:
    """Trade report fields: Sold with negative Amount, 7-digit execution time, our id."""
    (trade,) = trades_from([load(TRADE_JSON)], connection_id=CONN, account_id=ACCOUNT_KEY)
    assert trade.broker_trade_id == "5002749333"
    assert trade.broker_order_id == "5002749300"
    assert trade.client_order_id == CID
    assert trade.instrument == AAPL
    assert trade.side is Side.SELL
    assert trade.quantity == Decimal(25)
    assert str(trade.price) == "172.4512"
    assert trade.fee == Decimal(0)
    assert trade.fee_asset is None
    assert trade.executed_at == datetime(2024, 3, 5, 14, 31, 2, 123456, tzinfo=UTC)
    assert trade.account_id == ACCOUNT_KEY


def test_trades_from_fallbacks() -> None:
    """Trade report: no TradeEventType → the sign of Amount; no TradeExecutionTime → TradeDate
    00:00 UTC; foreign ExternalReference → no client id; numeric ids; a Commission is the fee."""
    item = load(TRADE_JSON)
    for key in ("TradeEventType", "TradeExecutionTime", "OrderId", "InstrumentSymbol"):
        del item[key]
    item.update(Amount=Decimal("0.5"), TradeId=77, ExternalReference="sync-20240101-0001")
    item["Commission"] = Decimal("-1.25")
    (trade,) = trades_from([item], connection_id=CONN, account_id=ACCOUNT_KEY)
    assert trade.side is Side.BUY
    assert trade.quantity == Decimal("0.5")
    assert trade.executed_at == datetime(2024, 3, 5, tzinfo=UTC)
    assert trade.broker_trade_id == "77"
    assert trade.broker_order_id is None
    assert trade.client_order_id is None
    assert trade.instrument.symbol == "211:Stock"
    assert trade.fee == Decimal("1.25")
    assert trade.fee_asset == "USD"
    long_ref = dict(item, ExternalReference="tc-" + "a" * 40)
    assert trades_from([long_ref], connection_id=CONN, account_id="a")[0].client_order_id is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"TradeEventType": "Bought"}, "'TradeEventType' contradicts the sign of 'Amount'"),
        ({"Amount": 0}, "'Amount' is zero"),
        ({"Amount": False}, "'Amount' is a boolean"),
        ({"TradeId": None}, "'TradeId' is null"),
        ({"TradeEventType": 1}, "'TradeEventType' is an integer"),
        ({"TradeExecutionTime": "2024-03-05T14:31:02"}, "no time zone"),
        ({"TradeId": "9" * 65}, "'TradeId' is 65 characters long, not 1 to 64"),
        ({"TradeId": "50 12"}, "'TradeId' is not printable ASCII without spaces"),
        ({"OrderId": "x\u00e9"}, "'OrderId' is not printable ASCII without spaces"),
        ({"Amount": Decimal("1E+15")}, "'Amount' must be less than 1,000,000,000,000,000"),
        ({"Amount": Decimal("-1.0000000000001")}, "'Amount' may have at most 12 decimal places"),
        ({"Price": Decimal("1E+20")}, "'Price' must be less than"),
        ({"Commission": Decimal("1E+16")}, "'Commission' must be less than"),
        ({"TradeExecutionTime": "1970-01-01T00:00:00Z"}, "'TradeExecutionTime' is 1970-01-01"),
        (
            {"TradeExecutionTime": None, "TradeDate": "2150-01-01"},
            "'TradeDate' is 2150-01-01 00:00:00 UTC, outside the years 1990..2099",
        ),
    ],
)
def test_trades_from_refuses_malformed_trades(change: dict[str, Any], problem: str) -> None:
    item = load(TRADE_JSON)
    item.update(change)
    with pytest.raises(MalformedResponse) as caught:
        trades_from([load(TRADE_JSON), item], connection_id=CONN, account_id=ACCOUNT_KEY)
    assert "GET /cs/v1/reports/trades item 1" in str(caught.value)
    assert problem in str(caught.value)


_amounts = st.decimals(  # every digit within the rule for amounts (at most 18 of them)
    min_value=Decimal("0.000000001"),
    max_value=Decimal("999999999.999999999"),
    allow_nan=False,
    places=9,
)


@given(quantity=_amounts, price=_amounts, sold=st.booleans())
def test_trades_from_keeps_quantity_and_price_exactly(
    quantity: Decimal, price: Decimal, sold: bool
) -> None:
    """Trade report: whatever digits Saxo sends (JSON numbers) come out unchanged."""
    item = load(TRADE_JSON)
    item["TradeEventType"] = "Sold" if sold else "Bought"
    item["Amount"] = -quantity if sold else quantity
    item["Price"] = price
    round_tripped = parse_json(dumps_exact({"Data": [item]}), what="w")
    (trade,) = trades_from(items(round_tripped, what="w"), connection_id=CONN, account_id="a")
    assert trade.quantity == quantity
    assert trade.price == price
    assert trade.side is (Side.SELL if sold else Side.BUY)


# --- reference data and prices -------------------------------------------------------------------


def test_asset_from_reads_a_search_item() -> None:
    """Instrument search: Identifier is the Uic; TradableAs non-empty → tradable."""
    asset = asset_from(load(INSTRUMENT_JSON))
    assert asset == Asset(instrument=AAPL, description="Apple Inc.", currency="USD", tradable=True)
    untradable = load(INSTRUMENT_JSON)
    untradable["TradableAs"] = []
    assert asset_from(untradable).tradable is False
    root = load(INSTRUMENT_JSON)
    root["SummaryType"] = "ContractOptionRoot"
    with pytest.raises(MalformedResponse, match="'SummaryType'"):
        asset_from(root)
    with pytest.raises(MalformedResponse, match="'Identifier' is missing"):
        asset_from({k: v for k, v in load(INSTRUMENT_JSON).items() if k != "Identifier"})


def test_asset_with_details_adds_the_trading_rules() -> None:
    """Instrument details: TickSize, LotSize, MinimumTradeSize, IsTradable."""
    asset = asset_from(load(INSTRUMENT_JSON))
    details = load(
        '{"Uic":211,"AssetType":"Stock","TickSize":0.01,"LotSize":1,'
        '"MinimumTradeSize":1,"IsTradable":false,"CurrencyCode":"USD"}'
    )
    detailed = asset_with_details(asset, details)
    assert str(detailed.price_step) == "0.01"
    assert detailed.quantity_step == Decimal(1)
    assert detailed.min_quantity == Decimal(1)
    assert detailed.tradable is False
    assert asset_with_details(asset, {"LotSize": 0}).quantity_step is None
    assert asset_with_details(asset, {}) == asset
    with pytest.raises(MalformedResponse, match="'TickSize' is negative"):
        asset_with_details(asset, {"TickSize": Decimal("-0.01")})
    with pytest.raises(MalformedResponse, match="'IsTradable' is the text 'yes'"):
        asset_with_details(asset, {"IsTradable": "yes"})
    with pytest.raises(MalformedResponse, match="about Uic 31"):
        asset_with_details(asset, {"Uic": 31, "AssetType": "FxSpot"})


def test_quote_from_reads_the_infoprice() -> None:
    """Info prices: Bid/Ask/Mid exact, LastUpdated with 7 fractional digits."""
    quote = quote_from(load(INFOPRICE_JSON), instrument=GBPUSD, received_at=NOW)
    assert str(quote.bid) == "1.29169"
    assert str(quote.ask) == "1.29179"
    assert str(quote.last) == "1.29174"
    assert quote.as_of == datetime(2024, 3, 5, 14, 31, 2, 123456, tzinfo=UTC)


def test_quote_from_without_mid_or_one_side() -> None:
    """Info price sample without Mid: the middle of bid and ask; one side: that side; no
    LastUpdated: the time it was received."""
    body = load(INFOPRICE_JSON)
    del body["Quote"]["Mid"], body["LastUpdated"]
    quote = quote_from(body, instrument=GBPUSD, received_at=NOW)
    assert quote.last == Decimal("1.29174")
    assert quote.as_of == NOW
    del body["Quote"]["Bid"]
    assert quote_from(body, instrument=GBPUSD, received_at=NOW).last == Decimal("1.29179")


def test_quote_from_errors() -> None:
    """Info price errors: InvalidUic/InstrumentNotAllowed → InstrumentNotFound; another code →
    BrokerUnavailable; no price and no code → MalformedResponse; another Uic → malformed."""
    body = load(INFOPRICE_JSON)
    for key in ("Ask", "Bid", "Mid"):
        del body["Quote"][key]
    for code in ("InvalidUic", "InstrumentNotAllowed", "NoAccess"):
        body["Quote"]["ErrorCode"] = code
        with pytest.raises(InstrumentNotFound) as caught:
            quote_from(body, instrument=GBPUSD, received_at=NOW)
        assert caught.value.code == code
        assert str(caught.value) == f"Saxo has no price for GBPUSD: {code}"
    body["Quote"]["ErrorCode"] = "NoMarket"
    with pytest.raises(BrokerUnavailable, match="NoMarket"):
        quote_from(body, instrument=GBPUSD, received_at=NOW)
    body["Quote"]["ErrorCode"] = "None"
    with pytest.raises(MalformedResponse, match="no 'Bid', 'Ask' or 'Mid'"):
        quote_from(body, instrument=GBPUSD, received_at=NOW)
    with pytest.raises(MalformedResponse, match="about Uic 31"):
        quote_from(load(INFOPRICE_JSON), instrument=AAPL, received_at=NOW)


# --- orders --------------------------------------------------------------------------------------


def test_order_body_matches_the_documented_minimal_body() -> None:
    """Minimal order body (Saxo's stock sample with ManualOrder false): same fields and values."""
    body = order_body(request(), account_key="<AccountKey>", uic=112809, asset_type="Stock")
    expected = load(ORDER_BODY_JSON)
    expected["ExternalReference"] = CID
    assert parse_json(body, what="w") == expected
    assert list(json.loads(body)) == [
        "AccountKey",
        "Uic",
        "AssetType",
        "BuySell",
        "Amount",
        "OrderType",
        "OrderDuration",
        "ManualOrder",
        "ExternalReference",
    ]
    assert b" " not in body


def test_order_body_limit_and_durations() -> None:
    """Order bodies: OrderPrice for limits, exact digits; GTC market orders go as DayOrder."""
    limit = request(
        order_type=OrderType.LIMIT,
        side=Side.SELL,
        quantity="0.123456789",
        limit_price="172.4500",
        time_in_force=TimeInForce.GTC,
    )
    body = order_body(limit, account_key=ACCOUNT_KEY, uic=211, asset_type="Stock")
    assert b'"Amount":0.123456789' in body
    assert b'"OrderPrice":172.4500' in body
    assert b'"BuySell":"Sell"' in body
    assert b'"OrderType":"Limit"' in body
    assert b'"DurationType":"GoodTillCancel"' in body
    assert DURATION_TYPES[TimeInForce.GTC] == "GoodTillCancel"
    for tif, sent in [
        (TimeInForce.GTC, "DayOrder"),
        (TimeInForce.DAY, "DayOrder"),
        (TimeInForce.IOC, "ImmediateOrCancel"),
        (TimeInForce.FOK, "FillOrKill"),
    ]:
        market = order_body(
            request(time_in_force=tif), account_key=ACCOUNT_KEY, uic=211, asset_type="Stock"
        )
        assert json.loads(market)["OrderDuration"] == {"DurationType": sent}
        assert "OrderPrice" not in json.loads(market)


def test_placed_order_reads_the_order_id() -> None:
    """Placement success: ``{"OrderId":"5002749333","ExternalReference":...}`` → an open order."""
    payload = load(f'{{"OrderId":"5002749333","ExternalReference":"{CID}"}}')
    order = placed_order(payload, request=request(), now=NOW)
    assert order.status is OrderStatus.OPEN
    assert order.broker_order_id == "5002749333"
    assert order.created_at == NOW
    assert order.request == request()


@pytest.mark.parametrize(
    "payload",
    [
        '{"ErrorInfo":{"ErrorCode":"TradeNotCompleted","Message":"Trade not completed"}}',
        '{"OrderId":"1","ErrorInfo":{"ErrorCode":"TradeNotCompleted"}}',
        '{"ErrorInfo":{"ErrorCode":"OrderCommandPending","Message":"pending"}}',
        '{"OrderId":"1","ErrorInfo":{"ErrorCode":"MarketClosed"}}',
        '{"ExternalReference":"x"}',
        "{}",
        '{"OrderId":true}',
        '{"OrderId":"1","ExternalReference":"someone-else"}',
        '{"ErrorInfo":"broken"}',
        "[]",
    ],
)
def test_placed_order_outcome_unknown(payload: str) -> None:
    """No OrderId is no success, even on a 2xx: the order may exist."""
    with pytest.raises(OrderOutcomeUnknown) as caught:
        placed_order(load(payload), request=request(), now=NOW)
    assert caught.value.client_order_id == CID
    assert caught.value.broker == "saxo"
    assert "never sent again" in str(caught.value)


def test_placed_order_rejections() -> None:
    """A business rejection wrapped in ErrorInfo without OrderId: the code is kept."""
    payload = load(
        '{"ErrorInfo":{"ErrorCode":"MarketClosed","Message":"Market is closed\\r\\nTry later"}}'
    )
    with pytest.raises(OrderRejected) as caught:
        placed_order(payload, request=request(), now=NOW)
    assert caught.value.code == "MarketClosed"
    assert "Market is closed Try later" in str(caught.value)
    assert not isinstance(caught.value, InsufficientFunds)
    with pytest.raises(InsufficientFunds) as funds:
        placed_order(
            load('{"ErrorInfo":{"ErrorCode":"InsufficientCash"}}'), request=request(), now=NOW
        )
    assert funds.value.code == "InsufficientCash"


def test_open_order_from_reads_an_open_order() -> None:
    """Open order fields: a GTC limit order, +02:00 order time converted to UTC."""
    order = open_order_from(load(OPEN_ORDER_JSON), connection_id=CONN)
    assert order.status is OrderStatus.OPEN
    assert order.broker_order_id == "5002749333"
    assert order.created_at == datetime(2024, 3, 5, 12, 31, 2, tzinfo=UTC)
    req = order.request
    assert req.account_id == ACCOUNT_KEY
    assert req.client_order_id == CID
    assert req.instrument == AAPL
    assert req.side is Side.BUY
    assert req.order_type is OrderType.LIMIT
    assert req.quantity == Decimal(10)
    assert str(req.limit_price) == "150.25"
    assert req.time_in_force is TimeInForce.GTC


def test_open_order_from_partial_and_fallback_symbol() -> None:
    item = load(OPEN_ORDER_JSON)
    item["FilledAmount"] = 4
    del item["DisplayAndFormat"]
    item.update(OpenOrderType="Market", Duration={"DurationType": "DayOrder"})
    order = open_order_from(item, connection_id=CONN)
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.filled_quantity == Decimal(4)
    assert order.request.instrument.symbol == "211:Stock"
    assert order.request.limit_price is None
    assert order.request.time_in_force is TimeInForce.DAY


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"OpenOrderType": "StopLimit"}, "'OpenOrderType' is the text 'StopLimit': unsupported"),
        ({"ExternalReference": None}, "'ExternalReference' is null"),
        ({"ExternalReference": "x" * 50}, "longer than 36 characters"),
        (
            {"Duration": {"DurationType": "GoodTillDate"}},
            "'DurationType' is the text 'GoodTillDate'",
        ),
        ({"BuySell": "buy"}, "not Buy or Sell"),
        ({"Amount": 0}, "'Amount' is not greater than zero"),
        ({"Price": None}, "'Price' is missing"),
        ({"FilledAmount": 11}, "cannot fill more than its quantity"),
        ({"OrderTime": "2024-03-05T14:31:02"}, "no time zone"),
    ],
)
def test_open_order_from_refuses_malformed_orders(change: dict[str, Any], problem: str) -> None:
    item = load(OPEN_ORDER_JSON)
    item.update(change)
    if change.get("Price", 0) is None:
        del item["Price"]
    with pytest.raises(MalformedResponse) as caught:
        open_order_from(item, connection_id=CONN)
    assert "GET /port/v1/orders item" in str(caught.value)
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("status", "filled", "expected", "expected_filled"),
    [
        ("Placed", None, OrderStatus.OPEN, "0"),
        ("Working", 0, OrderStatus.OPEN, "0"),
        ("Changed", 3, OrderStatus.PARTIALLY_FILLED, "3"),
        ("Fill", 4, OrderStatus.PARTIALLY_FILLED, "4"),
        ("FinalFill", 10, OrderStatus.FILLED, "10"),
        ("FinalFill", None, OrderStatus.FILLED, "10"),
        ("Cancelled", None, OrderStatus.CANCELED, "0"),
        ("Cancelled", 2, OrderStatus.CANCELED, "2"),
        ("Expired", None, OrderStatus.EXPIRED, "0"),
        ("DoneForDay", None, OrderStatus.EXPIRED, "0"),
    ],
)
def test_activity_order_statuses(
    status: str, filled: int | None, expected: OrderStatus, expected_filled: str
) -> None:
    """Order activities' status enum → our status and filled quantity."""
    item = load(ACTIVITY_JSON)
    item["Status"] = status
    del item["FillAmount"]
    if filled is None:
        del item["FilledAmount"]
    else:
        item["FilledAmount"] = filled
    order = activity_order(item, connection_id=CONN, account_id=ACCOUNT_KEY)
    assert order.status is expected
    assert order.filled_quantity == Decimal(expected_filled)
    assert order.average_fill_price == (Decimal("172.4512") if order.filled_quantity > 0 else None)


def test_activity_order_reads_a_final_fill() -> None:
    """An order activities FinalFill entry: filled 10 at AveragePrice 172.4512, ActivityTime."""
    order = activity_order(load(ACTIVITY_JSON), connection_id=CONN, account_id=ACCOUNT_KEY)
    at = datetime(2024, 3, 5, 14, 31, 2, 123456, tzinfo=UTC)
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == Decimal(10)
    assert str(order.average_fill_price) == "172.4512"
    assert order.created_at == at
    assert order.updated_at == at
    assert order.request.side is Side.SELL
    assert order.request.order_type is OrderType.MARKET
    assert order.request.time_in_force is TimeInForce.DAY
    assert order.request.account_id == ACCOUNT_KEY
    assert order.request.client_order_id == CID
    no_duration = load(ACTIVITY_JSON)
    del no_duration["Duration"]
    assert (
        activity_order(
            no_duration, connection_id=CONN, account_id=ACCOUNT_KEY
        ).request.time_in_force
        is TimeInForce.DAY
    )


def test_activity_order_refuses_unknown_statuses_and_types() -> None:
    item = load(ACTIVITY_JSON)
    item["Status"] = "Rejected"
    with pytest.raises(MalformedResponse, match="'Status' is the text 'Rejected'"):
        activity_order(item, connection_id=CONN, account_id=ACCOUNT_KEY)
    item = load(ACTIVITY_JSON)
    item["OrderType"] = "TrailingStop"
    with pytest.raises(MalformedResponse, match="unsupported order type"):
        activity_order(item, connection_id=CONN, account_id=ACCOUNT_KEY)


def test_cancel_results_reads_each_order() -> None:
    """Cancel: ``{"Orders":[{"OrderId":"76289286"}]}``, per-order failures in ErrorInfo."""
    assert cancel_results(load('{"Orders":[{"OrderId":"76289286"}]}')) == {"76289286": None}
    payload = load(
        '{"Orders":[{"OrderId":"1"},{"OrderId":"2","ErrorInfo":{"ErrorCode":"OrderNotFound",'
        '"Message":"Order not found"}},{"OrderId":3,"ErrorInfo":{"ErrorCode":"TooLateToCancelOrder"}}]}'
    )
    assert cancel_results(payload) == {"1": None, "2": "OrderNotFound", "3": "TooLateToCancelOrder"}
    with pytest.raises(MalformedResponse, match="'Orders' is missing"):
        cancel_results({})
    with pytest.raises(MalformedResponse, match="'ErrorCode' is missing"):
        cancel_results({"Orders": [{"OrderId": "1", "ErrorInfo": {}}]})


# --- errors --------------------------------------------------------------------------------------


def test_error_from_reads_the_documented_model_state_error() -> None:
    """The standard error body with ModelState: the code, the message, the first field problem."""
    error = error_from(400, MODEL_STATE_JSON.encode())
    assert error == SaxoError(
        400,
        "InvalidModelState",
        "One or more properties of the request are invalid! (ToOpenClose: ToOpenClose must be "
        "set to either ToClose or ToOpen when AssetType=FuturesOption,StockIndexOption,"
        "StockOption,CfdIndexOption)",
    )


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (
            b'{"ErrorInfo":{"ErrorCode":"OrderNotPlaced","Message":"Order not placed\\r\\nas other order was rejected"}}',
            "OrderNotPlaced",
            "Order not placed as other order was rejected",
        ),
        (
            b'{"error":"invalid_grant","error_description":"Refresh token expired"}',
            "invalid_grant",
            "Refresh token expired",
        ),
        (
            b'{"Orders":[{"OrderId":"1","ErrorInfo":{"ErrorCode":"TooLateToCancelOrder","Message":"Too late"}}]}',
            "TooLateToCancelOrder",
            "Too late",
        ),
        (b'{"ErrorCode":"RateLimitExceeded"}', "RateLimitExceeded", "HTTP 400 RateLimitExceeded"),
        (b'{"Message":"Something went wrong"}', None, "Something went wrong"),
        (b'{"unexpected":1}', None, "HTTP 400 with an unrecognised JSON body"),
        (b'["a"]', None, "HTTP 400 with an unrecognised JSON body"),
    ],
)
def test_error_from_shapes(content: bytes, code: str | None, message: str) -> None:
    """The ErrorInfo wrapper and per-order ErrorInfo; the token endpoint's OAuth errors."""
    assert error_from(400, content) == SaxoError(400, code, message)


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (401, b""),
        (404, b"<!DOCTYPE html><html><head><title>404 Not Found</title></head></html>"),
        (503, b"Service Unavailable"),
        (502, b"\xff\xfe"),
    ],
)
def test_error_from_without_json(status: int, content: bytes) -> None:
    """401 bodies are typically empty; a wrong URL answers HTML. The body is never echoed."""
    error = error_from(status, content)
    assert error == SaxoError(status, None, f"HTTP {status} with no JSON body")


def test_error_from_caps_flattens_and_masks() -> None:
    """Messages are one line, at most 300 characters, and never carry token-like text."""
    token = "eyJhbGciOiJFUzI1NiIsIng1dCI6IjI3RTlCOTAzRUNGMjExMDlBREU1RTVCOUVDMDgxNkI2QjQ5REEwRkYifQ"
    body = json.dumps(
        {"ErrorCode": "InvalidRequest", "Message": f"Bad\r\ntoken {token} " + "x " * 400}
    ).encode()
    error = error_from(400, body)
    assert len(error.message) == 300
    assert "\r" not in error.message
    assert "\n" not in error.message
    assert token[:16] not in error.message
    assert error.message.startswith("Bad token [redacted] x x")
    oauth = error_from(
        400, b'{"error":"invalid_request","error_description":"refresh_token=5a1c9e9 is bad"}'
    )
    assert "5a1c9e9" not in oauth.message


def test_error_from_many_model_state_fields_are_brief() -> None:
    body = json.dumps(
        {
            "ErrorCode": "InvalidModelState",
            "Message": "Invalid",
            "ModelState": {f"F{i}": [f"F{i} is wrong", "again"] for i in range(6)},
        }
    ).encode()
    assert error_from(400, body).message == (
        "Invalid (F0: F0 is wrong; F1: F1 is wrong; F2: F2 is wrong; and 3 more)"
    )


def test_timezone_offsets_are_honoured_exactly() -> None:
    """Position times: ``+02:00`` and ``Z`` describe the same instant when they should."""
    a = utc_time({"T": "2016-09-02T12:25:00+02:00"}, "T", what="w")
    b = utc_time({"T": "2016-09-02T10:25:00Z"}, "T", what="w")
    assert a == b == datetime(2016, 9, 2, 12, 25, tzinfo=timezone(timedelta(hours=2)))
