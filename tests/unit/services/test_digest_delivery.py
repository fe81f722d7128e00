"""A cycle's digest is delivered once even when its sender loses the cycle's lease while sending
it (:mod:`tradecore.services.digests`): the sender stops before its next send and what it sent
stays recorded; the next owner of the cycle sends the digest to the targets it had not reached;
an old owner waking up after the takeover records and sends nothing more; two schedulers racing
for the cycle deliver it once."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from tests.unit.services.test_fencing import TTL, LapsingNotifier, RecordingNotifier, World

from tradecore.domain import AutomationRun, Digest, DigestDelivery, TaskKind, TaskStatus, Trigger


@pytest.fixture
async def world() -> World:
    w = World()
    await w.setup()
    return w


async def stored_run(world: World, run_id: str) -> AutomationRun:
    async with world.repository.unit_of_work() as uow:
        return await uow.runs.get(world.user.id, run_id)


def notified(run: AutomationRun) -> list[tuple[str, TaskStatus]]:
    return [(s.subject, s.status) for s in run.steps if s.kind is TaskKind.NOTIFY]


async def test_a_digest_cut_off_by_a_lost_lease_is_shown_pending_then_delivered_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    slow, after = LapsingNotifier(world.clock), RecordingNotifier("after")
    first = world.scheduler("a:1:aa")
    first.cycle.notifiers = (slow, after)
    (lost,) = (await first.run_pass(trigger=Trigger.SCHEDULE, user_ids=[world.user.id])).runs

    pending = await stored_run(world, lost.run_id)
    assert pending.digest is DigestDelivery.PENDING
    assert notified(pending) == [("slow", TaskStatus.SUCCESS)]
    assert f"the digest of run {lost.run_id} was not sent to after: the lease was lost" in (
        caplog.text
    )

    calm = RecordingNotifier("slow")  # the same target, now answering at once
    for owner in ("b:2:bb", "c:3:cc"):  # the next owner delivers it; the one after, nothing
        scheduler = world.scheduler(owner)
        scheduler.cycle.notifiers = (calm, after)
        await scheduler.run_pass(trigger=Trigger.SCHEDULE, force=True)
    delivered = await stored_run(world, lost.run_id)
    assert delivered.digest is DigestDelivery.DELIVERED
    assert notified(delivered) == [("slow", TaskStatus.SUCCESS), ("after", TaskStatus.SUCCESS)]
    assert lost.run_id not in [d.run_id for d in calm.digests], "slow had it already"
    assert [d.run_id for d in after.digests].count(lost.run_id) == 1
    # B served the slot with the finished run; C ran a cycle, whose digest each target got once.
    assert (len(calm.digests), len(after.digests)) == (1, 2)
    assert f"sending the digest of run {lost.run_id}" in caplog.text
    # The late digest is the run's own, as it would have been sent.
    (late,) = [d for d in after.digests if d.run_id == lost.run_id]
    assert late == Digest.from_run(delivered, user_name="alice")


class StallingNotifier:
    """Its first send stalls (the process is stopped mid-send) until ``resume`` is set."""

    name = "chat"

    def __init__(self) -> None:
        self.stalled = asyncio.Event()
        self.resume = asyncio.Event()
        self.delivered: list[str] = []

    async def send(self, digest: Digest) -> None:
        if not self.stalled.is_set():
            self.stalled.set()
            await self.resume.wait()
        self.delivered.append(digest.run_id)

    async def aclose(self) -> None:
        return None


async def test_an_old_owner_waking_mid_send_after_the_takeover_records_and_sends_nothing_more(
    world: World,
) -> None:
    chat, after = StallingNotifier(), RecordingNotifier("after")
    old = world.scheduler("a:1:aa")
    old.cycle.notifiers = (chat, after)
    uid = world.user.id
    a = asyncio.create_task(old.run_pass(trigger=Trigger.SCHEDULE, user_ids=[uid]))
    await asyncio.wait_for(chat.stalled.wait(), timeout=10)

    world.clock.advance(TTL + timedelta(seconds=1))  # A's lease lapses while it is stopped
    new = world.scheduler("b:2:bb")
    new.cycle.notifiers = (chat, after)
    (served,) = (await new.run_pass(trigger=Trigger.SCHEDULE)).runs
    run_id = served.run_id
    assert chat.delivered == [run_id]
    assert [d.run_id for d in after.digests] == [run_id]
    by_b = await stored_run(world, run_id)
    assert by_b.digest is DigestDelivery.DELIVERED

    chat.resume.set()  # A wakes up: its send was in flight, it completes
    await asyncio.wait_for(a, timeout=10)
    assert chat.delivered == [run_id, run_id], "the send in flight at the takeover (documented)"
    assert [d.run_id for d in after.digests] == [run_id], "A sends nothing more"
    assert await stored_run(world, run_id) == by_b, "A's record was refused: B's stands"


async def test_two_schedulers_racing_for_a_pending_digest_deliver_it_once(world: World) -> None:
    slow, after = LapsingNotifier(world.clock), RecordingNotifier("after")
    first = world.scheduler("a:1:aa")
    first.cycle.notifiers = (slow, after)
    (lost,) = (await first.run_pass(trigger=Trigger.SCHEDULE, user_ids=[world.user.id])).runs
    assert after.digests == []

    racers = [world.scheduler(owner) for owner in ("b:2:bb", "c:3:cc")]
    for racer in racers:
        racer.cycle.notifiers = (slow, after)
    await asyncio.gather(*(r.run_pass(trigger=Trigger.SCHEDULE, force=True) for r in racers))
    assert [d.run_id for d in after.digests].count(lost.run_id) == 1
    assert (await stored_run(world, lost.run_id)).digest is DigestDelivery.DELIVERED
