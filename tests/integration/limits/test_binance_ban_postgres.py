"""Four real ``tradecore daemon`` processes on one PostgreSQL database, during a Binance ban that
one ``tradecore sync`` process learned (HTTP 418 with ``Retry-After``): every user's cycle runs,
and not one request reaches the banned host; each run says why its sync failed."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.fakes.binance_exchange import FakeBinance
from tests.integration.scheduler.daemon_harness import (
    Daemon,
    add_binance_users,
    daemon_env,
    daemon_owners,
    finished_runs,
    intervals,
    make_all_due,
    migrated,
    wait_for,
    wait_wave_done,
)

from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.schema import run_steps

pytestmark = pytest.mark.slow

USERS = 16
DAEMONS = 4
BAN = 300  # seconds: far longer than the test, so every request during it is counted


@pytest.fixture
async def repository(postgres_url: str) -> AsyncIterator[tuple[SqlRepository, str, str]]:
    async with migrated(postgres_url) as opened:
        yield opened


async def test_four_daemons_send_nothing_to_a_host_banned_by_another_process(
    tmp_path: Path, repository: tuple[SqlRepository, str, str]
) -> None:
    repo, url, key = repository
    fake = FakeBinance()
    fake.add_symbol("BTCUSDT", "BTC", "USDT", price="50000.00")
    for n in range(USERS):
        fake.add_account(f"key-{n}", secret=f"secret-{n}", balances={"USDT": ("100000", "0")})
    with fake.serve() as base_url:
        await add_binance_users(repo, base_url, USERS)
        env = daemon_env(
            tmp_path,
            TRADECORE_DATABASE_URL=url,
            TRADECORE_SECRET_KEY=key,
            AUTOMATION_LEASE_SECONDS="10",
            AUTOMATION_IDLE_CHECK_SECONDS="1",
            AUTOMATION_MAX_CONCURRENT_CYCLES="4",
        )
        fake.ban(BAN)
        banned_at = time.monotonic()
        learner = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "tradecore_cli", "sync", "--user", "trader000"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert learner.returncode == 1, learner.stdout + learner.stderr
        assert "banned this IP" in learner.stdout + learner.stderr
        assert fake.statuses() == [418], "one process learned of the ban with one request"

        logs = tmp_path / "logs"
        logs.mkdir()
        daemons = [Daemon.start(f"daemon{n}", env, logs) for n in range(DAEMONS)]
        try:

            async def all_registered() -> bool:
                for daemon in daemons:
                    assert daemon.process.poll() is None, daemon.stderr()
                return len(await daemon_owners(repo)) == DAEMONS

            await wait_for(all_registered, timeout=90, what="4 daemons to register", every=0.2)
            await make_all_due(repo)
            await wait_wave_done(repo, timeout=120)
            runs = await finished_runs(repo)
            assert len({run.user_id for run in runs if run.finished}) == USERS
            owners = {interval.owner for interval in await intervals(repo)}
            assert len(owners) >= 2, f"the cycles were shared by the daemons: {owners}"
            assert time.monotonic() - banned_at < BAN, "inconclusive: the ban ended meanwhile"
            assert fake.statuses() == [418], "four daemons sent nothing during the ban"

            async with repo.engine.connect() as db:
                errors = (
                    (await db.execute(select(run_steps.c.error).where(run_steps.c.kind == "sync")))
                    .scalars()
                    .all()
                )
            assert len(errors) == USERS
            assert all(error and "not sent" in error for error in errors), errors
            for daemon in daemons:
                daemon.signal(signal.SIGTERM)
            for daemon in daemons:
                assert await daemon.wait(60) == 0, daemon.stderr()
        finally:
            for daemon in daemons:
                daemon.close()
