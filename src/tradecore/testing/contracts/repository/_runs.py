"""Contract tests of ``uow.runs``: runs with their steps, newest first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradecore.domain import TaskKind, TaskStatus, new_id
from tradecore.errors import AlreadyExists, NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_run, make_task_result
from tradecore.testing.contracts.repository._helpers import (
    T0,
    ContractBase,
    add_owner,
    committing,
    minutes,
)


class RunTests(ContractBase):
    """Runs: exact round trips with steps, updates, newest-first listing, errors."""

    @pytest.mark.asyncio
    async def test_run_with_steps_round_trips_exactly(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        run = make_run(user_id=owner.user.id)
        run.finish(
            T0 + timedelta(seconds=7),
            [
                make_task_result(
                    subject="main",
                    subject_id=owner.connection.id,
                    duration=timedelta(milliseconds=1250),
                    counts={"positions": 3, "trades_new": 2, "trades_seen": 0},
                    api={"requests": "4", "used_weight": "120/1200"},
                ),
                make_task_result(
                    kind=TaskKind.STRATEGY,
                    subject="dca-btc",
                    subject_id=None,
                    status=TaskStatus.FAILURE,
                    error="order rejected: insufficient balance (needs 25.50 USDT)",
                ),
            ],
        )
        async with committing(repository) as uow:
            await uow.runs.add(run)
        async with repository.unit_of_work() as uow:
            stored = await uow.runs.get(owner.user.id, run.id)
        assert stored == run
        assert stored.steps[0].counts == {"positions": 3, "trades_new": 2, "trades_seen": 0}
        assert stored.steps[1].error == run.steps[1].error
        assert stored.duration == timedelta(seconds=7)

    @pytest.mark.asyncio
    async def test_run_is_updated_after_a_step_is_added(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        run = make_run(user_id=owner.user.id)
        async with committing(repository) as uow:
            await uow.runs.add(run)
        run.finish(T0 + minutes(1), [make_task_result()])
        run.add_step(make_task_result(kind=TaskKind.NOTIFY, subject="telegram", subject_id=None))
        async with committing(repository) as uow:
            await uow.runs.update(run)
        async with repository.unit_of_work() as uow:
            stored = await uow.runs.get(owner.user.id, run.id)
        assert stored == run
        assert [step.kind for step in stored.steps] == [TaskKind.SYNC, TaskKind.NOTIFY]

    @pytest.mark.asyncio
    async def test_runs_are_listed_newest_first_with_a_limit(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        runs = [make_run(user_id=owner.user.id, started_at=T0 + minutes(n)) for n in (30, 0, 60)]
        async with committing(repository) as uow:
            for run in runs:
                await uow.runs.add(run)
        async with repository.unit_of_work() as uow:
            everything = await uow.runs.list(owner.user.id)
            newest_two = await uow.runs.list(owner.user.id, limit=2)
        assert [r.started_at for r in everything] == [T0 + minutes(n) for n in (60, 30, 0)]
        assert [r.id for r in newest_two] == [runs[2].id, runs[0].id]

    @pytest.mark.asyncio
    async def test_run_errors(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        run = make_run(user_id=owner.user.id)
        async with committing(repository) as uow:
            await uow.runs.add(run)
        async with repository.unit_of_work() as uow:
            with pytest.raises(AlreadyExists):
                await uow.runs.add(run)
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.runs.add(make_run(user_id=new_id()))
            with pytest.raises(NotFound):
                await uow.runs.get(owner.user.id, new_id())
            with pytest.raises(NotFound):
                await uow.runs.update(make_run(user_id=owner.user.id))
