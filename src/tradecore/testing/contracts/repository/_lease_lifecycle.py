"""Contract tests of a lease's life after its claim: renewal, confirmation, release (and saving
a config while its cycle is leased), the audit, the next wake-up and the daemon registry."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from attrs import evolve

from tradecore.domain import (
    AutomationConfig,
    AutomationState,
    DaemonInfo,
    Lease,
    Trigger,
)
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.contracts.repository._helpers import T0, committing, minutes
from tradecore.testing.contracts.repository._lease_helpers import (
    LAPSE,
    LONG,
    TTL,
    WAIT,
    A,
    B,
    LeaseContractBase,
    assert_no_overlap,
)


class LeaseLifecycleTests(LeaseContractBase):
    """Renewal, confirmation, release, the audit, the next wake-up and the daemons."""

    # -- renew and confirm -----------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_renewing_extends_a_held_lease_past_its_first_expiry(
        self, repository: RepositoryPort
    ) -> None:
        user_id, _ = await self._due_user(repository)
        (lease,) = await self._claim_due(repository, A, ttl=TTL)

        async with committing(repository) as uow:
            renewed = await uow.leases.renew(lease, ttl=LONG)
        assert renewed is not None
        assert renewed == evolve(lease, expires_at=renewed.expires_at)
        assert renewed.expires_at >= lease.claimed_at + LONG

        await asyncio.sleep(LAPSE)  # past the first expiry
        assert list(await self._claim_due(repository, B)) == []
        async with committing(repository) as uow:
            assert await uow.leases.confirm(renewed)
        (interval,) = await self._intervals(repository, user_id)
        assert interval.expires_at == renewed.expires_at
        assert interval.released_at is None

    @pytest.mark.asyncio
    async def test_a_lapsed_lease_is_never_revived_and_a_taken_over_one_is_lost(
        self, repository: RepositoryPort
    ) -> None:
        user_id, _ = await self._due_user(repository)
        (lease,) = await self._claim_due(repository, A, ttl=TTL)
        async with committing(repository) as uow:
            assert await uow.leases.confirm(lease)

        await asyncio.sleep(LAPSE)
        async with committing(repository) as uow:
            assert not await uow.leases.confirm(lease)
            assert await uow.leases.renew(lease, ttl=LONG) is None
        (taken,) = await self._claim_due(repository, B, ttl=LONG)
        async with committing(repository) as uow:
            assert not await uow.leases.confirm(lease)
            assert await uow.leases.renew(lease, ttl=LONG) is None
            assert await uow.leases.confirm(taken)
            renewed = await uow.leases.renew(taken, ttl=LONG)
        assert renewed is not None
        assert renewed.fencing == 2
        lapsed, held = await self._intervals(repository, user_id)
        assert lapsed.ended_at == lease.expires_at  # the failed renewal moved nothing
        assert held.expires_at == renewed.expires_at
        assert_no_overlap([lapsed, held])

    @pytest.mark.asyncio
    async def test_a_lease_ended_at_once_is_taken_over_like_an_expired_one(
        self, repository: RepositoryPort
    ) -> None:
        # What a scheduler does when the holder is a process of its host that no longer exists.
        user_id, _ = await self._due_user(repository)
        (lease,) = await self._claim_due(repository, A, ttl=LONG)
        (held,) = await self._intervals(repository, user_id)
        async with committing(repository) as uow:
            assert not await uow.leases.expire(evolve(held, fencing=held.fencing + 1))
            assert not await uow.leases.expire(evolve(held, owner=B))
        async with repository.unit_of_work() as uow:
            assert await uow.leases.confirm(lease)  # the wrong ones changed nothing

        async with committing(repository) as uow:
            assert await uow.leases.expire(held)
        async with committing(repository) as uow:
            assert not await uow.leases.confirm(lease)
            assert not await uow.leases.expire(held)  # already ended
        (taken,) = await self._claim_due(repository, B, ttl=LONG)

        assert taken.fencing == lease.fencing + 1
        assert taken.interrupted_run_id == lease.run_id
        ended, now_held = await self._intervals(repository, user_id)
        assert ended.expires_at <= now_held.claimed_at
        assert_no_overlap([ended, now_held])

    @pytest.mark.asyncio
    async def test_holds_reads_the_lease_as_committed_now(self, repository: RepositoryPort) -> None:
        await self._due_user(repository)
        (lease,) = await self._claim_due(repository, A, ttl=TTL)
        async with repository.unit_of_work() as uow:
            assert await uow.leases.holds(lease)
            assert not await uow.leases.holds(evolve(lease, owner=B))
            assert not await uow.leases.holds(evolve(lease, fencing=lease.fencing + 1))
        async with repository.unit_of_work() as uow:  # a unit holding nothing: B claims at once
            assert await uow.leases.holds(lease)
            await asyncio.sleep(LAPSE)  # the lease lapses
            assert not await uow.leases.holds(lease)
            (taken,) = await asyncio.wait_for(
                self._claim_due(repository, B, ttl=LONG), timeout=WAIT
            )
        async with repository.unit_of_work() as uow:
            assert not await uow.leases.holds(lease)
            assert await uow.leases.holds(taken)

    @pytest.mark.asyncio
    async def test_a_confirmed_lease_is_not_taken_over_before_the_unit_ends(
        self, repository: RepositoryPort
    ) -> None:
        user_id, _ = await self._due_user(repository)
        (lease,) = await self._claim_due(repository, A, ttl=TTL)
        order: list[str] = []
        async with repository.unit_of_work() as fenced:
            assert await fenced.leases.confirm(lease)
            await asyncio.sleep(LAPSE)  # the lease lapses while the unit is still open

            async def claim() -> Sequence[Lease]:
                leases = await self._claim_due(repository, B, ttl=LONG)
                order.append("claimed")
                return leases

            if self.serializes_writes:
                claiming = asyncio.create_task(claim())
                await asyncio.sleep(0.2)
                order.append("fenced commits")
                await fenced.commit()
                (taken,) = await asyncio.wait_for(claiming, timeout=WAIT)
                assert order == ["fenced commits", "claimed"]
            else:
                assert list(await asyncio.wait_for(claim(), timeout=WAIT)) == []
                await fenced.commit()
                (taken,) = await self._claim_due(repository, B, ttl=LONG)
        assert (taken.owner, taken.fencing, taken.interrupted_run_id) == (B, 2, lease.run_id)
        assert_no_overlap(await self._intervals(repository, user_id))

    # -- release ---------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_a_completed_release_moves_the_schedule_on_and_clears_the_served_request(
        self, repository: RepositoryPort
    ) -> None:
        (user_id,) = await self._users(repository, "alice")
        now = await self._now(repository)
        slot = now - minutes(45)  # slots every 30 min: now-45, now-15 (missed), now+15
        await self._save(
            repository,
            AutomationConfig(
                user_id=user_id,
                state=AutomationState.ACTIVE,
                frequency_minutes=30,
                next_due_at=slot,
                run_requested_at=now - minutes(1),
            ),
        )
        (lease,) = await self._claim_due(repository, A)
        assert (lease.due_at, lease.requested_at) == (slot, now - minutes(1))

        assert await self._release(repository, lease, completed=True)

        stored = await self._config(repository, user_id)
        assert stored.next_due_at == slot + minutes(60)  # the missed slot is skipped
        assert stored.run_requested_at is None
        assert stored.last_run_at is not None
        assert stored.last_run_at >= lease.claimed_at
        assert list(await self._claim_due(repository, B)) == []  # nothing due any more
        (interval,) = await self._intervals(repository, user_id)
        assert interval.outcome == "completed"
        assert interval.released_at is not None
        assert interval.released_at >= lease.claimed_at
        assert interval.ended_at == interval.released_at
        assert not await self._release(repository, lease, completed=True)  # released already

    @pytest.mark.asyncio
    async def test_a_request_made_while_the_cycle_ran_is_kept_for_the_next(
        self, repository: RepositoryPort
    ) -> None:
        user_id, config = await self._due_user(repository)
        (lease,) = await self._claim_due(repository, A)
        assert lease.requested_at is None
        async with committing(repository) as uow:
            current = await uow.automation.get_for_update(user_id)
            assert current is not None
            current.request_run(await uow.leases.now())
            await uow.automation.save(current)
        requested = current.run_requested_at

        assert await self._release(repository, lease, completed=True)

        stored = await self._config(repository, user_id)
        assert stored.run_requested_at == requested
        assert config.next_due_at is not None
        assert stored.next_due_at == config.next_due_at + minutes(30)
        (again,) = await self._claim_due(repository, B)
        assert (again.requested_at, again.due_at, again.trigger) == (
            requested,
            None,
            Trigger.MANUAL,
        )
        assert (again.fencing, again.interrupted_run_id) == (2, None)

    @pytest.mark.asyncio
    async def test_a_release_without_completing_leaves_the_schedule_for_the_next_claimer(
        self, repository: RepositoryPort
    ) -> None:
        (user_id,) = await self._users(repository, "alice")
        now = await self._now(repository)
        config = AutomationConfig(
            user_id=user_id,
            state=AutomationState.ACTIVE,
            next_due_at=now - minutes(3),
            last_run_at=now - minutes(33),
            run_requested_at=now - minutes(1),
        )
        await self._save(repository, config)
        (lease,) = await self._claim_due(repository, A)

        assert await self._release(repository, lease, completed=False)

        assert await self._config(repository, user_id) == config
        (again,) = await self._claim_due(repository, B)  # at once: the cycle is still due
        assert (again.fencing, again.interrupted_run_id) == (2, None)
        assert (again.due_at, again.requested_at) == (lease.due_at, lease.requested_at)
        released, held = await self._intervals(repository, user_id)
        assert (released.outcome, held.outcome) == ("released", None)
        assert released.released_at is not None
        assert_no_overlap([released, held])

    @pytest.mark.asyncio
    async def test_a_release_after_a_takeover_changes_nothing(
        self, repository: RepositoryPort
    ) -> None:
        user_id, config = await self._due_user(repository)
        (lost,) = await self._claim_due(repository, A, ttl=TTL)
        await asyncio.sleep(LAPSE)
        (taken,) = await self._claim_due(repository, B, ttl=LONG)

        assert not await self._release(repository, lost, completed=True)
        assert not await self._release(repository, lost, completed=False)

        assert await self._config(repository, user_id) == config  # the schedule did not move
        async with committing(repository) as uow:
            assert await uow.leases.confirm(taken)  # B still holds it
        lapsed, held = await self._intervals(repository, user_id)
        assert (lapsed.released_at, lapsed.outcome) == (None, None)
        assert (held.released_at, held.outcome) == (None, None)
        assert await self._release(repository, taken, completed=True)
        assert config.next_due_at is not None
        assert (await self._config(repository, user_id)).next_due_at == (
            config.next_due_at + minutes(30)
        )
        assert_no_overlap(await self._intervals(repository, user_id))

    @pytest.mark.asyncio
    async def test_saving_a_config_while_its_cycle_is_leased_keeps_the_lease(
        self, repository: RepositoryPort
    ) -> None:
        user_id, config = await self._due_user(repository)
        (lease,) = await self._claim_due(repository, A)
        async with committing(repository) as uow:  # `tradecore automation frequency 60`
            current = await uow.automation.get_for_update(user_id)
            assert current == config
            current.change_frequency(60, await uow.leases.now())
            await uow.automation.save(current)

        assert list(await self._claim_due(repository, B)) == []
        async with committing(repository) as uow:
            assert await uow.leases.claim(user_id, B, ttl=LONG, trigger=Trigger.MANUAL) is None
            assert await uow.leases.confirm(lease)
        assert await self._release(repository, lease, completed=True)

        stored = await self._config(repository, user_id)
        # The changed schedule is kept as changed; the cycle's completion only recorded its run.
        assert (stored.frequency_minutes, stored.next_due_at) == (60, current.next_due_at)
        assert stored.last_run_at is not None
        async with committing(repository) as uow:
            again = await uow.leases.claim(user_id, B, ttl=LONG, trigger=Trigger.MANUAL)
        assert again is not None
        assert again.fencing == 2

    # -- the audit and the next wake-up ----------------------------------------------------------

    @pytest.mark.asyncio
    async def test_prune_intervals_deletes_the_records_that_ended_before(
        self, repository: RepositoryPort
    ) -> None:
        released_user, _ = await self._due_user(repository, "released")
        lapsed_user, _ = await self._due_user(repository, "lapsed")
        start = await self._now(repository)
        async with committing(repository) as uow:
            released = await uow.leases.claim(released_user, A, ttl=LONG, trigger=Trigger.MANUAL)
            lapsed = await uow.leases.claim(lapsed_user, A, ttl=TTL, trigger=Trigger.MANUAL)
        assert released is not None
        assert lapsed is not None
        assert await self._release(repository, released, completed=True)
        await asyncio.sleep(LAPSE)
        held_user, _ = await self._due_user(repository, "held")
        async with committing(repository) as uow:
            held = await uow.leases.claim(held_user, A, ttl=LONG, trigger=Trigger.MANUAL)
        assert held is not None

        async with committing(repository) as uow:
            assert await uow.leases.prune_intervals(ended_before=start) == 0
        cutoff = await self._now(repository)
        async with committing(repository) as uow:
            assert await uow.leases.prune_intervals(ended_before=cutoff) == 2

        assert [i.user_id for i in await self._intervals(repository)] == [held_user]

    @pytest.mark.asyncio
    async def test_intervals_are_listed_oldest_first_and_go_with_their_user(
        self, repository: RepositoryPort
    ) -> None:
        alice, _ = await self._due_user(repository, "alice", ago=5)
        bob, _ = await self._due_user(repository, "bob", ago=20)
        (first,) = await self._claim_due(repository, A, limit=1)
        (second,) = await self._claim_due(repository, A, limit=1)
        assert (first.user_id, second.user_id) == (bob, alice)

        assert [(i.user_id, i.run_id) for i in await self._intervals(repository)] == [
            (bob, first.run_id),
            (alice, second.run_id),
        ]
        async with committing(repository) as uow:
            await uow.users.remove(bob)
        assert [i.user_id for i in await self._intervals(repository)] == [alice]
        assert list(await self._intervals(repository, bob)) == []

    @pytest.mark.asyncio
    async def test_next_wake_is_the_earliest_time_a_claim_could_find_work(
        self, repository: RepositoryPort
    ) -> None:
        async with repository.unit_of_work() as uow:
            assert await uow.leases.next_wake() is None
        stopped, active, paused, requested = await self._users(
            repository, "stopped", "active", "paused", "requested"
        )
        now = await self._now(repository)
        await self._save(
            repository,
            AutomationConfig(user_id=stopped, state=AutomationState.STOPPED),
            AutomationConfig(
                user_id=paused, state=AutomationState.PAUSED, next_due_at=now + minutes(1)
            ),
        )
        async with repository.unit_of_work() as uow:
            assert await uow.leases.next_wake() is None  # nothing scheduled
        await self._save(
            repository,
            AutomationConfig(
                user_id=active, state=AutomationState.ACTIVE, next_due_at=now + minutes(10)
            ),
        )
        async with repository.unit_of_work() as uow:
            assert await uow.leases.next_wake() == now + minutes(10)
        await self._save(
            repository,
            AutomationConfig(
                user_id=requested,
                state=AutomationState.STOPPED,
                run_requested_at=now - minutes(1),
            ),
        )
        async with repository.unit_of_work() as uow:
            assert await uow.leases.next_wake() == now - minutes(1)  # due already: at once

        (lease,) = await self._claim_due(repository, A)  # the request, held
        assert lease.user_id == requested
        async with repository.unit_of_work() as uow:
            assert await uow.leases.next_wake() == lease.expires_at
        assert await self._release(repository, lease, completed=True)
        async with repository.unit_of_work() as uow:
            assert await uow.leases.next_wake() == now + minutes(10)

        # A cycle forced before its slot, its lease outlasting the slot: not before it lapses.
        async with committing(repository) as uow:
            forced = await uow.leases.claim(active, A, ttl=minutes(20), trigger=Trigger.MANUAL)
        assert forced is not None
        async with repository.unit_of_work() as uow:
            assert await uow.leases.next_wake() == forced.expires_at

    # -- daemons ---------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_daemons_register_refresh_and_unregister(
        self, repository: RepositoryPort
    ) -> None:
        now = await self._now(repository)
        early = DaemonInfo(owner=B, host="host-b", pid=202, started_at=now - minutes(5), seen_at=T0)
        late = DaemonInfo(owner=A, host="host-a", pid=101, started_at=now, seen_at=T0)
        async with committing(repository) as uow:
            await uow.daemons.register(late)
            await uow.daemons.register(early)
        async with repository.unit_of_work() as uow:
            listed = list(await uow.daemons.list())
        assert [(d.owner, d.host, d.pid, d.started_at) for d in listed] == [
            (B, "host-b", 202, now - minutes(5)),
            (A, "host-a", 101, now),
        ]
        assert all(d.seen_at >= now for d in listed)  # the store's clock, not the given time

        await asyncio.sleep(0.01)
        async with committing(repository) as uow:
            await uow.daemons.register(late)  # the heartbeat
        async with repository.unit_of_work() as uow:
            refreshed = {d.owner: d for d in await uow.daemons.list()}
        assert len(refreshed) == 2
        assert refreshed[A].seen_at > listed[1].seen_at
        assert refreshed[B].seen_at == listed[0].seen_at

        async with committing(repository) as uow:
            await uow.daemons.unregister(A)
            await uow.daemons.unregister("host-c:1:gone")  # a missing one is fine
        async with repository.unit_of_work() as uow:
            assert [d.owner for d in await uow.daemons.list()] == [B]
