"""A Binance ban (HTTP 418) is obeyed by every process sharing one SQLite database: after the
first process got the 418, the next ones send nothing to the banned host until the ban ends
(https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits: bans escalate, from
2 minutes to 3 days, for an IP that goes on sending).

Once with separately opened applications (each its own engine) on one simulated clock, which
also moves past the ban's end; once with three real ``tradecore sync`` processes."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.integration.limits.binance_processes import Tradecore, funded_fake, prepare_home

from tradecore.testing import FakeClock
from tradecore_adapters.bootstrap import open_application


async def sync_alice(home: Path, clock: FakeClock) -> str | None:
    """One ``sync`` of alice in a newly opened application; the problem, if any."""
    async with await open_application(environ={"TRADECORE_HOME": str(home)}, clock=clock) as app:
        user = await app.users.find("alice")
        [outcome] = await app.portfolio.sync(user.id)
        return outcome.problem


async def test_three_applications_in_a_row_send_nothing_to_a_banned_host_until_it_ends(
    tmp_path: Path,
) -> None:
    clock = FakeClock(datetime.now(UTC))
    fake = funded_fake(clock_ms=lambda: int(clock.now().timestamp() * 1000))
    home = tmp_path / "home"
    with fake.serve() as url:
        # The command line runs its own event loop: in a thread beside this test's.
        await asyncio.to_thread(prepare_home, home, {"alice": url}, symbols="BTCUSDT")
        fake.ban(600)

        first = await sync_alice(home, clock)
        assert first is not None
        assert "banned this IP" in first
        assert fake.statuses() == [418], "the first process learns of the ban: one request"

        for _ in range(2):
            clock.advance(timedelta(minutes=4))
            problem = await sync_alice(home, clock)
            assert problem is not None
            assert "not sent" in problem, problem
        assert fake.statuses() == [418], "the next two processes sent nothing"

        clock.advance(timedelta(minutes=2))  # 10 minutes: the ban is over
        assert await sync_alice(home, clock) is None
    statuses = fake.statuses()
    assert statuses[0] == 418
    assert len(statuses) > 1
    assert set(statuses[1:]) == {200}, "after the ban, requests go again and succeed"
    assert all(at >= fake.banned_until_ms for at, _ in fake.answered[1:])


@pytest.mark.slow
def test_three_sync_processes_in_a_row_send_nothing_to_a_banned_host(tmp_path: Path) -> None:
    ban = 60  # generous: three process starts on a slow machine fit in it
    fake = funded_fake()
    home = tmp_path / "home"
    tradecore = Tradecore(home)
    with fake.serve() as url:
        prepare_home(home, {"alice": url}, symbols="BTCUSDT")
        fake.ban(ban)
        banned_at = time.monotonic()

        first = tradecore.run("sync", "--user", "alice")
        assert first.returncode == 1, first.stdout + first.stderr
        assert "banned this IP" in first.stdout + first.stderr
        assert fake.statuses() == [418]

        for _ in range(2):
            done = tradecore.run("sync", "--user", "alice")
            output = done.stdout + done.stderr
            assert done.returncode == 1, output
            assert "nothing is sent to 127.0.0.1 until then" in output, output
        assert time.monotonic() - banned_at < ban, "inconclusive: the ban ended during the test"
        assert fake.statuses() == [418], "processes 2 and 3 sent nothing to the banned host"

        time.sleep(max(0.0, ban + 1 - (time.monotonic() - banned_at)))
        after = tradecore.run("sync", "--user", "alice")
        assert after.returncode == 0, after.stdout + after.stderr
    assert set(fake.statuses()[1:]) == {200}
