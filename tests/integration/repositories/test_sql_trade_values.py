"""The SQLite bulk path writes a trade's values exactly as the column types would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tradecore.testing.builders import make_trade
from tradecore_adapters.sqlalchemy._rows import TRADE_COLUMNS
from tradecore_adapters.sqlalchemy._trade_inserts import sqlite_trade_values
from tradecore_adapters.sqlalchemy._types import sqlite_datetime, sqlite_decimal

_AMOUNT = st.decimals(
    min_value=Decimal("0.000000000001"),
    max_value=Decimal("999999999"),
    allow_nan=False,
    allow_infinity=False,
)


@given(
    quantity=_AMOUNT,
    price=_AMOUNT | st.just(Decimal("0E-8")),
    fee=_AMOUNT.map(lambda d: -d) | _AMOUNT,
    when=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    ),
    offset_hours=st.integers(-12, 12),
)
def test_the_values_are_those_of_exact_decimal_and_utc_datetime(
    quantity: Decimal, price: Decimal, fee: Decimal, when: datetime, offset_hours: int
) -> None:
    # A time given in another zone is stored in UTC (the domain converts it on the way in).
    local = when.astimezone(timezone(timedelta(hours=offset_hours)))
    trade = make_trade(quantity=quantity, price=price, fee=fee, executed_at=local)
    values = dict(zip(TRADE_COLUMNS, sqlite_trade_values("u1", trade), strict=True))
    assert values["quantity"] == sqlite_decimal(quantity)
    assert values["price"] == sqlite_decimal(price)
    assert values["fee"] == sqlite_decimal(fee)
    assert values["executed_at"] == sqlite_datetime(when)
    assert len(values["executed_at"]) == 26
