"""Real ``tradecore daemon`` processes on a SQLite home with paper connections: one daemon, then
two on the same host, run each due cycle exactly once per wave with no overlapping leases and
stop with exit 0 on SIGTERM; a daemon is refused at once while a daemon of another host is
registered on the same SQLite file."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.integration.scheduler.daemon_harness import (
    Daemon,
    assert_no_overlap,
    completed_per_user,
    daemon_env,
    daemon_owners,
    finished_runs,
    intervals,
    make_all_due,
    orders_per_user,
    push_all_out,
    wait_for,
    wait_wave_done,
)

from tradecore.domain import BrokerConnection, DaemonInfo, User
from tradecore.services import start_automation
from tradecore.services.strategies import add_strategy
from tradecore_adapters.clock import SystemClock
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.migrate import upgrade
from tradecore_adapters.strategies.dca import DCA_FACTORY

pytestmark = pytest.mark.slow

USERS = 12
WAVES = 3


class Home:
    def __init__(self, base: Path, repository: SqlRepository, key: str) -> None:
        self.base = base
        self.repository = repository
        self.env = daemon_env(
            base,
            TRADECORE_SECRET_KEY=key,
            AUTOMATION_LEASE_SECONDS="3",
            AUTOMATION_IDLE_CHECK_SECONDS="1",
            AUTOMATION_MAX_CONCURRENT_CYCLES="4",
            AUTOMATION_SHUTDOWN_GRACE="20",
        )
        self.logs = base / "logs"
        self.logs.mkdir()


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[Home]:
    (tmp_path / "home").mkdir()
    url = f"sqlite:///{tmp_path / 'home' / 'tradecore.db'}"
    key = KeyRing.generate_key()
    await upgrade(url)
    repository = await SqlRepository.open(url, key_ring=KeyRing.from_keys([key]))
    yield Home(tmp_path, repository, key)
    await repository.aclose()


async def add_users(repository: SqlRepository) -> list[str]:
    clock = SystemClock()
    ids = []
    for n in range(USERS):
        user = User(name=f"paper{n:02d}", created_at=clock.now())
        connection = BrokerConnection(
            user_id=user.id, broker="paper", name="p1", settings={"seed": str(n)},
            created_at=clock.now(),
        )  # fmt: skip
        async with repository.unit_of_work() as uow:
            await uow.users.add(user)
            await uow.connections.add(connection)
            await uow.commit()
        await add_strategy(
            repository=repository,
            factories={"dca": DCA_FACTORY},
            clock=clock,
            user_id=user.id,
            strategy_type="dca",
            name="stack",
            connection_id=connection.id,
            parameters={"instrument": "BTC-USD", "amount": "100", "every": "5m"},
        )
        await start_automation(repository, user.id, default_frequency_minutes=30)
        ids.append(user.id)
    await push_all_out(repository)
    return ids


async def run_waves(home: Home, user_ids: list[str], daemons: list[Daemon]) -> list[float]:
    async def registered() -> bool:
        for daemon in daemons:
            assert daemon.process.poll() is None, daemon.stderr()
        return len(await daemon_owners(home.repository)) == len(daemons)

    await wait_for(registered, timeout=60, what="the daemons to register", every=0.2)
    durations = []
    for wave in range(1, WAVES + 1):
        started = time.monotonic()
        await make_all_due(home.repository)
        await wait_wave_done(home.repository, timeout=60)
        durations.append(time.monotonic() - started)
        runs = await finished_runs(home.repository)
        counts = completed_per_user(runs)
        assert {user_id: counts.get(user_id, 0) for user_id in user_ids} == dict.fromkeys(
            user_ids, wave
        ), f"wave {wave}: not every cycle ran exactly once"
        assert all(run.finished and not run.interrupted for run in runs), runs
        assert {run.status for run in runs} == {"success"}
    assert_no_overlap(await intervals(home.repository))
    placed = await orders_per_user(home.repository)
    assert {user_id: len(placed.get(user_id, [])) for user_id in user_ids} == dict.fromkeys(
        user_ids, 1
    ), "dca buys once in its slot"
    for daemon in daemons:
        daemon.signal(signal.SIGTERM)
    for daemon in daemons:
        assert await daemon.wait(30) == 0, daemon.stderr()
        assert "tradecore daemon: stopped." in daemon.stderr()
    assert await daemon_owners(home.repository) == []
    return durations


async def test_one_daemon_runs_each_due_cycle_once_per_wave(home: Home) -> None:
    user_ids = await add_users(home.repository)
    daemon = Daemon.start("solo", home.env, home.logs)
    try:
        durations = await run_waves(home, user_ids, [daemon])
    finally:
        daemon.close()
    print(f"\n1 daemon, {USERS} users: waves {', '.join(f'{d:.1f} s' for d in durations)}")


async def test_two_daemons_on_the_same_host_share_the_cycles_without_overlap(home: Home) -> None:
    user_ids = await add_users(home.repository)
    daemons = [Daemon.start(f"same{n}", home.env, home.logs) for n in range(2)]
    try:
        durations = await run_waves(home, user_ids, daemons)
    finally:
        for daemon in daemons:
            daemon.close()
    audit = await intervals(home.repository)
    completed = [interval for interval in audit if interval.outcome == "completed"]
    shares = [sum(daemon.owner_matches(i.owner) for i in completed) for daemon in daemons]
    assert sum(shares) == USERS * WAVES, shares
    # Both poll every second and a wave lasts longer than that (1.4 s or more on an idle 2-core
    # machine, longer when it is loaded, which only spreads the work more): each daemon takes a
    # part of every wave (15 to 21 of the 36 cycles each, measured). At least one per wave on
    # average leaves a wide margin and still fails when one daemon does all the work.
    assert min(shares) >= WAVES, f"the daemons did not share the cycles: {shares} each"
    print(
        f"\n2 daemons, {USERS} users: waves {', '.join(f'{d:.1f} s' for d in durations)}; "
        f"cycles per daemon: {shares}"
    )


async def test_a_daemon_of_another_host_on_the_same_sqlite_file_is_refused(home: Home) -> None:
    await add_users(home.repository)
    async with home.repository.unit_of_work() as uow:
        now = await uow.leases.now()
        other = DaemonInfo(
            owner="far-away-box:4242:beef", host="far-away-box", pid=4242,
            started_at=now, seen_at=now,
        )  # fmt: skip
        await uow.daemons.register(other)
        await uow.commit()
    started = time.monotonic()
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tradecore_cli", "daemon"],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    took = time.monotonic() - started
    assert done.returncode != 0, done.stderr
    assert "far-away-box:4242:beef on 'far-away-box'" in done.stderr
    assert "PostgreSQL" in done.stderr
    assert "Traceback" not in done.stderr
    assert await daemon_owners(home.repository) == ["far-away-box:4242:beef"]
    async with home.repository.unit_of_work() as uow:
        assert list(await uow.leases.intervals()) == [], "it claimed nothing"
    print(f"\nrefused in {took:.1f} s with exit {done.returncode}: {done.stderr.strip()}")
