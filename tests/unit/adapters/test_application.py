"""The wired application as Python code uses it: one cycle now, and what it says when another
scheduler holds the user's cycle."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradecore.domain import RunStatus, Trigger
from tradecore.errors import CycleBusy, NotFound
from tradecore_adapters.bootstrap import Settings, bootstrap


async def test_run_cycle_runs_one_cycle_now_and_refuses_while_another_scheduler_holds_it() -> None:
    async with bootstrap(Settings(notifiers=())) as app:
        alice = await app.users.add("alice")
        await app.connections.add(alice.id, broker="paper", name="p1")

        ran = await app.run_cycle(alice.id)

        assert ran.status is RunStatus.SUCCESS
        assert [run.id for run in await app.automation.runs(alice.id)] == [ran.run_id]

        async with app.repository.unit_of_work() as uow:
            held = await uow.leases.claim(
                alice.id, "elsewhere:1:ab", ttl=timedelta(minutes=5), trigger=Trigger.CRON
            )
            await uow.commit()
        assert held is not None
        with pytest.raises(CycleBusy):
            await app.run_cycle(alice.id)
        assert len(await app.automation.runs(alice.id)) == 1
        with pytest.raises(NotFound):
            await app.run_cycle("no-such-user")
