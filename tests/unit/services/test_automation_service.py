"""The automation use cases: controls, run now (and whether a daemon will start it), status,
the run ledger scoped to its user, and retention."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from tradecore.domain import AutomationState, DaemonInfo
from tradecore.errors import DomainError, NotFound
from tradecore.services import Automation, Retention, ServiceContext, Users
from tradecore.testing import FakeClock
from tradecore.testing.builders import make_run


async def test_controls_follow_the_schedule_rules(context: ServiceContext) -> None:
    alice = (await Users(context).add("alice")).id
    automation = Automation(context)

    started = await automation.start(alice)
    assert started.state is AutomationState.ACTIVE
    assert started.frequency_minutes == context.default_frequency_minutes
    assert (await automation.pause(alice)).state is AutomationState.PAUSED
    assert (await automation.resume(alice)).state is AutomationState.ACTIVE
    assert (await automation.set_frequency(alice, 5)).frequency_minutes == 5
    with pytest.raises(DomainError, match="between 5 and 120"):
        await automation.set_frequency(alice, 121)
    assert (await automation.status(alice)).frequency_minutes == 5
    assert (await automation.stop(alice)).state is AutomationState.STOPPED
    with pytest.raises(NotFound):
        await automation.start("no-such-user")


async def test_run_now_says_whether_a_live_daemon_will_start_it(
    context: ServiceContext, clock: FakeClock
) -> None:
    alice = (await Users(context).add("alice")).id
    automation = Automation(context)
    queued = await automation.run_now(alice)
    assert queued.config.run_requested_at == clock.now()
    assert not queued.daemon_running

    async with context.repository.unit_of_work() as uow:
        now = await uow.leases.now()
        await uow.daemons.register(
            DaemonInfo(owner="h:1:ab", host="h", pid=1, started_at=now, seen_at=now)
        )
        await uow.commit()
    assert (await automation.run_now(alice)).daemon_running
    clock.advance(context.lease_ttl * 3 + timedelta(seconds=1))  # silent for three lease times
    assert not (await automation.run_now(alice)).daemon_running
    assert [d.owner for d in (await automation.daemons()).registered] == ["h:1:ab"]


async def test_runs_are_the_users_own(context: ServiceContext) -> None:
    alice = (await Users(context).add("alice")).id
    bob = (await Users(context).add("bob")).id
    run = make_run(user_id=alice)
    async with context.repository.unit_of_work() as uow:
        await uow.runs.add(run)
        await uow.commit()
    automation = Automation(context)
    assert [each.id for each in await automation.runs(alice)] == [run.id]
    assert (await automation.run(alice, run.id)).id == run.id
    assert await automation.runs(bob) == []
    with pytest.raises(NotFound, match=f"^there is no run '{run.id}'$"):
        await automation.run(bob, run.id)
    with pytest.raises(DomainError, match="limit"):
        await automation.runs(alice, limit=0)
    assert [status.user_id for status in await automation.statuses()] == [alice, bob]


async def test_prune_applies_the_configured_retention(
    context: ServiceContext, clock: FakeClock
) -> None:
    alice = (await Users(context).add("alice")).id
    async with context.repository.unit_of_work() as uow:
        for _ in range(3):
            await uow.runs.add(make_run(user_id=alice, started_at=clock.now()))
            clock.advance(timedelta(minutes=1))
        await uow.commit()
    assert (await Automation(context).prune()).runs == 0  # no retention: keep everything
    keep_two = attrs.evolve(context, retention=Retention(max_age=None, keep_per_user=2))
    assert (await Automation(keep_two).prune()).runs == 1
    assert len(await Automation(context).runs(alice)) == 2
