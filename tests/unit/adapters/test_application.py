"""The wired application as Python code uses it: one cycle now, and what it says when another
scheduler holds the user's cycle."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest

from tradecore.domain import RunStatus, Trigger
from tradecore.errors import CycleBusy, NotFound
from tradecore_adapters.bootstrap import Settings, bootstrap, owner_is_gone


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


def test_only_a_process_of_this_host_that_no_longer_exists_is_known_to_be_gone() -> None:
    host = socket.gethostname()
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # reaped: its pid names no process now
    assert owner_is_gone(f"{host}:{finished.pid}:ab")
    assert not owner_is_gone(f"{host}:{os.getpid()}:ab")  # this process
    assert not owner_is_gone(f"{host}:{os.getppid()}:ab")  # alive
    assert not owner_is_gone(f"another-host-{host}:{finished.pid}:ab")  # its lease lapses
    assert not owner_is_gone("not-a-scheduler-name")
    assert not owner_is_gone(f"{host}:abc:ab")
