"""The stored Saxo trade cursor round-trips and refuses what it did not write, saying how to reset
it (``tradecore sync --reset-cursor``)."""

from __future__ import annotations

from datetime import date

import pytest

from tradecore.errors import MalformedResponse
from tradecore_adapters.saxo._cursor import TradeCursor


def test_round_trip() -> None:
    cursor = TradeCursor(start=date(2026, 11, 20), seen={"5012", "5013"})
    assert cursor.to_text() == '{"v":1,"from":"2026-11-20","seen":["5012","5013"]}'
    assert TradeCursor.from_text(cursor.to_text()) == cursor


@pytest.mark.parametrize(
    "text",
    [
        "",
        '{"v":2,"from":"2026-11-20"}',
        '{"v":1,"from":"2026-13-01"}',
        '{"v":1,"from":"0001-01-01"}',  # a report from year 1: refused by Saxo at every sync
        '{"v":1,"from":"1989-12-31"}',
        '{"v":1,"from":"2100-01-01"}',
        '{"v":1,"from":"2026-11-20","seen":[5012]}',
    ],
)
def test_an_unreadable_cursor_says_how_to_reset_it(text: str) -> None:
    with pytest.raises(MalformedResponse) as caught:
        TradeCursor.from_text(text)
    assert "tradecore sync --reset-cursor ACCOUNT_KEY --connection NAME" in str(caught.value)
    assert "the trades already stored stay" in str(caught.value)


def test_the_first_and_last_days_of_the_range_are_cursors() -> None:
    for day in (date(1990, 1, 1), date(2099, 12, 31)):
        assert TradeCursor.from_text(TradeCursor(start=day).to_text()).start == day
