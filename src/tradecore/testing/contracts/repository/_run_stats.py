"""Contract tests of the ledger in aggregate (for monitoring): ``uow.runs.stats``,
``last_successes`` and ``latest_figures``, and ``uow.leases.held``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradecore.domain import AutomationRun, RunCount, RunStatus, TaskKind, TaskStatus, Trigger
from tradecore.errors import DomainError
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_run, make_task_result
from tradecore.testing.contracts.repository._helpers import (
    T0,
    add_connection,
    add_owner,
    committing,
    minutes,
)
from tradecore.testing.contracts.repository._lease_helpers import LONG, A, LeaseContractBase

_BOUNDS = (timedelta(seconds=1), timedelta(seconds=10), timedelta(seconds=60))


def _finished(
    user_id: str, *, start: int, took: timedelta, status: TaskStatus, trigger: Trigger
) -> AutomationRun:
    run = make_run(user_id=user_id, trigger=trigger, started_at=T0 + minutes(start))
    step = make_task_result(status=status, started_at=run.started_at, subject_id=None)
    run.finish(run.started_at + took, [step])
    return run


async def _add(repository: RepositoryPort, *runs: AutomationRun) -> None:
    async with committing(repository) as uow:
        for run in runs:
            await uow.runs.add(run)


class RunStatsTests(LeaseContractBase):
    """Counts by status and trigger, the duration histogram, the last successes, the latest
    API figures per connection, and the leases held, over every user's runs."""

    @pytest.mark.asyncio
    async def test_runs_are_counted_by_status_and_trigger_and_their_durations_bucketed(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        ok, failed = TaskStatus.SUCCESS, TaskStatus.FAILURE
        await _add(
            repository,
            # Exactly on a bound counts in that bucket; a microsecond over does not.
            _finished(
                alice.user.id,
                start=0,
                took=timedelta(seconds=1),
                status=ok,
                trigger=Trigger.SCHEDULE,
            ),
            _finished(
                alice.user.id,
                start=30,
                took=timedelta(seconds=1, microseconds=1),
                status=ok,
                trigger=Trigger.SCHEDULE,
            ),
            _finished(
                bob.user.id,
                start=0,
                took=timedelta(seconds=45),
                status=failed,
                trigger=Trigger.SCHEDULE,
            ),
            _finished(
                bob.user.id, start=30, took=timedelta(minutes=5), status=ok, trigger=Trigger.MANUAL
            ),
            make_run(user_id=bob.user.id, started_at=T0 + minutes(60)),
        )
        async with repository.unit_of_work() as uow:
            stats = await uow.runs.stats(bounds=_BOUNDS)
        assert stats.counts == (
            RunCount(status=None, trigger=Trigger.SCHEDULE, count=1),
            RunCount(status=RunStatus.FAILURE, trigger=Trigger.SCHEDULE, count=1),
            RunCount(status=RunStatus.SUCCESS, trigger=Trigger.MANUAL, count=1),
            RunCount(status=RunStatus.SUCCESS, trigger=Trigger.SCHEDULE, count=2),
        )
        assert stats.durations.bounds == _BOUNDS
        assert stats.durations.cumulative == (1, 2, 3)
        assert stats.durations.count == 4
        assert stats.durations.total == timedelta(minutes=5, seconds=47, microseconds=1)

    @pytest.mark.asyncio
    async def test_an_empty_ledger_has_no_counts_and_an_empty_histogram(
        self, repository: RepositoryPort
    ) -> None:
        async with repository.unit_of_work() as uow:
            stats = await uow.runs.stats(bounds=_BOUNDS)
        assert stats.counts == ()
        assert (stats.durations.cumulative, stats.durations.count) == ((0, 0, 0), 0)
        assert stats.durations.total == timedelta(0)

    @pytest.mark.asyncio
    async def test_bounds_must_increase(self, repository: RepositoryPort) -> None:
        async with repository.unit_of_work() as uow:
            with pytest.raises(DomainError, match="increasing"):
                await uow.runs.stats(bounds=(timedelta(seconds=10), timedelta(seconds=1)))

    @pytest.mark.asyncio
    async def test_the_last_success_of_each_user_is_when_it_finished(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        carol = await add_owner(repository, "carol")
        ok, failed = TaskStatus.SUCCESS, TaskStatus.FAILURE
        await _add(
            repository,
            _finished(
                alice.user.id,
                start=0,
                took=timedelta(seconds=5),
                status=ok,
                trigger=Trigger.SCHEDULE,
            ),
            _finished(
                alice.user.id,
                start=30,
                took=timedelta(seconds=7),
                status=ok,
                trigger=Trigger.MANUAL,
            ),
            _finished(
                alice.user.id,
                start=60,
                took=timedelta(seconds=1),
                status=failed,
                trigger=Trigger.SCHEDULE,
            ),
            _finished(
                bob.user.id,
                start=10,
                took=timedelta(seconds=2),
                status=ok,
                trigger=Trigger.SCHEDULE,
            ),
            _finished(
                carol.user.id,
                start=10,
                took=timedelta(seconds=2),
                status=failed,
                trigger=Trigger.SCHEDULE,
            ),
        )
        async with repository.unit_of_work() as uow:
            latest = dict(await uow.runs.last_successes())
        assert latest == {
            alice.user.id: T0 + minutes(30) + timedelta(seconds=7),
            bob.user.id: T0 + minutes(10) + timedelta(seconds=2),
        }

    @pytest.mark.asyncio
    async def test_the_latest_figures_are_the_latest_sync_step_of_each_connection(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        spare = await add_connection(repository, alice, "spare")
        bob = await add_owner(repository, "bob")

        def sync_run(user_id: str, start: int, *steps: tuple[str, dict[str, str]]) -> AutomationRun:
            run = make_run(user_id=user_id, started_at=T0 + minutes(start))
            results = [
                make_task_result(subject_id=cid, started_at=run.started_at, api=api)
                for cid, api in steps
            ]
            results.append(
                make_task_result(
                    kind=TaskKind.STRATEGY,
                    subject="s",
                    subject_id=None,
                    started_at=run.started_at,
                    api={"requests": "99"},
                )
            )
            run.finish(run.started_at + timedelta(seconds=3), results)
            return run

        main, other = alice.connection.id, bob.connection.id
        old = await add_connection(repository, alice, "old")
        # Added out of order: the latest by start wins, not the last added.
        await _add(
            repository,
            sync_run(alice.user.id, 30, (main, {"requests": "3", "used_weight": "40/6000"})),
            sync_run(alice.user.id, 0, (main, {"requests": "2"}), (spare.id, {"requests": "5"})),
            sync_run(alice.user.id, -60, (main, {"requests": "1"}), (old.id, {"requests": "1"})),
            sync_run(bob.user.id, 0, (other, {"requests": "8"})),
            sync_run(bob.user.id, 30, (other, {})),  # the latest recorded nothing
        )
        async with repository.unit_of_work() as uow:
            found = await uow.runs.latest_figures(since=T0 - minutes(30))
        expected = sorted(
            [
                (
                    alice.user.id,
                    main,
                    T0 + minutes(30),
                    {"requests": "3", "used_weight": "40/6000"},
                ),
                (alice.user.id, spare.id, T0, {"requests": "5"}),
            ]
        )
        assert [(f.user_id, f.connection_id, f.recorded_at, dict(f.api)) for f in found] == expected
        assert {f.broker for f in found} == {alice.connection.broker}

    @pytest.mark.asyncio
    async def test_held_counts_the_unexpired_leases(self, repository: RepositoryPort) -> None:
        user_id, _ = await self._due_user(repository, "alice")
        await self._due_user(repository, "bob", ago=-30)  # not due: never claimed
        async with repository.unit_of_work() as uow:
            assert await uow.leases.held() == 0
        (lease,) = await self._claim_due(repository, A, ttl=LONG)
        assert lease.user_id == user_id
        async with repository.unit_of_work() as uow:
            assert await uow.leases.held() == 1
        assert await self._release(repository, lease, completed=True)
        async with repository.unit_of_work() as uow:
            assert await uow.leases.held() == 0

    @pytest.mark.asyncio
    async def test_an_expired_lease_is_not_held(self, repository: RepositoryPort) -> None:
        await self._due_user(repository, "alice")
        assert len(await self._claim_due(repository, A, ttl=LONG)) == 1
        (interval,) = await self._intervals(repository)
        async with committing(repository) as uow:
            assert await uow.leases.expire(interval)  # its holder is gone: it lapses now
        async with repository.unit_of_work() as uow:
            assert await uow.leases.held() == 0
