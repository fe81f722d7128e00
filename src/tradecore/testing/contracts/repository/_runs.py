"""Contract tests of ``uow.runs``: runs with their steps, newest first, and pruning."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradecore.domain import AutomationRun, Phrase, TaskKind, TaskStatus, joined, new_id, phrase
from tradecore.errors import AlreadyExists, DomainError, NotFound
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
    async def test_phrases_read_back_as_phrases_with_their_msgid_and_values(
        self, repository: RepositoryPort
    ) -> None:
        # A digest re-sent from the ledger must still be translatable (docs/translations.md).
        owner = await add_owner(repository)
        intent = phrase("buy {quantity} {symbol} at market", quantity="0.0017", symbol="BTC-USD")
        note = joined([phrase("next buy due at {when}", when="2026-11-22 10:00 UTC"), "plain"])
        error = phrase("{intent} rejected: {reason}", intent=intent, reason="{not a slot} <&>")
        run = make_run(user_id=owner.user.id)
        run.finish(
            T0 + timedelta(seconds=1),
            [
                make_task_result(
                    kind=TaskKind.STRATEGY,
                    subject="dca-btc",
                    status=TaskStatus.FAILURE,
                    error=error,
                    notes=[note, "a plugin's own words"],
                )
            ],
        )
        async with committing(repository) as uow:
            await uow.runs.add(run)
        async with repository.unit_of_work() as uow:
            (step,) = (await uow.runs.get(owner.user.id, run.id)).steps
        assert step.error == "buy 0.0017 BTC-USD at market rejected: {not a slot} <&>"
        assert isinstance(step.error, Phrase)
        assert (step.error.msgid, step.error.params) == (error.msgid, error.params)
        assert isinstance(step.error.params["intent"], Phrase)
        stored_note, plain = step.notes
        assert isinstance(stored_note, Phrase)
        assert stored_note.literal
        assert stored_note.params == note.params  # type: ignore[attr-defined]
        assert isinstance(stored_note.params["p0"], Phrase)
        assert plain == "a plugin's own words"
        assert not isinstance(plain, Phrase)

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
            with pytest.raises(AlreadyExists, match=f"a run with id {run.id!r}"):
                await uow.runs.add(run)
            # The unit is still usable after the refusal: the same unit goes on.
            assert (await uow.runs.get(owner.user.id, run.id)).id == run.id
        async with repository.unit_of_work() as uow:
            stranger = new_id()
            with pytest.raises(NotFound, match=f"no user {stranger!r}"):
                await uow.runs.add(make_run(user_id=stranger))
            with pytest.raises(NotFound):
                await uow.runs.get(owner.user.id, new_id())
            with pytest.raises(NotFound):
                await uow.runs.update(make_run(user_id=owner.user.id))


class RunPruneTests(ContractBase):
    """``runs.prune``: by age, by count per user (the newest kept), both, with the steps."""

    async def _store_runs(
        self, repository: RepositoryPort, user_id: str, starts: list[int]
    ) -> list[AutomationRun]:
        runs = []
        for start in starts:
            run = make_run(user_id=user_id, started_at=T0 + minutes(start))
            run.finish(T0 + minutes(start + 1), [make_task_result(started_at=T0 + minutes(start))])
            runs.append(run)
        async with committing(repository) as uow:
            for run in runs:
                await uow.runs.add(run)
        return runs

    async def _started(self, repository: RepositoryPort, user_id: str) -> list[int]:
        async with repository.unit_of_work() as uow:
            runs = await uow.runs.list(user_id, limit=100)
        return [(run.started_at - T0) // minutes(1) for run in runs]

    @pytest.mark.asyncio
    async def test_prune_deletes_runs_started_before_a_time(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        old = await self._store_runs(repository, alice.user.id, [0, 10, 20, 30])
        await self._store_runs(repository, bob.user.id, [5, 25])

        async with committing(repository) as uow:
            deleted = await uow.runs.prune(started_before=T0 + minutes(20), keep_per_user=None)

        assert deleted == 3
        assert await self._started(repository, alice.user.id) == [30, 20]
        assert await self._started(repository, bob.user.id) == [25]
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.runs.get(alice.user.id, old[0].id)
            kept = await uow.runs.get(alice.user.id, old[2].id)
        assert kept == old[2]  # with its steps

    @pytest.mark.asyncio
    async def test_prune_keeps_the_newest_runs_of_each_user(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        await self._store_runs(repository, alice.user.id, [20, 0, 40, 10, 30])
        await self._store_runs(repository, bob.user.id, [1, 2])

        async with committing(repository) as uow:
            deleted = await uow.runs.prune(started_before=None, keep_per_user=3)

        assert deleted == 2
        assert await self._started(repository, alice.user.id) == [40, 30, 20]
        assert await self._started(repository, bob.user.id) == [2, 1]

    @pytest.mark.asyncio
    async def test_prune_applies_both_rules_and_none_turns_a_rule_off(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        await self._store_runs(repository, alice.user.id, [0, 10, 20, 30])
        await self._store_runs(repository, bob.user.id, [0, 50])

        async with committing(repository) as uow:
            assert await uow.runs.prune(started_before=None, keep_per_user=None) == 0
            deleted = await uow.runs.prune(started_before=T0 + minutes(5), keep_per_user=2)
            with pytest.raises(DomainError):
                await uow.runs.prune(started_before=None, keep_per_user=0)

        assert deleted == 3  # alice's 0 and 10, bob's 0
        assert await self._started(repository, alice.user.id) == [30, 20]
        assert await self._started(repository, bob.user.id) == [50]

    @pytest.mark.asyncio
    async def test_a_rolled_back_prune_deletes_nothing(self, repository: RepositoryPort) -> None:
        alice = await add_owner(repository)
        await self._store_runs(repository, alice.user.id, [0, 10])
        async with repository.unit_of_work() as uow:
            assert await uow.runs.prune(started_before=None, keep_per_user=1) == 1
        assert await self._started(repository, alice.user.id) == [10, 0]
