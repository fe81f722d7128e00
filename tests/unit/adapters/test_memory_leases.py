"""The memory repository's leases, daemons and run pruning, on a fake store clock.

Beyond what every repository promises, these pin down the memory store's replay rule: a lease
write is decided when it is called and only re-checked when the unit commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from attrs import evolve

from tradecore.domain import (
    AutomationConfig,
    AutomationState,
    DaemonInfo,
    Lease,
    Trigger,
)
from tradecore.errors import DomainError, LeaseLost, NotFound, RepositoryError
from tradecore.testing import FakeClock
from tradecore.testing.builders import (
    DEFAULT_TIME,
    make_automation_config,
    make_run,
    make_user,
)
from tradecore.testing.contracts.repository import committing
from tradecore_adapters.memory import MemoryRepository
from tradecore_adapters.memory._session import RowLocks

TTL = timedelta(minutes=2)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DEFAULT_TIME)


@pytest.fixture
async def repository(clock: FakeClock) -> AsyncIterator[MemoryRepository]:
    repository = MemoryRepository(clock=clock)
    yield repository
    await repository.aclose()


async def add_user(
    repository: MemoryRepository, name: str = "alice", **config: object
) -> AutomationConfig:
    """Store a user with an automation config (active, due at DEFAULT_TIME unless told)."""
    user = make_user(name=name)
    automation = make_automation_config(user_id=user.id, **config)  # type: ignore[arg-type]
    async with committing(repository) as uow:
        await uow.users.add(user)
        await uow.automation.save(automation)
    return automation


async def claim_one(repository: MemoryRepository, owner: str = "a:1:x") -> Lease:
    async with committing(repository) as uow:
        (lease,) = await uow.leases.claim_due(owner, ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
    return lease


async def stored_config(repository: MemoryRepository, user_id: str) -> AutomationConfig:
    async with repository.unit_of_work() as uow:
        config = await uow.automation.get(user_id)
    assert config is not None
    return config


# -- claims ---------------------------------------------------------------------------------------


async def test_now_is_the_store_clock(repository: MemoryRepository, clock: FakeClock) -> None:
    clock.advance(MINUTE)
    async with repository.unit_of_work() as uow:
        assert await uow.leases.now() == DEFAULT_TIME + MINUTE


async def test_claim_due_takes_due_users_earliest_first_up_to_the_limit(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    late = await add_user(repository, "late", next_due_at=DEFAULT_TIME - MINUTE)
    early = await add_user(repository, "early", next_due_at=DEFAULT_TIME - 2 * MINUTE)
    await add_user(repository, "future", next_due_at=DEFAULT_TIME + MINUTE)
    await add_user(repository, "paused", state=AutomationState.PAUSED)
    await add_user(repository, "stopped", state=AutomationState.STOPPED, next_due_at=None)
    async with committing(repository) as uow:
        leases = await uow.leases.claim_due("a:1:x", ttl=TTL, limit=5, trigger=Trigger.CRON)
    assert [lease.user_id for lease in leases] == [early.user_id, late.user_id]
    first = leases[0]
    assert first.owner == "a:1:x"
    assert first.fencing == 1
    assert first.trigger is Trigger.CRON
    assert (first.claimed_at, first.expires_at) == (DEFAULT_TIME, DEFAULT_TIME + TTL)
    assert first.due_at == DEFAULT_TIME - 2 * MINUTE
    assert first.requested_at is None
    assert first.interrupted_run_id is None
    assert leases[0].run_id != leases[1].run_id
    async with repository.unit_of_work() as uow:
        (interval, _) = await uow.leases.intervals()
        assert (interval.user_id, interval.fencing, interval.run_id) == (
            early.user_id,
            1,
            first.run_id,
        )
        assert interval.released_at is None
        assert interval.outcome is None
        # Held now: nobody else can claim them.
        assert await uow.leases.claim_due("b:2:y", ttl=TTL, limit=5, trigger=Trigger.CRON) == []


async def test_limit_cuts_the_earliest_first(repository: MemoryRepository) -> None:
    await add_user(repository, "second", next_due_at=DEFAULT_TIME)
    first = await add_user(repository, "first", next_due_at=DEFAULT_TIME - MINUTE)
    async with committing(repository) as uow:
        (lease,) = await uow.leases.claim_due("a:1:x", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
        assert await uow.leases.claim_due("a", ttl=TTL, limit=0, trigger=Trigger.SCHEDULE) == []
    assert lease.user_id == first.user_id


async def test_a_claim_serving_only_a_run_request_is_manual(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    requested = await add_user(repository, "requested", state=AutomationState.PAUSED)
    both = await add_user(repository, "both")
    async with committing(repository) as uow:
        for user_id in (requested.user_id, both.user_id):
            config = await uow.automation.get_for_update(user_id)
            assert config is not None
            config.request_run(DEFAULT_TIME - MINUTE)
            await uow.automation.save(config)
    async with committing(repository) as uow:
        leases = await uow.leases.claim_due("a", ttl=TTL, limit=5, trigger=Trigger.SCHEDULE)
    by_user = {lease.user_id: lease for lease in leases}
    assert by_user[requested.user_id].trigger is Trigger.MANUAL
    assert by_user[requested.user_id].due_at is None
    assert by_user[requested.user_id].requested_at == DEFAULT_TIME - MINUTE
    assert by_user[both.user_id].trigger is Trigger.SCHEDULE
    assert by_user[both.user_id].due_at == DEFAULT_TIME
    assert by_user[both.user_id].requested_at == DEFAULT_TIME - MINUTE


async def test_an_expired_lease_is_taken_over_with_the_run_it_interrupted(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    config = await add_user(repository)
    first = await claim_one(repository, "a:1:x")
    clock.advance(TTL)  # exactly at the expiry: neither held nor claimable
    async with repository.unit_of_work() as uow:
        assert await uow.leases.claim_due("b", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE) == []
        assert await uow.leases.claim(config.user_id, "b", ttl=TTL, trigger=Trigger.CRON) is None
        assert await uow.leases.renew(first, ttl=TTL) is None
        assert await uow.leases.confirm(first) is False
    clock.advance(timedelta(seconds=1))
    second = await claim_one(repository, "b:2:y")
    assert second.fencing == 2
    assert second.interrupted_run_id == first.run_id
    assert second.claimed_at == DEFAULT_TIME + TTL + timedelta(seconds=1)
    async with repository.unit_of_work() as uow:
        lapsed, held = await uow.leases.intervals(config.user_id)
        assert lapsed.owner == "a:1:x"
        assert (lapsed.released_at, lapsed.outcome) == (None, None)
        assert lapsed.ended_at == DEFAULT_TIME + TTL
        assert held.owner == "b:2:y"
        assert lapsed.ended_at < held.claimed_at
        # The first owner lost it for good.
        assert await uow.leases.confirm(first) is False
        assert await uow.leases.release(first, completed=True) is False
        assert await uow.leases.confirm(second) is True


async def test_claim_forces_a_cycle_whatever_the_schedule(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    config = await add_user(repository, next_due_at=DEFAULT_TIME + timedelta(hours=1))
    async with repository.unit_of_work() as uow:
        with pytest.raises(NotFound):
            await uow.leases.claim("nobody", "a", ttl=TTL, trigger=Trigger.MANUAL)
        lease = await uow.leases.claim(config.user_id, "a", ttl=TTL, trigger=Trigger.SCHEDULE)
        assert lease is not None
        assert (lease.trigger, lease.due_at, lease.requested_at) == (Trigger.SCHEDULE, None, None)
        # Held, by this very owner too.
        assert await uow.leases.claim(config.user_id, "a", ttl=TTL, trigger=Trigger.MANUAL) is None
        await uow.commit()
    async with committing(repository) as uow:  # held beyond its next slot: wakes at the expiry
        assert await uow.leases.release(lease, completed=False)
        long = await uow.leases.claim(
            config.user_id, "a", ttl=timedelta(hours=2), trigger=Trigger.CRON
        )
        assert long is not None
        assert await uow.leases.next_wake() == DEFAULT_TIME + timedelta(hours=2)


async def test_a_claim_left_uncommitted_claims_nothing(repository: MemoryRepository) -> None:
    config = await add_user(repository)
    async with repository.unit_of_work() as uow:
        await uow.leases.claim_due("a", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
    async with repository.unit_of_work() as uow:
        assert await uow.leases.intervals() == []
        lease = await uow.leases.claim(config.user_id, "b", ttl=TTL, trigger=Trigger.SCHEDULE)
        assert lease is not None
        assert lease.fencing == 1


async def test_saving_a_config_leaves_the_lease_alone(repository: MemoryRepository) -> None:
    config = await add_user(repository)
    lease = await claim_one(repository)
    async with committing(repository) as uow:
        stored = await uow.automation.get_for_update(config.user_id)
        assert stored is not None
        stored.pause()
        await uow.automation.save(stored)
    async with repository.unit_of_work() as uow:
        assert await uow.leases.confirm(lease) is True
        assert await uow.leases.claim(config.user_id, "b", ttl=TTL, trigger=Trigger.CRON) is None


async def test_bad_arguments_are_refused(repository: MemoryRepository) -> None:
    async with repository.unit_of_work() as uow:
        with pytest.raises(DomainError):
            await uow.leases.claim_due("a", ttl=timedelta(0), limit=1, trigger=Trigger.CRON)
        with pytest.raises(DomainError):
            await uow.leases.claim_due("a", ttl=TTL, limit=-1, trigger=Trigger.CRON)
        with pytest.raises(DomainError):
            await uow.leases.prune_intervals(ended_before=DEFAULT_TIME.replace(tzinfo=None))
        with pytest.raises(DomainError):
            await uow.runs.prune(started_before=None, keep_per_user=0)


# -- renew, confirm, release ----------------------------------------------------------------------


async def test_renew_extends_the_lease_and_its_audit(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    await add_user(repository)
    lease = await claim_one(repository)
    clock.advance(MINUTE)
    async with committing(repository) as uow:
        renewed = await uow.leases.renew(lease, ttl=TTL)
        assert await uow.leases.renew(evolve(lease, owner="b"), ttl=TTL) is None
    assert renewed is not None
    assert renewed.expires_at == DEFAULT_TIME + MINUTE + TTL
    assert renewed.run_id == lease.run_id
    clock.advance(TTL - timedelta(seconds=1))  # past the first expiry, within the renewed one
    async with repository.unit_of_work() as uow:
        assert await uow.leases.confirm(renewed) is True
        (interval,) = await uow.leases.intervals()
        assert interval.expires_at == renewed.expires_at


async def test_release_completed_moves_the_schedule_on(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    config = await add_user(repository, next_due_at=DEFAULT_TIME - MINUTE)
    async with committing(repository) as uow:
        stored = await uow.automation.get_for_update(config.user_id)
        assert stored is not None
        stored.request_run(DEFAULT_TIME - MINUTE)
        await uow.automation.save(stored)
    lease = await claim_one(repository)
    clock.advance(MINUTE)
    async with committing(repository) as uow:
        assert await uow.leases.release(lease, completed=True) is True
    after = await stored_config(repository, config.user_id)
    assert after.next_due_at == DEFAULT_TIME + 29 * MINUTE
    assert after.last_run_at == DEFAULT_TIME + MINUTE
    assert after.run_requested_at is None
    async with repository.unit_of_work() as uow:
        (interval,) = await uow.leases.intervals()
        assert (interval.released_at, interval.outcome) == (DEFAULT_TIME + MINUTE, "completed")
        assert await uow.leases.confirm(lease) is False
        assert await uow.leases.release(lease, completed=True) is False  # once only
        # The slot is free, and the next claim interrupts nothing.
        clock.advance(timedelta(hours=1))
        again = await uow.leases.claim(config.user_id, "b", ttl=TTL, trigger=Trigger.CRON)
        assert again is not None
        assert (again.fencing, again.interrupted_run_id) == (2, None)


async def test_release_unfinished_leaves_the_schedule_for_another_scheduler(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    config = await add_user(repository)
    lease = await claim_one(repository)
    async with committing(repository) as uow:
        assert await uow.leases.release(lease, completed=False) is True
    assert await stored_config(repository, config.user_id) == config
    async with repository.unit_of_work() as uow:
        (interval,) = await uow.leases.intervals()
        assert interval.outcome == "released"
        assert [
            le.user_id
            for le in await uow.leases.claim_due("b", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
        ] == [config.user_id]


async def test_an_expired_lease_nobody_took_can_still_be_released(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    config = await add_user(repository)
    lease = await claim_one(repository)
    clock.advance(2 * TTL)
    async with committing(repository) as uow:
        assert await uow.leases.release(lease, completed=True) is True
    assert (await stored_config(repository, config.user_id)).last_run_at == DEFAULT_TIME + 2 * TTL


async def test_release_waits_for_a_control_and_keeps_its_change(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    config = await add_user(repository)
    lease = await claim_one(repository)
    clock.advance(MINUTE)
    async with repository.unit_of_work() as control:
        stored = await control.automation.get_for_update(config.user_id)
        assert stored is not None

        async def release() -> bool:
            async with committing(repository) as uow:
                return await uow.leases.release(lease, completed=True)

        releasing = asyncio.create_task(release())
        await asyncio.sleep(0)
        assert not releasing.done()
        stored.pause()
        await control.automation.save(stored)
        await control.commit()
    assert await releasing is True
    after = await stored_config(repository, config.user_id)
    assert after.state is AutomationState.PAUSED
    assert after.next_due_at == DEFAULT_TIME + 30 * MINUTE
    assert after.last_run_at == DEFAULT_TIME + MINUTE


# -- row locks: skipped by claim_due, waited for by everything else -------------------------------


async def test_claimers_skip_the_users_another_unit_is_claiming(
    repository: MemoryRepository,
) -> None:
    alice = await add_user(repository, "alice")
    bob = await add_user(repository, "bob", next_due_at=DEFAULT_TIME - MINUTE)
    async with repository.unit_of_work() as first:
        (bobs,) = await first.leases.claim_due("a", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
        assert bobs.user_id == bob.user_id
        async with committing(repository) as second:  # never waits for the first
            (alices,) = await second.leases.claim_due(
                "b", ttl=TTL, limit=2, trigger=Trigger.SCHEDULE
            )
        assert alices.user_id == alice.user_id
        await first.commit()
    async with repository.unit_of_work() as uow:
        intervals = await uow.leases.intervals()
    assert sorted((i.user_id, i.owner, i.fencing) for i in intervals) == sorted(
        [(bob.user_id, "a", 1), (alice.user_id, "b", 1)]
    )


async def test_claim_due_skips_a_user_whose_config_a_control_holds(
    repository: MemoryRepository,
) -> None:
    alice = await add_user(repository, "alice")
    async with repository.unit_of_work() as control:
        await control.automation.get_for_update(alice.user_id)
        async with repository.unit_of_work() as uow:
            assert await uow.leases.claim_due("a", ttl=TTL, limit=1, trigger=Trigger.CRON) == []
    lease = await claim_one(repository)
    assert lease.user_id == alice.user_id


async def test_a_confirmed_lease_is_not_taken_over_before_the_unit_ends(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    config = await add_user(repository)
    lease = await claim_one(repository, "a")
    async with repository.unit_of_work() as fenced:
        assert await fenced.leases.confirm(lease) is True
        clock.advance(2 * TTL)  # it lapses while the unit is open
        async with repository.unit_of_work() as uow:
            assert await uow.leases.claim_due("b", ttl=TTL, limit=1, trigger=Trigger.CRON) == []

        async def claim() -> Lease | None:
            async with committing(repository) as uow:
                return await uow.leases.claim(config.user_id, "b", ttl=TTL, trigger=Trigger.CRON)

        claiming = asyncio.create_task(claim())
        await asyncio.sleep(0)
        assert not claiming.done()  # a claim of that very user waits
        await fenced.commit()
    taken = await claiming
    assert taken is not None
    assert (taken.owner, taken.fencing, taken.interrupted_run_id) == ("b", 2, lease.run_id)


async def test_a_late_release_waits_for_the_takeover_and_changes_nothing(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    config = await add_user(repository)
    stale = await claim_one(repository, "a")
    clock.advance(TTL + MINUTE)
    async with repository.unit_of_work() as taking_over:
        (takeover,) = await taking_over.leases.claim_due(
            "b", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE
        )
        assert takeover.interrupted_run_id == stale.run_id

        async def release() -> bool:
            async with committing(repository) as uow:
                return await uow.leases.release(stale, completed=True)

        releasing = asyncio.create_task(release())
        await asyncio.sleep(0)
        assert not releasing.done()
        await taking_over.commit()
    assert await releasing is False
    assert await stored_config(repository, config.user_id) == config


async def test_a_row_lock_handed_to_a_waiter_is_not_taken_by_a_claimer() -> None:
    locks = RowLocks()
    holder, waiter, skipper = object(), object(), object()
    assert locks.try_acquire("row", holder)
    waiting = asyncio.create_task(locks.acquire("row", waiter))
    await asyncio.sleep(0)
    locks.release("row")  # handed to the waiter, which has not run yet
    assert not locks.try_acquire("row", skipper)
    await waiting
    assert not locks.try_acquire("row", skipper)
    locks.release("row")
    assert locks.try_acquire("row", skipper)


async def test_a_cancelled_waiter_passes_the_row_lock_on() -> None:
    locks = RowLocks()
    assert locks.try_acquire("row", "holder")
    cancelled = asyncio.create_task(locks.acquire("row", "cancelled"))
    handed = asyncio.create_task(locks.acquire("row", "handed"))
    after = asyncio.create_task(locks.acquire("row", "after"))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    locks.release("row")  # to "handed", cancelled before it runs: it goes on to "after"
    handed.cancel()
    await asyncio.gather(cancelled, handed, return_exceptions=True)
    await asyncio.wait_for(after, timeout=1)
    locks.release("row")
    assert locks.try_acquire("row", "free")


# -- the replay at commit: decided once, re-checked against what others committed -----------------


async def test_a_due_claim_of_a_user_stopped_meanwhile_fails_the_commit(
    repository: MemoryRepository,
) -> None:
    config = await add_user(repository)
    async with repository.unit_of_work() as late:
        await late.leases.claim_due("b", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
        async with committing(repository) as control:  # a plain save takes no lock
            stored = await control.automation.get(config.user_id)
            assert stored is not None
            stored.stop()
            await control.automation.save(stored)
        with pytest.raises(RepositoryError, match="no longer due"):
            await late.commit()
    async with repository.unit_of_work() as uow:
        assert await uow.leases.intervals() == []


async def test_a_claim_of_a_user_removed_meanwhile_fails_the_commit(
    repository: MemoryRepository,
) -> None:
    alice = await add_user(repository, "alice")
    bob = await add_user(repository, "bob")
    async with repository.unit_of_work() as late:
        assert len(await late.leases.claim_due("a", ttl=TTL, limit=2, trigger=Trigger.CRON)) == 2
        async with committing(repository) as uow:
            await uow.users.remove(alice.user_id)
        with pytest.raises(NotFound):
            await late.commit()
    async with repository.unit_of_work() as uow:
        # All or nothing: bob's claim did not land either.
        assert await uow.leases.intervals() == []
        lease = await uow.leases.claim(bob.user_id, "b", ttl=TTL, trigger=Trigger.CRON)
        assert lease is not None
        assert lease.fencing == 1


async def test_a_claim_keeps_the_times_and_ids_it_was_decided_with(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    await add_user(repository)
    async with repository.unit_of_work() as uow:
        (lease,) = await uow.leases.claim_due("a", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
        clock.advance(MINUTE)
        await uow.commit()
    async with repository.unit_of_work() as uow:
        (interval,) = await uow.leases.intervals()
        assert (interval.run_id, interval.claimed_at) == (lease.run_id, DEFAULT_TIME)
        assert interval.expires_at == lease.expires_at == DEFAULT_TIME + TTL


@pytest.mark.parametrize("write", ["confirm", "renew", "release"])
async def test_fenced_writes_of_a_lease_gone_meanwhile_never_land(
    repository: MemoryRepository, write: str
) -> None:
    config = await add_user(repository)
    lease = await claim_one(repository, "a")
    run = make_run(user_id=config.user_id)
    async with repository.unit_of_work() as fenced:
        if write == "confirm":
            assert await fenced.leases.confirm(lease) is True
        elif write == "renew":
            assert await fenced.leases.renew(lease, ttl=TTL) is not None
        else:
            assert await fenced.leases.release(lease, completed=True) is True
        await fenced.runs.add(run)
        async with committing(repository) as uow:  # removing a user takes no lease lock
            await uow.users.remove(config.user_id)
            await uow.users.add(make_user(name="alice"))
            await uow.automation.save(config)
        with pytest.raises(LeaseLost):
            await fenced.commit()
    async with repository.unit_of_work() as uow:
        with pytest.raises(NotFound):
            await uow.runs.get(config.user_id, run.id)
        assert await uow.automation.get(config.user_id) == config


# -- next wake, audit, pruning, removal -----------------------------------------------------------


async def test_next_wake(repository: MemoryRepository, clock: FakeClock) -> None:
    async with repository.unit_of_work() as uow:
        assert await uow.leases.next_wake() is None
    await add_user(repository, "stopped", state=AutomationState.STOPPED, next_due_at=None)
    await add_user(repository, "paused", state=AutomationState.PAUSED)
    async with repository.unit_of_work() as uow:
        assert await uow.leases.next_wake() is None
    later = await add_user(repository, "later", next_due_at=DEFAULT_TIME + 10 * MINUTE)
    await add_user(repository, "due")
    async with repository.unit_of_work() as uow:
        assert await uow.leases.next_wake() == DEFAULT_TIME
    await claim_one(repository)  # the due one: it wakes at its expiry
    async with repository.unit_of_work() as uow:
        assert await uow.leases.next_wake() == DEFAULT_TIME + TTL
    async with committing(repository) as uow:
        stored = await uow.automation.get_for_update(later.user_id)
        assert stored is not None
        stored.request_run(DEFAULT_TIME + MINUTE)
        await uow.automation.save(stored)
    async with repository.unit_of_work() as uow:
        assert await uow.leases.next_wake() == DEFAULT_TIME + MINUTE


async def test_intervals_by_user_and_pruned_by_end(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    alice = await add_user(repository, "alice")
    bob = await add_user(repository, "bob", next_due_at=DEFAULT_TIME + MINUTE)
    lease = await claim_one(repository)
    async with committing(repository) as uow:
        assert await uow.leases.release(lease, completed=True) is True
    clock.advance(MINUTE)
    await claim_one(repository)  # bob's, held until DEFAULT_TIME + 3 minutes
    async with repository.unit_of_work() as uow:
        assert [i.user_id for i in await uow.leases.intervals()] == [alice.user_id, bob.user_id]
        assert [i.user_id for i in await uow.leases.intervals(bob.user_id)] == [bob.user_id]
    async with committing(repository) as uow:
        assert await uow.leases.prune_intervals(ended_before=DEFAULT_TIME) == 0
        assert await uow.leases.prune_intervals(ended_before=DEFAULT_TIME + MINUTE) == 1
    async with repository.unit_of_work() as uow:
        assert [i.user_id for i in await uow.leases.intervals()] == [bob.user_id]


async def test_removing_a_user_drops_its_lease_and_audit(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    alice = await add_user(repository, "alice")
    bob = await add_user(repository, "bob")
    await claim_one(repository)
    await claim_one(repository)
    async with committing(repository) as uow:
        await uow.users.remove(alice.user_id)
    async with repository.unit_of_work() as uow:
        assert [i.user_id for i in await uow.leases.intervals()] == [bob.user_id]
        assert await uow.leases.next_wake() == DEFAULT_TIME + TTL
    async with committing(repository) as uow:  # the same id again starts afresh
        await uow.users.add(make_user(name="alice"))
        await uow.automation.save(alice)
        lease = await uow.leases.claim(alice.user_id, "a", ttl=TTL, trigger=Trigger.CRON)
    assert lease is not None
    assert (lease.fencing, lease.interrupted_run_id) == (1, None)


async def test_runs_are_pruned_by_age_and_by_count_per_user(repository: MemoryRepository) -> None:
    alice = await add_user(repository, "alice")
    bob = await add_user(repository, "bob")
    runs = {
        user_id: [make_run(user_id=user_id, started_at=DEFAULT_TIME + n * MINUTE) for n in range(4)]
        for user_id in (alice.user_id, bob.user_id)
    }
    async with committing(repository) as uow:
        for user_runs in runs.values():
            for run in user_runs:
                await uow.runs.add(run)
    async with committing(repository) as uow:
        assert await uow.runs.prune(started_before=None, keep_per_user=None) == 0
        assert await uow.runs.prune(started_before=DEFAULT_TIME + MINUTE, keep_per_user=None) == 2
        assert await uow.runs.prune(started_before=None, keep_per_user=2) == 2
    async with repository.unit_of_work() as uow:
        for user_id, user_runs in runs.items():
            kept = [run.id for run in await uow.runs.list(user_id)]
            assert kept == [user_runs[3].id, user_runs[2].id]
    async with committing(repository) as uow:
        assert await uow.runs.prune(started_before=DEFAULT_TIME + 3 * MINUTE, keep_per_user=1) == 2


# -- daemons --------------------------------------------------------------------------------------


async def test_daemons_register_with_the_store_time_and_unregister(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    def daemon(owner: str, started: int) -> DaemonInfo:
        return DaemonInfo(
            owner=owner,
            host="h",
            pid=started,
            started_at=DEFAULT_TIME + started * MINUTE,
            seen_at=DEFAULT_TIME - timedelta(days=1),
        )

    async with committing(repository) as uow:
        await uow.daemons.register(daemon("late", 2))
        await uow.daemons.register(daemon("early", 1))
    clock.advance(MINUTE)
    async with committing(repository) as uow:
        await uow.daemons.register(daemon("late", 2))  # the heartbeat
        await uow.daemons.unregister("nobody")
    async with repository.unit_of_work() as uow:
        early, late = await uow.daemons.list()
    assert (early.owner, early.seen_at) == ("early", DEFAULT_TIME)
    assert (late.owner, late.seen_at) == ("late", DEFAULT_TIME + MINUTE)
    async with committing(repository) as uow:
        await uow.daemons.unregister("early")
    async with repository.unit_of_work() as uow:
        assert [d.owner for d in await uow.daemons.list()] == ["late"]
