"""The claim rule of the domain (tradecore.domain.lease), which both repositories apply: who may
claim, when a slot is claimable, when a cycle is due and what a claim hands out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradecore.domain import AutomationConfig, AutomationState, Lease, Trigger
from tradecore.domain.lease import (
    FREE_SLOT,
    LeaseSlot,
    check_limit,
    check_owner,
    check_ttl,
    due_since,
    due_slot,
    due_time,
)
from tradecore.errors import DomainError

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=1)
A = "host-a:1:daemon"
B = "host-b:2:daemon"


def config(
    state: AutomationState = AutomationState.ACTIVE,
    due: int | None = -10,
    requested: int | None = None,
) -> AutomationConfig:
    """A config whose slot and request are ``due`` and ``requested`` minutes from :data:`NOW`."""
    return AutomationConfig(
        user_id="u1",
        state=state,
        next_due_at=None if due is None else NOW + timedelta(minutes=due),
        run_requested_at=None if requested is None else NOW + timedelta(minutes=requested),
    )


def held(until: datetime, *, fencing: int = 3, owner: str = A) -> LeaseSlot:
    return LeaseSlot(fencing=fencing, leased_by=owner, lease_until=until, lease_run_id="run-1")


@pytest.mark.parametrize("owner", ["", " ", "   ", "\t\n", None, 7])
def test_an_owner_is_a_name_with_something_other_than_whitespace(owner: object) -> None:
    with pytest.raises(DomainError, match="lease owner"):
        check_owner(owner)


def test_an_owner_is_kept_as_given() -> None:
    assert check_owner(" host:1:x ") == " host:1:x "


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-1), 60, None])
def test_a_ttl_is_a_positive_duration(ttl: object) -> None:
    with pytest.raises(DomainError, match="ttl"):
        check_ttl(ttl)
    assert check_ttl(TTL) == TTL


@pytest.mark.parametrize("limit", [-1, True, 1.0, "2"])
def test_a_limit_is_a_whole_number_of_at_least_zero(limit: object) -> None:
    with pytest.raises(DomainError, match="limit"):
        check_limit(limit)
    assert check_limit(0) == 0


def test_a_slot_is_claimable_when_free_or_expired_strictly_before_now() -> None:
    assert FREE_SLOT.claimable_at(NOW)
    assert held(NOW - timedelta(microseconds=1)).claimable_at(NOW)
    assert not held(NOW).claimable_at(NOW)  # the instant of expiry: neither held nor claimable
    assert not held(NOW + TTL).claimable_at(NOW)


def test_a_held_slot_holds_its_own_lease_only_while_unexpired() -> None:
    lease = claim(FREE_SLOT, config(), forced=False)
    slot = LeaseSlot.taken(lease)
    assert slot.names(lease)
    assert slot.holds(lease, NOW)
    assert not slot.holds(lease, lease.expires_at)
    assert slot.names(lease)  # expired, but nobody took it over
    assert not slot.released().names(lease)
    assert slot.released() == LeaseSlot(fencing=lease.fencing)
    assert slot.renewed(NOW + 2 * TTL).holds(lease, lease.expires_at)


def test_a_slot_needs_both_its_owner_and_its_expiry() -> None:
    with pytest.raises(DomainError, match="owner and its expiry"):
        LeaseSlot(leased_by=A)
    with pytest.raises(DomainError, match="owner and its expiry"):
        LeaseSlot(lease_until=NOW)
    with pytest.raises(DomainError, match="fencing"):
        LeaseSlot(fencing=-1)


def test_due_since_is_the_earlier_of_the_come_slot_and_the_request() -> None:
    assert due_since(config(due=-10, requested=-5), NOW) == NOW - timedelta(minutes=10)
    assert due_since(config(due=-10, requested=-15), NOW) == NOW - timedelta(minutes=15)
    assert due_since(config(due=5, requested=-1), NOW) == NOW - timedelta(minutes=1)
    assert due_since(config(due=5), NOW) is None
    assert due_since(config(AutomationState.PAUSED, due=-30), NOW) is None
    assert due_slot(config(AutomationState.PAUSED, due=-30), NOW) is None
    assert due_slot(config(due=0), NOW) == NOW


def test_due_time_and_wake_at() -> None:
    assert due_time(config(due=5, requested=3)) == NOW + timedelta(minutes=3)
    assert due_time(config(AutomationState.STOPPED, due=None)) is None
    assert due_time(config(AutomationState.PAUSED, due=5)) is None
    # Held: not before the lease lapses; free or lapsed: when due.
    assert held(NOW + TTL).wake_at(config(due=-10), NOW) == NOW + TTL
    assert held(NOW - TTL).wake_at(config(due=-10), NOW) == NOW - timedelta(minutes=10)
    assert held(NOW + TTL).wake_at(config(due=30), NOW) == NOW + timedelta(minutes=30)
    assert held(NOW + TTL).wake_at(config(AutomationState.STOPPED, due=None), NOW) is None


def claim(
    slot: LeaseSlot,
    config: AutomationConfig,
    *,
    forced: bool,
    owner: str = B,
    trigger: Trigger = Trigger.CRON,
) -> Lease:
    """``slot.claim`` by :data:`B` at :data:`NOW` for :data:`TTL`."""
    return slot.claim(config, owner=owner, ttl=TTL, now=NOW, trigger=trigger, forced=forced)


def test_a_claim_hands_out_the_next_token_the_due_slot_and_the_request() -> None:
    lapsed = held(NOW - TTL, fencing=3)
    lease = claim(lapsed, config(due=-10, requested=-5), forced=False)
    assert (lease.user_id, lease.owner, lease.fencing) == ("u1", B, 4)
    assert (lease.claimed_at, lease.expires_at) == (NOW, NOW + TTL)
    assert lease.due_at == NOW - timedelta(minutes=10)
    assert lease.requested_at == NOW - timedelta(minutes=5)
    assert lease.trigger is Trigger.CRON
    assert lease.interrupted_run_id == "run-1"  # the lapsed lease's run, for B to close
    assert claim(FREE_SLOT, config(), forced=False).interrupted_run_id is None
    released = LeaseSlot(fencing=3, lease_run_id=None)
    assert claim(released, config(), forced=False).interrupted_run_id is None


def test_a_due_claim_serving_only_a_request_was_asked_for_by_a_person() -> None:
    request_only = config(AutomationState.PAUSED, due=-10, requested=-1)
    assert claim(FREE_SLOT, request_only, forced=False).trigger is Trigger.MANUAL
    # A forced claim keeps its trigger, and serves whatever is due.
    forced = claim(FREE_SLOT, request_only, forced=True, trigger=Trigger.SCHEDULE)
    assert (forced.trigger, forced.due_at) == (Trigger.SCHEDULE, None)


def test_a_claim_is_refused_on_a_held_slot_a_cycle_not_due_or_a_blank_owner() -> None:
    with pytest.raises(DomainError, match="cannot be claimed before the lease lapses"):
        claim(held(NOW), config(), forced=True)
    with pytest.raises(DomainError, match="not due"):
        claim(FREE_SLOT, config(due=5), forced=False)
    assert claim(FREE_SLOT, config(due=5), forced=True).due_at is None
    with pytest.raises(DomainError, match="lease owner"):
        claim(FREE_SLOT, config(), forced=True, owner="   ")
