"""The fast trade path (msgspec, bytes to trades) accepts exactly what the strict reader accepts,
builds the same trades, and refuses everything else with the strict reader's own sentence.

Every page here goes the way the adapter reads it: JSON bytes through
:func:`decode_spot_page` / :func:`decode_futures_page`, then :func:`symbol_page`. The expected
result is what the strict reader of ``_mapping`` makes of the same rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, BrokerMaker

from tradecore.domain import Account, AssetType, Instrument, Side, Trade
from tradecore.domain.trade import unchecked_trade
from tradecore.errors import MalformedResponse
from tradecore_adapters.binance._fast_trades import (
    FastRows,
    decode_futures_page,
    decode_spot_page,
    fast_trades,
)
from tradecore_adapters.binance._mapping import futures_trades, spot_trades
from tradecore_adapters.binance._trade_pages import symbol_page

SPOT = Account(connection_id="conn-1", account_id="spot", name="Spot")
FUTURES = Account(connection_id="conn-1", account_id="usdm-futures")
BNBBTC = Instrument(symbol="BNBBTC", asset_type=AssetType.SPOT)
BTCUSDT_PERP = Instrument(symbol="BTCUSDT", asset_type=AssetType.FUTURE)
INT64_MAX = 2**63 - 1

# Binance's documented samples (the same as test_binance_mapping.py's).
SPOT_ROW: dict[str, Any] = {
    "symbol": "BNBBTC", "id": 28457, "orderId": 100234, "orderListId": -1,
    "price": "4.00000100", "qty": "12.00000000", "quoteQty": "48.000012",
    "commission": "10.10000000", "commissionAsset": "BNB", "time": 1499865549590,
    "isBuyer": True, "isMaker": False, "isBestMatch": True,
}  # fmt: skip
FUTURES_ROW: dict[str, Any] = {
    "buyer": False, "commission": "-0.07819010", "commissionAsset": "USDT", "id": 698759,
    "maker": False, "orderId": 25851813, "price": "7819.01", "qty": "0.002",
    "quoteQty": "15.63802", "realizedPnl": "-0.91539999", "side": "SELL", "positionSide": "SHORT",
    "symbol": "BTCUSDT", "time": 1569514978020,
}  # fmt: skip


def _bytes(rows: Any) -> bytes:
    return json.dumps(rows).encode()


def _spot_page(rows: Any, from_id: int = 0) -> Any:
    return symbol_page(
        decode_spot_page(_bytes(rows)),
        futures=False,
        account=SPOT,
        instrument=BNBBTC,
        from_id=from_id,
    )


def _strict_refusal(rows: Any) -> str:
    with pytest.raises(MalformedResponse) as caught:
        spot_trades(rows, account=SPOT, instrument=BNBBTC)
    return str(caught.value)


def _rows(**change: Any) -> list[dict[str, Any]]:
    return [{**SPOT_ROW, "id": 28450}, {**SPOT_ROW, **change}]


def test_a_float_amount_is_refused_with_the_broker_payload_error() -> None:
    # Binance sends amounts as JSON strings; a JSON number where a string belongs is refused
    # (the symbol's page, with the sentence the adapter always gave), never read as a float.
    page = _spot_page(_rows(qty=12.5))
    assert page.trades == []
    assert page.next_id == 0
    assert page.refused is not None
    assert (
        "Binance GET /api/v3/myTrades BNBBTC: row 1: 'qty' is a JSON float; decimals must be JSON strings"
        in page.refused
    )


@pytest.mark.parametrize(
    "change",
    [
        {"qty": 12.0},
        {"price": 4.000001},
        {"commission": 1e-8},
        {"qty": "abc"},
        {"qty": "NaN"},
        {"price": "Infinity"},
        {"qty": "-12.00000000"},
        {"qty": "0.00000000"},
        {"qty": " 12"},
        {"qty": "12\n"},
        {"qty": "1\n2"},
        {"qty": "1_2"},
        {"price": "\uff14"},
        {"commission": None},
        {"commission": ["10.1"]},
        {"id": "28457"},
        {"id": True},
        {"id": 28457.0},
        {"id": 99999999999999999999999},
        {"id": INT64_MAX},
        {"id": -1},
        {"orderId": -1},
        {"orderId": INT64_MAX + 1},
        {"time": "1499865549590"},
        {"time": 10**20},
        {"time": 0},
        {"time": 7_258_118_400_000},
        {"isBuyer": "true"},
        {"isBuyer": 1},
        {"commissionAsset": ""},
        {"symbol": "BTCUSDT"},
        {"price": "1" + "0" * 30},
        {"price": "-4.00000100"},
        {"price": "0.0000000000000001"},
        {"qty": "1234567890.1234567891"},
        {"qty": "1E+20"},
        {"commission": "-1" + "0" * 20},
    ],
    ids=lambda change: f"{next(iter(change))}={next(iter(change.values()))!r}",
)
def test_a_value_the_strict_reader_refuses_is_refused_with_its_sentence(
    change: dict[str, Any],
) -> None:
    rows = _rows(**change)
    page = _spot_page(rows)
    assert page.trades == []
    assert page.next_id == 0, "the symbol's next id is kept"
    assert page.refused is not None
    assert page.refused.startswith(_strict_refusal(rows) + "; Binance sent an invalid value")


@pytest.mark.parametrize("missing", ["id", "orderId", "qty", "commissionAsset", "isBuyer"])
def test_a_missing_field_is_refused_with_the_strict_sentence(missing: str) -> None:
    row = dict(SPOT_ROW)
    del row[missing]
    page = _spot_page([row])
    assert page.refused is not None
    assert page.refused.startswith(_strict_refusal([row]))


def test_a_page_that_is_not_rows_is_refused_and_a_body_that_is_not_json_fails() -> None:
    for payload in ({"code": 0}, None, [["BNBBTC", 28457]]):
        page = _spot_page(payload)
        assert page.refused is not None
        assert page.refused.startswith(_strict_refusal(payload))
    with pytest.raises(ValueError, match="Expecting value"):
        decode_spot_page(b"<html>")


def test_what_the_strict_reader_accepts_beyond_the_fast_set_is_still_accepted() -> None:
    # Binance never sends these, but the strict reader accepts them: so does the adapter.
    for change in (
        {"qty": 12},  # a JSON integer amount
        {"price": "1E-8"},  # exponent notation
        {"price": "4.0000000000000000000"},  # trailing zeros past 12 places
        {"commission": "+1.5"},
        {"id": INT64_MAX - 1, "orderId": INT64_MAX},  # the largest legal ids
    ):
        rows = _rows(**change)
        decoded = decode_spot_page(_bytes(rows))
        page = symbol_page(decoded, futures=False, account=SPOT, instrument=BNBBTC, from_id=0)
        assert page.refused is None, change
        assert page.trades == spot_trades(rows, account=SPOT, instrument=BNBBTC)
        assert _exact(page.trades) == _exact(spot_trades(rows, account=SPOT, instrument=BNBBTC))


def _exact(trades: list[Trade]) -> list[tuple[Any, ...]]:
    # Equal Decimals may differ in exponent ("12.00" vs "12"): compare digits and exponent too.
    return [
        (t, t.quantity.as_tuple(), t.price.as_tuple(), t.fee.as_tuple(), t.executed_at.tzinfo)
        for t in trades
    ]


_AMOUNT = st.decimals(
    min_value=Decimal("0.00000001"),
    max_value=Decimal("99999999"),
    places=8,
    allow_nan=False,
    allow_infinity=False,
)


@given(
    qty=_AMOUNT,
    price=_AMOUNT | st.just(Decimal("0E-8")),
    fee=_AMOUNT | _AMOUNT.map(lambda d: -d),
    ids=st.lists(st.integers(0, INT64_MAX - 1), min_size=1, max_size=5, unique=True),
    buyer=st.booleans(),
    time=st.integers(631_152_000_000, 4_102_444_799_999),
)
def test_binance_formatted_rows_go_the_fast_way_and_make_the_strict_readers_trades(
    qty: Decimal, price: Decimal, fee: Decimal, ids: list[int], buyer: bool, time: int
) -> None:
    rows = [
        {
            **SPOT_ROW,
            "id": trade_id,
            "qty": f"{qty:f}",
            "price": f"{price:f}",
            "commission": f"{fee:f}",
            "isBuyer": buyer,
            "time": time,
        }
        for trade_id in ids
    ]
    decoded = decode_spot_page(_bytes(rows))
    assert isinstance(decoded, FastRows)
    fast = fast_trades(decoded, account=SPOT, instrument=BNBBTC)
    assert fast is not None, "Binance's own format takes the fast path"
    trades, highest = fast
    assert highest == max(ids)
    assert _exact(trades) == _exact(spot_trades(rows, account=SPOT, instrument=BNBBTC))


def test_futures_rows_fast_and_strict_agree_and_a_bad_side_is_refused() -> None:
    rows = [FUTURES_ROW, {**FUTURES_ROW, "id": 698760, "side": "BUY"}]
    decoded = decode_futures_page(_bytes(rows))
    page = symbol_page(decoded, futures=True, account=FUTURES, instrument=BTCUSDT_PERP, from_id=5)
    assert fast_trades(decoded, account=FUTURES, instrument=BTCUSDT_PERP) is not None
    strict = futures_trades(rows, account=FUTURES, instrument=BTCUSDT_PERP)
    assert _exact(page.trades) == _exact(strict)
    assert [t.side for t in page.trades] == [Side.SELL, Side.BUY]
    assert page.trades[0].fee == Decimal("-0.07819010")
    assert page.next_id == 698761
    bad = symbol_page(
        decode_futures_page(_bytes([{**FUTURES_ROW, "side": "SHORT"}])),
        futures=True,
        account=FUTURES,
        instrument=BTCUSDT_PERP,
        from_id=0,
    )
    assert bad.refused is not None
    assert "userTrades BTCUSDT: row 0: 'side' is the text 'SHORT', not BUY or SELL" in bad.refused


def test_a_page_older_than_the_from_id_is_refused_on_the_fast_path_too() -> None:
    page = _spot_page([SPOT_ROW], from_id=28458)
    assert page.refused is not None
    assert "BNBBTC trades older than the requested fromId 28458" in page.refused


def test_unchecked_trade_equals_the_validated_trade() -> None:
    fields: dict[str, Any] = {
        "connection_id": "c",
        "account_id": "spot",
        "broker_trade_id": "1",
        "broker_order_id": "2",
        "instrument": BNBBTC,
        "side": Side.BUY,
        "quantity": Decimal("0.010"),
        "price": Decimal("4.5"),
        "fee": Decimal("-0.1"),
        "fee_asset": "BNB",
        "executed_at": datetime(2024, 1, 2, tzinfo=UTC),
    }
    trade = unchecked_trade(**fields)
    assert trade == Trade(**fields)
    assert hash(trade) == hash(Trade(**fields))
    assert trade.client_order_id is None


async def test_the_adapter_refuses_a_float_amount_from_binance(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    # End to end through the client: the fake answers BTCUSDT's myTrades with a float qty.
    fake.accounts[API_KEY].add_trades("BTCUSDT", 3)
    row = {**SPOT_ROW, "symbol": "BTCUSDT", "qty": 0.5}
    fake.script("GET", "/api/v3/myTrades", json=[row])
    broker = make_broker(symbols="BTCUSDT")
    spot = Account(connection_id="conn-binance", account_id="spot")
    page = await broker.get_trades(spot)
    assert page.trades == ()
    (refused,) = page.refused
    assert (
        "myTrades BTCUSDT: row 0: 'qty' is a JSON float; decimals must be JSON strings" in refused
    )
    assert json.loads(page.cursor or "")["next"]["BTCUSDT"] == 0
