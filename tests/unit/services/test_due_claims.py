"""A pass's claim queue (tradecore.services.due_claims): several cycles per claim, and a lease
that waited in the queue renewed before its cycle starts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from attrs import evolve

from tradecore.domain import Lease, Trigger
from tradecore.services.due_claims import DueClaims
from tradecore.testing import FakeClock
from tradecore.testing.builders import DEFAULT_TIME

TTL = timedelta(seconds=60)


def lease(n: int) -> Lease:
    return Lease(
        user_id=f"u{n}",
        owner="a:1:aa",
        fencing=1,
        run_id=f"run{n}",
        trigger=Trigger.CRON,
        claimed_at=DEFAULT_TIME,
        expires_at=DEFAULT_TIME + TTL,
    )


class Store:
    """Due cycles to hand out, and what was asked of it."""

    def __init__(self, due: int, *, lost: frozenset[str] = frozenset()) -> None:
        self.due = [lease(n) for n in range(due)]
        self.limits: list[int] = []
        self.renewed: list[str] = []
        self.lost = lost

    async def claim(self, limit: int) -> Sequence[Lease]:
        self.limits.append(limit)
        taken, self.due = self.due[:limit], self.due[limit:]
        return taken

    async def renew(self, held: Lease) -> Lease | None:
        self.renewed.append(held.user_id)
        if held.user_id in self.lost:
            return None
        return evolve(held, expires_at=held.expires_at + TTL)


def claims(store: Store, clock: FakeClock, batch: int = 3) -> DueClaims:
    return DueClaims(
        claim=store.claim, renew=store.renew, batch=batch, fresh_for=TTL / 3, clock=clock
    )


async def test_one_claim_serves_several_cycles_until_nothing_is_due() -> None:
    store, clock = Store(due=5), FakeClock(DEFAULT_TIME)
    queue = claims(store, clock)
    taken = []
    while (claimed := await queue.next()) is not None:
        taken.append(claimed)
    assert [(held.user_id, ok) for held, ok in taken] == [(f"u{n}", True) for n in range(5)]
    assert store.limits == [3, 3, 3]  # 3 + 2, then the empty claim that ends the pass
    assert store.renewed == []  # none waited: no renewal


async def test_a_lease_that_waited_a_third_of_its_time_is_renewed_before_it_runs() -> None:
    store, clock = Store(due=2), FakeClock(DEFAULT_TIME)
    queue = claims(store, clock)
    first = await queue.next()
    assert first is not None
    assert store.renewed == []
    clock.advance(TTL / 3)  # the first cycle took a third of the lease's time
    second = await queue.next()
    assert store.renewed == ["u1"]
    assert second == (evolve(lease(1), expires_at=DEFAULT_TIME + 2 * TTL), True)


async def test_a_lease_lost_while_waiting_is_handed_back_as_lost() -> None:
    store, clock = Store(due=2, lost=frozenset({"u1"})), FakeClock(DEFAULT_TIME)
    queue = claims(store, clock)
    await queue.next()
    clock.advance(TTL)
    assert await queue.next() == (lease(1), False)
    assert await queue.next() is None
