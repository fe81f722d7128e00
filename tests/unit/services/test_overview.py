"""The overview: each connection's state and last sync from the ledger, and the automation's
state and success rate, for one user only."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from tests.fakes.fake_venue import FakeVenue

from tradecore.domain import AutomationState, RunStatus, TaskKind, TaskStatus
from tradecore.errors import NotFound
from tradecore.services import Automation, Connections, Overview, ServiceContext, Users
from tradecore.testing import FakeClock
from tradecore.testing.builders import make_run, make_task_result


async def test_the_overview_reads_connections_last_syncs_and_automation(
    context: ServiceContext, clock: FakeClock, venue: FakeVenue
) -> None:
    alice = (await Users(context).add("alice")).id
    bob = (await Users(context).add("bob")).id
    connections = Connections(context)
    main = await connections.add(alice, broker="fake", name="main")
    await connections.add(alice, broker="fake", name="spare")
    await connections.set_active(alice, "spare", active=False)
    bobs = await connections.add(bob, broker="fake", name="bobs")
    await Automation(context).start(alice)

    async with context.repository.unit_of_work() as uow:
        for minutes, status, step_status in (
            (0, RunStatus.SUCCESS, TaskStatus.SUCCESS),
            (30, RunStatus.FAILURE, TaskStatus.FAILURE),
        ):
            started = clock.now() + timedelta(minutes=minutes)
            sync = make_task_result(
                kind=TaskKind.SYNC,
                subject="main",
                subject_id=main.id,
                status=step_status,
                started_at=started,
            )
            await uow.runs.add(
                make_run(
                    user_id=alice,
                    started_at=started,
                    finished_at=started + timedelta(seconds=5),
                    status=status,
                    steps=[sync],
                )
            )
        other = make_task_result(kind=TaskKind.SYNC, subject="bobs", subject_id=bobs.id)
        await uow.runs.add(make_run(user_id=bob, status=RunStatus.SUCCESS, steps=[other]))
        await uow.commit()

    overview = await Overview(context).of(alice)

    shown = {each.connection.name: each for each in overview.connections}
    assert set(shown) == {"main", "spare"}
    assert shown["main"].last_sync_at == clock.now() + timedelta(minutes=30)
    assert shown["main"].last_sync_ok is False
    assert shown["main"].problem is None
    assert shown["spare"].last_sync is None
    assert shown["spare"].problem == "disabled"
    assert overview.automation.state is AutomationState.ACTIVE
    assert overview.last_run is not None
    assert overview.last_run.status is RunStatus.FAILURE
    assert overview.success_rate == 0.5
    with pytest.raises(NotFound):
        await Overview(context).of("nobody")


async def test_a_connection_whose_plugin_is_gone_says_so(context: ServiceContext) -> None:
    alice = (await Users(context).add("alice")).id
    await Connections(context).add(alice, broker="fake", name="main")
    without = attrs.evolve(context, brokers={})
    [only] = (await Overview(without).of(alice)).connections
    assert only.problem == "its broker plugin 'fake' is not installed"
