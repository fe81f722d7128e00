"""ScriptedFaults: a fault stays armed until cleared, placements and reads meet their own
faults, and placements are counted whatever happens to them."""

from __future__ import annotations

import pytest

from tradecore.testing import Fault, FaultKind, ScriptedFaults, VenueFaults


def test_it_is_a_venue_faults() -> None:
    assert isinstance(ScriptedFaults(), VenueFaults)


def test_a_read_fault_stays_armed_until_cleared_and_spares_placements() -> None:
    faults = ScriptedFaults()
    faults.rate_limit(7)
    assert faults.on_request(placement=False) == Fault(FaultKind.RATE_LIMIT, 7)
    assert faults.on_request(placement=False) == Fault(FaultKind.RATE_LIMIT, 7)
    assert faults.on_request(placement=True) is None
    faults.clear()
    assert faults.on_request(placement=False) is None


def test_a_lost_answer_meets_placements_only_and_every_placement_is_counted() -> None:
    faults = ScriptedFaults()
    faults.lose_answers_after_execution()
    assert faults.on_request(placement=False) is None
    assert faults.on_request(placement=True) == Fault(FaultKind.LOSE_ANSWER)
    faults.clear()
    assert faults.on_request(placement=True) is None
    assert faults.placements() == 2


def test_the_last_read_fault_armed_wins() -> None:
    faults = ScriptedFaults()
    faults.answer_malformed()
    faults.time_out()
    assert faults.on_request(placement=False) == Fault(FaultKind.TIMEOUT)
    faults.answer_html_error_page()
    assert faults.on_request(placement=False) == Fault(FaultKind.HTML_ERROR_PAGE)


def test_a_rate_limit_needs_a_wait_of_at_least_a_second() -> None:
    with pytest.raises(ValueError, match="retry_after"):
        ScriptedFaults().rate_limit(0)
