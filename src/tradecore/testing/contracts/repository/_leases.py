"""Contract tests of ``uow.leases`` and ``uow.daemons``, and of ``uow.automation`` where it meets
them (run requests, ``get_for_update``, saving a config while its cycle is leased).

Lease time is the store's own clock (:meth:`~tradecore.ports.LeaseRepository.now`), so these
tests place schedules relative to it and let short leases (:data:`TTL`) lapse with real sleeps.
A lease meant to stay held for a whole test gets :data:`LONG`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import pytest
from attrs import evolve

from tradecore.domain import (
    AutomationConfig,
    AutomationState,
    DaemonInfo,
    Lease,
    LeaseInterval,
    Trigger,
)
from tradecore.errors import NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_user
from tradecore.testing.contracts.repository._helpers import T0, ContractBase, committing, minutes

TTL = timedelta(seconds=0.3)
"""A lease that lapses within a test."""

LAPSE = 0.45
"""Seconds to sleep for a :data:`TTL` lease to lapse."""

LONG = timedelta(seconds=60)
"""A lease that stays held for the whole test."""

WAIT = 10
"""Seconds within which an operation that must not wait has to finish."""

A = "host-a:101:daemon"
B = "host-b:202:daemon"


def assert_no_overlap(intervals: Iterable[LeaseInterval]) -> None:
    """No two audit intervals of one user overlap: each starts at or after the previous end."""
    by_user: dict[str, list[LeaseInterval]] = defaultdict(list)
    for interval in intervals:
        by_user[interval.user_id].append(interval)
    for user_intervals in by_user.values():
        ordered = sorted(user_intervals, key=lambda i: (i.claimed_at, i.fencing))
        for before, after in itertools.pairwise(ordered):
            assert after.fencing > before.fencing
            assert after.claimed_at >= before.ended_at, (before, after)


class LeaseTests(ContractBase):
    """Claims of due cycles, renewal, confirmation, release, the audit, the next wake-up and the
    daemon registry."""

    # -- helpers -------------------------------------------------------------------------------------

    async def _users(self, repository: RepositoryPort, *names: str) -> list[str]:
        users = [make_user(name=name) for name in names]
        async with committing(repository) as uow:
            for user in users:
                await uow.users.add(user)
        return [user.id for user in users]

    async def _save(self, repository: RepositoryPort, *configs: AutomationConfig) -> None:
        async with committing(repository) as uow:
            for config in configs:
                await uow.automation.save(config)

    async def _now(self, repository: RepositoryPort) -> datetime:
        async with repository.unit_of_work() as uow:
            return await uow.leases.now()

    async def _config(self, repository: RepositoryPort, user_id: str) -> AutomationConfig:
        async with repository.unit_of_work() as uow:
            config = await uow.automation.get(user_id)
        assert config is not None
        return config

    async def _claim_due(
        self,
        repository: RepositoryPort,
        owner: str,
        *,
        ttl: timedelta = LONG,
        limit: int = 10,
        trigger: Trigger = Trigger.SCHEDULE,
    ) -> Sequence[Lease]:
        async with committing(repository) as uow:
            return await uow.leases.claim_due(owner, ttl=ttl, limit=limit, trigger=trigger)

    async def _due_user(
        self, repository: RepositoryPort, name: str = "alice", *, ago: int = 10
    ) -> tuple[str, AutomationConfig]:
        """A user active every 30 minutes whose slot came ``ago`` minutes ago."""
        (user_id,) = await self._users(repository, name)
        now = await self._now(repository)
        config = AutomationConfig(
            user_id=user_id,
            state=AutomationState.ACTIVE,
            frequency_minutes=30,
            next_due_at=now - minutes(ago),
        )
        await self._save(repository, config)
        return user_id, config

    async def _release(self, repository: RepositoryPort, lease: Lease, *, completed: bool) -> bool:
        async with committing(repository) as uow:
            return await uow.leases.release(lease, completed=completed)

    async def _intervals(
        self, repository: RepositoryPort, user_id: str | None = None
    ) -> Sequence[LeaseInterval]:
        async with repository.unit_of_work() as uow:
            return await uow.leases.intervals(user_id)

    # -- the clock and run requests ----------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_the_stores_clock_is_utc_and_moves_on(self, repository: RepositoryPort) -> None:
        first = await self._now(repository)
        await asyncio.sleep(0.01)
        second = await self._now(repository)
        assert first.utcoffset() == timedelta(0)
        assert first < second

    @pytest.mark.asyncio
    async def test_a_run_request_round_trips_and_get_for_update_reads_the_config(
        self, repository: RepositoryPort
    ) -> None:
        (user_id,) = await self._users(repository, "alice")
        config = AutomationConfig(
            user_id=user_id,
            state=AutomationState.PAUSED,
            next_due_at=T0 + minutes(30),
            last_run_at=T0,
            run_requested_at=T0 + minutes(7),
        )
        async with committing(repository) as uow:
            assert await uow.automation.get_for_update(user_id) is None
            await uow.automation.save(config)
        async with committing(repository) as uow:
            assert await uow.automation.get(user_id) == config
            assert await uow.automation.get_for_update(user_id) == config
            assert list(await uow.automation.list()) == [config]

    @pytest.mark.asyncio
    async def test_get_for_update_waits_for_another_units_lock_and_sees_its_change(
        self, repository: RepositoryPort
    ) -> None:
        user_id, _ = await self._due_user(repository)
        order: list[str] = []
        first_holds = asyncio.Event()

        async def first() -> None:
            async with repository.unit_of_work() as uow:
                config = await uow.automation.get_for_update(user_id)
                assert config is not None
                order.append("first locked")
                first_holds.set()
                await asyncio.sleep(0.3)  # the second locker must still be waiting here
                config.pause()
                await uow.automation.save(config)
                order.append("first commits")
                await uow.commit()

        async def second() -> AutomationState:
            await first_holds.wait()
            async with repository.unit_of_work() as uow:
                config = await uow.automation.get_for_update(user_id)
                assert config is not None
                order.append("second locked")
                await uow.commit()
            return config.state

        _, seen = await asyncio.wait_for(asyncio.gather(first(), second()), timeout=20)
        assert order == ["first locked", "first commits", "second locked"]
        assert seen is AutomationState.PAUSED

    # -- claim_due -------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_claim_due_claims_only_due_users_earliest_first(
        self, repository: RepositoryPort
    ) -> None:
        names = [
            "due",
            "due-later",
            "due-and-requested",
            "requested-paused",
            "requested-stopped",
            "requested-before-its-slot",
            "paused-past-its-slot",
            "stopped",
            "not-yet-due",
        ]
        ids = dict(zip(names, await self._users(repository, *names), strict=True))
        now = await self._now(repository)

        def config(
            name: str, state: AutomationState, due: int | None, requested: int | None = None
        ) -> AutomationConfig:
            # Times in minutes from now.
            return AutomationConfig(
                user_id=ids[name],
                state=state,
                next_due_at=None if due is None else now + minutes(due),
                run_requested_at=None if requested is None else now + minutes(requested),
            )

        active, paused, stopped = (
            AutomationState.ACTIVE,
            AutomationState.PAUSED,
            AutomationState.STOPPED,
        )
        configs = {
            c.user_id: c
            for c in (
                config("due", active, -10),
                config("due-later", active, -5),
                config("due-and-requested", active, -9, requested=-8),
                config("requested-paused", paused, -20, requested=-7),
                config("requested-stopped", stopped, None, requested=-2),
                config("requested-before-its-slot", active, 10, requested=-3),
                config("paused-past-its-slot", paused, -30),
                config("stopped", stopped, None),
                config("not-yet-due", active, 1),
            )
        }
        await self._save(repository, *configs.values())

        leases = await self._claim_due(repository, A, ttl=LONG, trigger=Trigger.CRON)

        by_id = {user_id: name for name, user_id in ids.items()}
        assert [by_id[lease.user_id] for lease in leases] == [
            "due",
            "due-and-requested",
            "requested-paused",
            "due-later",
            "requested-before-its-slot",
            "requested-stopped",
        ]
        for lease in leases:
            stored = configs[lease.user_id]
            slot_due = (
                stored.state is active
                and stored.next_due_at is not None
                and stored.next_due_at <= now
            )
            assert lease.owner == A
            assert lease.fencing == 1
            assert lease.due_at == (stored.next_due_at if slot_due else None)
            assert lease.requested_at == stored.run_requested_at
            # A claim that serves only a run request was asked for by a person.
            assert lease.trigger is (Trigger.CRON if slot_due else Trigger.MANUAL)
            assert lease.claimed_at >= now
            assert lease.expires_at - lease.claimed_at == LONG
            assert lease.interrupted_run_id is None
        assert len({lease.run_id for lease in leases}) == len(leases)
        # Claiming changes no schedule.
        async with repository.unit_of_work() as uow:
            stored_configs = {c.user_id: c for c in await uow.automation.list()}
        assert stored_configs == configs
        intervals = await self._intervals(repository)
        assert sorted((i.user_id, i.owner, i.fencing, i.run_id) for i in intervals) == sorted(
            (lease.user_id, A, 1, lease.run_id) for lease in leases
        )
        assert all(i.released_at is None and i.outcome is None for i in intervals)

    @pytest.mark.asyncio
    async def test_claim_due_respects_the_limit_and_leaves_the_rest_for_the_next_claimer(
        self, repository: RepositoryPort
    ) -> None:
        first, _ = await self._due_user(repository, "first", ago=30)
        second, _ = await self._due_user(repository, "second", ago=20)
        third, _ = await self._due_user(repository, "third", ago=10)

        claimed_by_a = await self._claim_due(repository, A, limit=2)
        claimed_by_b = await self._claim_due(repository, B, limit=5)

        assert [lease.user_id for lease in claimed_by_a] == [first, second]
        assert [lease.user_id for lease in claimed_by_b] == [third]
        assert list(await self._claim_due(repository, A)) == []
        assert list(await self._claim_due(repository, B, limit=0)) == []
        intervals = await self._intervals(repository)
        assert [i.user_id for i in intervals if i.owner == A] == [first, second]
        assert [i.user_id for i in await self._intervals(repository, third)] == [third]

    @pytest.mark.asyncio
    async def test_a_held_lease_is_not_claimed_again_until_it_lapses_then_it_is_taken_over(
        self, repository: RepositoryPort
    ) -> None:
        user_id, config = await self._due_user(repository)
        (first,) = await self._claim_due(repository, A, ttl=TTL)

        assert list(await self._claim_due(repository, B)) == []
        assert list(await self._claim_due(repository, A)) == []  # not even by its own owner
        async with committing(repository) as uow:
            assert await uow.leases.claim(user_id, B, ttl=LONG, trigger=Trigger.MANUAL) is None
            assert await uow.leases.claim(user_id, A, ttl=LONG, trigger=Trigger.MANUAL) is None

        await asyncio.sleep(LAPSE)
        (second,) = await self._claim_due(repository, B, ttl=LONG)

        assert (second.owner, second.fencing) == (B, 2)
        assert second.interrupted_run_id == first.run_id
        assert second.run_id != first.run_id
        assert second.due_at == first.due_at == config.next_due_at  # the slot is still unserved
        assert second.claimed_at > first.expires_at
        lapsed, held = await self._intervals(repository, user_id)
        assert (lapsed.owner, lapsed.fencing, lapsed.run_id) == (A, 1, first.run_id)
        assert (lapsed.released_at, lapsed.outcome) == (None, None)
        assert lapsed.ended_at == first.expires_at
        assert (held.owner, held.fencing, held.run_id) == (B, 2, second.run_id)
        assert_no_overlap([lapsed, held])

    @pytest.mark.asyncio
    async def test_units_claiming_at_once_never_get_the_same_user(
        self, repository: RepositoryPort
    ) -> None:
        users = [
            (await self._due_user(repository, name, ago=ago))[0]
            for name, ago in (("u1", 40), ("u2", 30), ("u3", 20), ("u4", 10))
        ]
        async with repository.unit_of_work() as first:
            claimed_first = await first.leases.claim_due(
                A, ttl=LONG, limit=2, trigger=Trigger.SCHEDULE
            )
            assert [lease.user_id for lease in claimed_first] == users[:2]

            async def second_claims() -> Sequence[Lease]:
                async with committing(repository) as second:
                    return await second.leases.claim_due(
                        B, ttl=LONG, limit=4, trigger=Trigger.SCHEDULE
                    )

            if self.serializes_writes:
                # One writer at a time: the second claimer waits for the first to commit.
                second = asyncio.create_task(second_claims())
                await asyncio.sleep(0.2)
                await first.commit()
                claimed_second = await asyncio.wait_for(second, timeout=WAIT)
            else:
                # The first's rows are locked: skipped at once, never waited for.
                claimed_second = await asyncio.wait_for(second_claims(), timeout=WAIT)
                await first.commit()

        assert [lease.user_id for lease in claimed_second] == users[2:]
        intervals = await self._intervals(repository)
        assert sorted((i.user_id, i.fencing) for i in intervals) == sorted((u, 1) for u in users)
        assert_no_overlap(intervals)

    @pytest.mark.asyncio
    async def test_many_concurrent_claimers_split_the_due_users_between_them(
        self, repository: RepositoryPort
    ) -> None:
        users = [(await self._due_user(repository, f"user-{n}", ago=10 + n))[0] for n in range(6)]

        async def claimer(n: int) -> Sequence[Lease]:
            return await self._claim_due(repository, f"host:{n}:daemon", limit=2)

        results = await asyncio.wait_for(
            asyncio.gather(*(claimer(n) for n in range(6))), timeout=30
        )

        claimed = [lease.user_id for leases in results for lease in leases]
        assert sorted(claimed) == sorted(users)  # each due user exactly once
        assert_no_overlap(await self._intervals(repository))

    # -- claim -----------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_claim_takes_a_users_cycle_whatever_its_schedule(
        self, repository: RepositoryPort
    ) -> None:
        (later, paused, nobody) = await self._users(repository, "later", "paused", "nobody")
        due, due_config = await self._due_user(repository, "due")
        now = await self._now(repository)
        await self._save(
            repository,
            AutomationConfig(
                user_id=later, state=AutomationState.ACTIVE, next_due_at=now + minutes(20)
            ),
            AutomationConfig(
                user_id=paused,
                state=AutomationState.PAUSED,
                next_due_at=now - minutes(5),
                run_requested_at=now - minutes(1),
            ),
        )
        async with committing(repository) as uow:
            with pytest.raises(NotFound):
                await uow.leases.claim(nobody, A, ttl=LONG, trigger=Trigger.MANUAL)
            forced = await uow.leases.claim(later, A, ttl=LONG, trigger=Trigger.MANUAL)
            slot = await uow.leases.claim(due, A, ttl=LONG, trigger=Trigger.CRON)
            request = await uow.leases.claim(paused, A, ttl=TTL, trigger=Trigger.SCHEDULE)

        assert forced is not None
        assert slot is not None
        assert request is not None
        assert (forced.due_at, forced.requested_at, forced.trigger) == (None, None, Trigger.MANUAL)
        assert (forced.fencing, forced.owner, forced.interrupted_run_id) == (1, A, None)
        assert forced.expires_at - forced.claimed_at == LONG
        assert (slot.due_at, slot.requested_at, slot.trigger) == (
            due_config.next_due_at,
            None,
            Trigger.CRON,
        )
        # A paused user's slot is not due; its request is served, with the trigger as given.
        assert (request.due_at, request.requested_at, request.trigger) == (
            None,
            now - minutes(1),
            Trigger.SCHEDULE,
        )

        # Held, by anyone (its own owner included): no second claim.
        async with committing(repository) as uow:
            assert await uow.leases.claim(later, A, ttl=LONG, trigger=Trigger.MANUAL) is None
            assert await uow.leases.claim(later, B, ttl=LONG, trigger=Trigger.MANUAL) is None
        await asyncio.sleep(LAPSE)
        async with committing(repository) as uow:
            taken = await uow.leases.claim(paused, B, ttl=LONG, trigger=Trigger.MANUAL)
        assert taken is not None
        assert (taken.fencing, taken.interrupted_run_id) == (2, request.run_id)

        # Completing a forced cycle that served no slot leaves the schedule as it was.
        assert await self._release(repository, forced, completed=True)
        after = await self._config(repository, later)
        assert after.next_due_at == now + minutes(20)
        assert after.last_run_at is not None
        assert after.last_run_at >= forced.claimed_at
        assert_no_overlap(await self._intervals(repository))

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
