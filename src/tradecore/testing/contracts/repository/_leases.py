"""Contract tests of claiming cycles: ``uow.leases`` now/claim_due/claim, and ``uow.automation``
where it meets them (run requests, ``get_for_update``). Renewal, release, the audit and the
daemon registry are in :mod:`._lease_lifecycle`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest

from tradecore.domain import (
    AutomationConfig,
    AutomationState,
    Lease,
    Trigger,
)
from tradecore.errors import DomainError, NotFound
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


class LeaseTests(LeaseContractBase):
    """The store's clock, run requests, claims of due cycles and of one user's cycle."""

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

    # -- who may claim ---------------------------------------------------------------------------

    @pytest.mark.asyncio
    @pytest.mark.parametrize("owner", ["", "   ", "\t\n"])
    async def test_a_blank_owner_is_refused_whether_or_not_there_is_anything_to_claim(
        self, repository: RepositoryPort, owner: str
    ) -> None:
        # The owner rule is the domain's (tradecore.domain.lease.check_owner), checked before
        # anything is read: a blank owner is refused by claim_due with nothing to claim and by
        # claim of a held cycle, not only when a lease would carry it.
        held, _ = await self._due_user(repository, "held", ago=20)
        (lease,) = await self._claim_due(repository, A, limit=1)
        due, _ = await self._due_user(repository, "due", ago=10)
        (idle,) = await self._users(repository, "idle")
        await self._save(repository, AutomationConfig(user_id=idle))  # stopped: never due

        async with repository.unit_of_work() as uow:
            for limit in (0, 5):
                with pytest.raises(DomainError, match="owner"):
                    await uow.leases.claim_due(
                        owner, ttl=LONG, limit=limit, trigger=Trigger.SCHEDULE
                    )
            for user_id in (held, due, idle):
                with pytest.raises(DomainError, match="owner"):
                    await uow.leases.claim(user_id, owner, ttl=LONG, trigger=Trigger.MANUAL)
            await uow.commit()

        intervals = await self._intervals(repository)
        assert [(i.user_id, i.owner, i.fencing) for i in intervals] == [(held, A, lease.fencing)]
        (taken,) = await self._claim_due(repository, B)  # the due cycle is still there to claim
        assert (taken.user_id, taken.fencing) == (due, 1)

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
