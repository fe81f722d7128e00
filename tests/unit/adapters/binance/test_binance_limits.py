"""The request-weight budget slows down before Binance's limit ("LIMITS",
https://developers.binance.com/docs/binance-spot-api-docs/)."""

from __future__ import annotations

from tradecore_adapters.binance._limits import WeightBudget

MINUTE = 60_000
T0 = 1_700_000_000_000 - 1_700_000_000_000 % MINUTE  # the start of a minute


def test_requests_pass_while_under_the_ceiling() -> None:
    budget = WeightBudget(limit=100, headroom=0.9)
    assert budget.reserve(20, T0) == 0
    budget.settle(20, used=20, now_ms=T0 + 10)
    assert budget.reserve(20, T0 + 20) == 0
    assert budget.in_flight == 20


def test_waits_for_the_next_minute_before_crossing_the_ceiling() -> None:
    budget = WeightBudget(limit=100, headroom=0.9)
    budget.reserve(20, T0)
    budget.settle(20, used=80, now_ms=T0 + 1_000)  # other processes spent weight too
    wait = budget.reserve(20, T0 + 30_000)
    assert 30.0 < wait <= 30.5  # the rest of the minute and a small margin
    assert budget.in_flight == 0, "nothing is reserved while waiting"
    assert budget.reserve(20, T0 + MINUTE + 300) == 0, "a new minute starts from zero"


def test_requests_in_flight_count_against_the_ceiling() -> None:
    budget = WeightBudget(limit=100, headroom=0.9)
    assert [budget.reserve(20, T0) for _ in range(4)] == [0, 0, 0, 0]
    assert budget.reserve(20, T0) > 0, "a fifth request of 20 would reach 100 > 90"


def test_header_from_an_earlier_minute_does_not_block_the_new_one() -> None:
    budget = WeightBudget(limit=100)
    budget.reserve(10, T0)
    budget.settle(10, used=89, now_ms=T0 + 100)
    assert budget.reserve(10, T0 + MINUTE + 1) == 0


def test_retry_after_pauses_every_request() -> None:
    budget = WeightBudget(limit=6000)
    budget.pause(3.0, T0)
    assert budget.reserve(1, T0 + 1_000) == 2.0
    assert budget.reserve(1, T0 + 3_000) == 0


def test_a_request_heavier_than_the_ceiling_goes_alone_at_the_start_of_a_minute() -> None:
    budget = WeightBudget(limit=10)
    assert budget.reserve(20, T0) == 0
