"""The rule for amounts people type (quantities, prices, notional limits)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradecore.domain import MAX_AMOUNT, checked_amount
from tradecore.errors import DomainError


@pytest.mark.parametrize(
    "text", ["1", "0.5", "0.000000000001", "999999999999999.99", "123456789.123456789"]
)
def test_amounts_within_the_bounds_are_kept_as_given(text: str) -> None:
    assert checked_amount("quantity", Decimal(text)) == Decimal(text)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("99999999999999999999999999999999"), "must be less than 1,000,000,000,000,000"),
        (MAX_AMOUNT, "must be less than"),
        (Decimal(0), "must be greater than 0, got 0"),
        (Decimal("-1"), "must be greater than 0"),
        (Decimal("NaN"), "must be a finite number"),
        (Decimal("Infinity"), "must be a finite number"),
        (Decimal("0.0000000000001"), "at most 12 decimal places, got 0.0000000000001"),
        (Decimal("123456789012.1234567"), "at most 18 significant digits"),
        (0.5, "must be an exact decimal number, got float"),
    ],
)
def test_amounts_outside_the_bounds_are_refused_in_one_sentence(
    value: Decimal, message: str
) -> None:
    with pytest.raises(DomainError, match=message) as caught:
        checked_amount("quantity", value)
    assert str(caught.value).startswith("a quantity ")
    assert "\n" not in str(caught.value)
