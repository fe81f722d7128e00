"""An equity point is one connection's value in one currency at one sync: the exact sum of the
market values reported in that currency, positions without one counted apart."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tradecore.domain import EquityPoint, equity_points
from tradecore.errors import DomainError
from tradecore.testing.builders import DEFAULT_TIME, make_position

AT = DEFAULT_TIME


def test_values_are_summed_exactly_per_currency_and_unpriced_ones_counted() -> None:
    positions = [
        make_position(connection_id="c1", symbol="A", currency="USD", market_value=Decimal("0.10")),
        make_position(connection_id="c1", symbol="B", currency="USD", market_value=Decimal("0.20")),
        make_position(connection_id="c1", symbol="C", currency="EUR", market_value=Decimal("-5")),
        make_position(connection_id="c1", symbol="D", currency="USD", market_value=None),
        make_position(connection_id="c1", symbol="E", currency=" ", market_value=Decimal(1)),
    ]

    points = equity_points("u1", "c1", positions, at=AT)

    assert [(p.currency, str(p.value), p.priced, p.unpriced) for p in points] == [
        ("EUR", "-5", 1, 2),
        ("USD", "0.30", 2, 2),
    ]
    assert {(p.user_id, p.connection_id, p.at) for p in points} == {("u1", "c1", AT)}


def test_nothing_priced_records_no_point() -> None:
    unpriced = [make_position(connection_id="c1", market_value=None)]

    assert equity_points("u1", "c1", unpriced, at=AT) == ()
    assert equity_points("u1", "c1", [], at=AT) == ()


def test_a_position_of_another_connection_is_refused() -> None:
    with pytest.raises(DomainError, match="not of connection 'c1'"):
        equity_points("u1", "c1", [make_position(connection_id="c2")], at=AT)


@pytest.mark.parametrize(
    "changes",
    [
        {"value": 1.5},
        {"priced": -1},
        {"unpriced": True},
        {"at": datetime(2026, 1, 1)},
        {"currency": ""},
    ],
)
def test_a_point_refuses_floats_negative_counts_naive_times_and_no_currency(
    changes: dict[str, object],
) -> None:
    values: dict[str, object] = {
        "user_id": "u1",
        "connection_id": "c1",
        "at": datetime(2026, 1, 1, tzinfo=UTC),
        "currency": "USD",
        "value": Decimal(1),
    }
    values.update(changes)
    with pytest.raises(DomainError):
        EquityPoint(**values)  # type: ignore[arg-type]
