"""The stored trade cursor round-trips and refuses what it did not write."""

from __future__ import annotations

import json

import pytest

from tradecore.errors import BrokerError
from tradecore_adapters.binance._cursor import TradeCursor


def test_round_trip() -> None:
    cursor = TradeCursor(
        next_ids={"ETHBTC": 7, "BTCUSDT": 1001},
        pending=("ETHBTC",),
        assets=("BTC", "ETH"),
        quotes=("USDT", "BTC"),
    )
    assert TradeCursor.parse(cursor.dump()) == cursor
    assert cursor.dump().startswith('{"v":1,"next":{"BTCUSDT":1001,"ETHBTC":7}')


def test_nothing_synced_yet() -> None:
    assert TradeCursor.parse(None) == TradeCursor()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12345",
        '{"v":2,"next":{}}',
        '{"v":1,"next":{"BTCUSDT":"12"}}',
        '{"v":1,"next":{"BTCUSDT":-1}}',
        '{"v":1,"next":{},"pending":"BTCUSDT"}',
        '{"v":1,"next":{},"assets":[1]}',
    ],
)
def test_unreadable_cursor_is_a_broker_error_that_says_what_to_do(text: str) -> None:
    with pytest.raises(BrokerError, match="sync cursor"):
        TradeCursor.parse(text)


@pytest.mark.parametrize("next_id", [10**23, 2**63, -1])
def test_a_next_id_binance_would_refuse_makes_the_cursor_unreadable_and_says_how_to_reset(
    next_id: int,
) -> None:
    text = json.dumps({"v": 1, "next": {"BTCUSDT": next_id, "ETHBTC": 7}})
    with pytest.raises(BrokerError) as caught:
        TradeCursor.parse(text)
    message = str(caught.value)
    assert f"the next trade id of BTCUSDT is {next_id}, outside 0..{2**63 - 1}" in message
    assert "tradecore sync --reset-cursor" in message
    assert "trades already stored stay" in message


def test_the_largest_int64_next_id_is_still_a_cursor() -> None:
    text = json.dumps({"v": 1, "next": {"BTCUSDT": 2**63 - 1}})
    assert TradeCursor.parse(text).next_ids == {"BTCUSDT": 2**63 - 1}
