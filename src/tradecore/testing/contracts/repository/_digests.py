"""Contract tests of the digest delivery of runs: pending digests, their claim by a lease's
fencing token, and the record of what was sent (``uow.runs``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from attrs import evolve

from tradecore.domain import AutomationRun, DigestDelivery, TaskKind
from tradecore.errors import NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_run, make_task_result
from tradecore.testing.contracts.repository._helpers import (
    T0,
    ContractBase,
    add_owner,
    committing,
    minutes,
)


async def _finished(
    repository: RepositoryPort,
    user_id: str,
    *,
    at: timedelta = timedelta(0),
    digest: DigestDelivery | None = DigestDelivery.PENDING,
) -> AutomationRun:
    run = make_run(user_id=user_id, started_at=T0 + at)
    run.finish(T0 + at + timedelta(seconds=5), [make_task_result()])
    run.digest = digest
    async with committing(repository) as uow:
        await uow.runs.add(run)
    return run


async def _claim(repository: RepositoryPort, run: AutomationRun, fencing: int) -> bool:
    async with committing(repository) as uow:
        return await uow.runs.claim_digest(run.user_id, run.id, fencing=fencing)


class DigestTests(ContractBase):
    """Digests: pending ones listed oldest first; one claim per newer lease; a record only by
    the claim's holder."""

    @pytest.mark.asyncio
    async def test_pending_digests_are_the_users_finished_runs_oldest_first(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        later = await _finished(repository, alice.user.id, at=minutes(30))
        first = await _finished(repository, alice.user.id)
        await _finished(repository, alice.user.id, at=minutes(5), digest=DigestDelivery.DELIVERED)
        await _finished(repository, alice.user.id, at=minutes(6), digest=None)
        await _finished(repository, bob.user.id, at=minutes(7))
        unfinished = make_run(user_id=alice.user.id, started_at=T0 + minutes(40))
        unfinished.digest = DigestDelivery.PENDING
        async with committing(repository) as uow:
            await uow.runs.add(unfinished)
        async with repository.unit_of_work() as uow:
            pending = await uow.runs.pending_digests(alice.user.id, limit=10)
            assert [run.id for run in pending] == [first.id, later.id]
            assert pending[0] == first
            assert [r.id for r in await uow.runs.pending_digests(alice.user.id, limit=1)] == [
                first.id
            ]

    @pytest.mark.asyncio
    async def test_a_digest_is_claimed_once_per_newer_lease_and_never_once_delivered(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        run = await _finished(repository, owner.user.id)
        assert await _claim(repository, run, 5)
        assert await _claim(repository, run, 5), "its holder confirms its own claim"
        assert not await _claim(repository, run, 4), "an older lease's claim is refused"
        async with repository.unit_of_work() as uow:
            assert (await uow.runs.get(owner.user.id, run.id)).digest_claim == 5
        assert await _claim(repository, run, 6), "a newer lease takes it over"
        run.digest = DigestDelivery.DELIVERED
        async with committing(repository) as uow:
            assert await uow.runs.record_digest(run, fencing=6)
        assert not await _claim(repository, run, 7), "a delivered digest is never claimed"
        untracked = await _finished(repository, owner.user.id, digest=None)
        assert not await _claim(repository, untracked, 1)

    @pytest.mark.asyncio
    async def test_an_update_keeps_the_claim(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        run = await _finished(repository, owner.user.id)
        assert await _claim(repository, run, 3)
        run.add_step(make_task_result(kind=TaskKind.NOTIFY, subject="console", subject_id=None))
        async with committing(repository) as uow:
            await uow.runs.update(run)  # run.digest_claim is None in this copy
        assert not await _claim(repository, run, 2)
        async with repository.unit_of_work() as uow:
            stored = await uow.runs.get(owner.user.id, run.id)
        assert stored.digest_claim == 3
        assert stored.steps == run.steps

    @pytest.mark.asyncio
    async def test_only_the_claims_holder_records_the_delivery(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        run = await _finished(repository, owner.user.id)
        assert await _claim(repository, run, 1)
        assert await _claim(repository, run, 2)  # the first holder lost its lease
        sent = evolve(run, digest=DigestDelivery.DELIVERED)
        sent.add_step(make_task_result(kind=TaskKind.NOTIFY, subject="telegram", subject_id=None))
        async with committing(repository) as uow:
            assert not await uow.runs.record_digest(sent, fencing=1)
        async with repository.unit_of_work() as uow:
            stored = await uow.runs.get(owner.user.id, run.id)
        assert stored.digest is DigestDelivery.PENDING
        assert stored.steps == run.steps
        async with committing(repository) as uow:
            assert await uow.runs.record_digest(sent, fencing=2)
        async with repository.unit_of_work() as uow:
            stored = await uow.runs.get(owner.user.id, run.id)
            assert await uow.runs.pending_digests(owner.user.id, limit=5) == []
        assert stored.digest is DigestDelivery.DELIVERED
        assert [step.kind for step in stored.steps] == [TaskKind.SYNC, TaskKind.NOTIFY]
        assert stored.digest_claim == 2

    @pytest.mark.asyncio
    async def test_another_users_run_is_not_found(self, repository: RepositoryPort) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        run = await _finished(repository, alice.user.id)
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.runs.claim_digest(bob.user.id, run.id, fencing=9)
            with pytest.raises(NotFound):
                await uow.runs.record_digest(evolve(run, user_id=bob.user.id), fencing=9)
            with pytest.raises(NotFound):
                await uow.runs.claim_digest(alice.user.id, "no-such-run", fencing=9)
        async with repository.unit_of_work() as uow:
            assert (await uow.runs.get(alice.user.id, run.id)).digest_claim is None

    @pytest.mark.asyncio
    async def test_a_claim_waits_for_a_concurrent_one_and_then_sees_it(
        self, repository: RepositoryPort
    ) -> None:
        # Two schedulers claim the same digest at once: the second waits for the first's
        # commit and then finds it claimed by a newer lease: one delivers.
        owner = await add_owner(repository)
        run = await _finished(repository, owner.user.id)
        async with repository.unit_of_work() as first:
            assert await first.runs.claim_digest(owner.user.id, run.id, fencing=8)
            second = asyncio.create_task(_claim(repository, run, 7))
            await asyncio.sleep(0.2)
            assert not second.done(), "the second claim waits for the first unit"
            await first.commit()
        assert not await asyncio.wait_for(second, timeout=30)
        async with repository.unit_of_work() as uow:
            assert (await uow.runs.get(owner.user.id, run.id)).digest_claim == 8
