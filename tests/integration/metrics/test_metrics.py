"""GET /metrics' content: the snapshot read from the database (memory, SQLite, PostgreSQL) and
its Prometheus text, parsed back by prometheus_client's own parser."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tradecore.domain import (
    AutomationConfig,
    AutomationRun,
    AutomationState,
    DaemonInfo,
    RunCount,
    RunStatus,
    TaskKind,
    TaskStatus,
    TradingHalt,
    Trigger,
)
from tradecore.ports import RepositoryPort
from tradecore.services import Metrics, MetricsSnapshot, ServiceContext
from tradecore.testing import FakeClock
from tradecore.testing.builders import (
    DEFAULT_TIME,
    make_connection,
    make_run,
    make_task_result,
    make_user,
)
from tradecore_adapters.bootstrap import Settings, bootstrap, render_metrics
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.memory import MemoryRepository
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.migrate import upgrade

NOW = DEFAULT_TIME + timedelta(days=10)
ALICE, BOB, CAROL, DAVE = (make_user(name=n) for n in ("alice", "bob", "carol", "dave"))
A_MAIN = make_connection(user_id=ALICE.id, name="main", broker="binance")
B_MAIN = make_connection(user_id=BOB.id, name="main", broker="saxo")
C_MAIN = make_connection(user_id=CAROL.id, name="main", broker="paper")


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def repository(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[RepositoryPort]:
    store: RepositoryPort
    if request.param == "memory":
        store = MemoryRepository(clock=clock)
    else:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'metrics.db'}"
        else:
            url = request.getfixturevalue("postgres_url")
        await upgrade(url)
        store = await SqlRepository.open(url, key_ring=KeyRing.from_keys([KeyRing.generate_key()]))
    yield store
    await store.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def _run(
    user_id: str,
    *,
    ago: timedelta,
    took: timedelta,
    status: TaskStatus,
    trigger: Trigger = Trigger.SCHEDULE,
    connection_id: str | None = None,
    api: dict[str, str] | None = None,
) -> AutomationRun:
    run = make_run(user_id=user_id, trigger=trigger, started_at=NOW - ago)
    step = make_task_result(
        kind=TaskKind.SYNC,
        subject_id=connection_id,
        status=status,
        started_at=run.started_at,
        api=api,
    )
    run.finish(run.started_at + took, [step])
    return run


async def _fill(repository: RepositoryPort) -> None:
    ok, failed = TaskStatus.SUCCESS, TaskStatus.FAILURE
    runs = [
        # alice: active, succeeded 2 hours ago (and failed since); her Binance figures.
        _run(ALICE.id, ago=timedelta(hours=2), took=timedelta(seconds=4), status=ok),
        _run(
            ALICE.id,
            ago=timedelta(minutes=30),
            took=timedelta(seconds=20),
            status=failed,
            connection_id=A_MAIN.id,
            api={"requests": "7", "used_weight": "1200/6000", "clock_offset_ms": "3"},
        ),
        # bob: active, last success three days ago, a manual failure since; Saxo figures.
        _run(BOB.id, ago=timedelta(days=3), took=timedelta(seconds=90), status=ok),
        _run(
            BOB.id,
            ago=timedelta(hours=1),
            took=timedelta(minutes=40),
            status=failed,
            trigger=Trigger.MANUAL,
            connection_id=B_MAIN.id,
            api={"requests": "3", "rate_limit_left": "port 75/120, trade 118/120"},
        ),
        # carol: paused, so not listed among active users, but her runs count.
        _run(CAROL.id, ago=timedelta(minutes=10), took=timedelta(seconds=1), status=ok),
        # dave: active, never succeeded; one run still going.
        make_run(user_id=DAVE.id, started_at=NOW - timedelta(minutes=1)),
    ]
    async with repository.unit_of_work() as uow:
        for user in (ALICE, BOB, CAROL, DAVE):
            await uow.users.add(user)
        for connection in (A_MAIN, B_MAIN, C_MAIN):
            await uow.connections.add(connection)
        for user in (ALICE, BOB, DAVE):
            await uow.automation.save(
                AutomationConfig(user_id=user.id, state=AutomationState.ACTIVE, next_due_at=NOW)
            )
        await uow.automation.save(AutomationConfig(user_id=CAROL.id, state=AutomationState.PAUSED))
        for run in runs:
            await uow.runs.add(run)
        await uow.risk.set_halt(TradingHalt(reason="exchange incident", since=NOW))
        await uow.commit()
    async with repository.unit_of_work() as uow:
        store_now = await uow.leases.now()
        await uow.daemons.register(
            DaemonInfo(owner="h1:1:d", host="h1", pid=1, started_at=store_now, seen_at=store_now)
        )
        lease = await uow.leases.claim(
            DAVE.id, "h1:1:d", ttl=timedelta(hours=1), trigger=Trigger.SCHEDULE
        )
        assert lease is not None
        await uow.commit()


async def _snapshot(repository: RepositoryPort, clock: FakeClock) -> MetricsSnapshot:
    await _fill(repository)
    return await Metrics(ServiceContext(repository=repository, clock=clock)).snapshot()


async def test_the_snapshot_covers_every_user_runs_leases_daemons_and_the_kill_switch(
    repository: RepositoryPort, clock: FakeClock
) -> None:
    snap = await _snapshot(repository, clock)
    assert snap.taken_at == NOW
    assert snap.runs.counts == (
        RunCount(status=None, trigger=Trigger.SCHEDULE, count=1),
        RunCount(status=RunStatus.FAILURE, trigger=Trigger.MANUAL, count=1),
        RunCount(status=RunStatus.FAILURE, trigger=Trigger.SCHEDULE, count=1),
        RunCount(status=RunStatus.SUCCESS, trigger=Trigger.SCHEDULE, count=3),
    )
    durations = snap.runs.durations
    assert durations.count == 5
    assert durations.total == timedelta(minutes=40, seconds=115)
    # bounds 1, 5, 15, 30, 60, 120, 300, 600, 1800 s: 1 s, 4 s, 20 s, 90 s, 40 min
    assert durations.cumulative == (1, 2, 2, 3, 3, 4, 4, 4, 4)
    assert snap.running == 1
    assert (snap.daemons_alive, snap.daemons_silent) == (1, 0)
    assert snap.halted_since == NOW
    ages = {user.user_id: user.age for user in snap.active_users}
    assert ages == {
        ALICE.id: timedelta(hours=2) - timedelta(seconds=4),
        BOB.id: timedelta(days=3) - timedelta(seconds=90),
        DAVE.id: None,
    }
    figures = {f.connection_id: f for f in snap.brokers}
    assert set(figures) == {A_MAIN.id, B_MAIN.id}
    binance, saxo = figures[A_MAIN.id], figures[B_MAIN.id]
    assert (binance.user_id, binance.broker, binance.requests) == (ALICE.id, "binance", 7)
    assert binance.age == timedelta(minutes=30)
    assert [(x.name, x.used, x.remaining, x.limit) for x in binance.limits] == [
        ("weight", 1200, 4800, 6000)
    ]
    assert (saxo.user_id, saxo.broker, saxo.requests) == (BOB.id, "saxo", 3)
    assert [(x.name, x.used, x.remaining, x.limit) for x in saxo.limits] == [
        ("port", None, 75, 120),
        ("trade", None, 118, 120),
    ]


def _samples(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = tuple(sorted(sample.labels.items()))
            found.setdefault(sample.name, {})[key] = sample.value
    return found


async def test_the_prometheus_text_parses_with_the_expected_series(
    repository: RepositoryPort, clock: FakeClock, tmp_path: Path
) -> None:
    await _fill(repository)
    app = bootstrap(
        Settings(home=tmp_path, notifiers=()),
        repository=repository,
        clock=clock,
        load_entrypoints=False,
    )
    body, content_type = await render_metrics(app)
    assert content_type.startswith("text/plain; version=")  # the version of generate_latest
    text = body.decode("utf-8")
    types = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert types == {
        "tradecore_runs": "gauge",
        "tradecore_run_duration_seconds": "histogram",
        "tradecore_cycles_running": "gauge",
        "tradecore_daemons": "gauge",
        "tradecore_trading_halted": "gauge",
        "tradecore_active_users": "gauge",
        "tradecore_user_last_success_age_seconds": "gauge",
        "tradecore_broker_requests": "gauge",
        "tradecore_broker_figures_age_seconds": "gauge",
        "tradecore_broker_rate_limit_used": "gauge",
        "tradecore_broker_rate_limit_remaining": "gauge",
        "tradecore_broker_rate_limit_capacity": "gauge",
    }
    samples = _samples(text)
    assert samples["tradecore_runs"] == {
        (("status", "unfinished"), ("trigger", "schedule")): 1,
        (("status", "failure"), ("trigger", "manual")): 1,
        (("status", "failure"), ("trigger", "schedule")): 1,
        (("status", "success"), ("trigger", "schedule")): 3,
    }
    buckets = samples["tradecore_run_duration_seconds_bucket"]
    assert buckets[(("le", "5.0"),)] == 2
    assert buckets[(("le", "120.0"),)] == 4
    assert buckets[(("le", "+Inf"),)] == 5
    assert samples["tradecore_run_duration_seconds_count"] == {(): 5}
    assert samples["tradecore_run_duration_seconds_sum"] == {(): 2515.0}
    assert samples["tradecore_cycles_running"] == {(): 1}
    assert samples["tradecore_daemons"] == {(("state", "alive"),): 1, (("state", "silent"),): 0}
    assert samples["tradecore_trading_halted"] == {(): 1}
    assert samples["tradecore_active_users"] == {(): 3}
    ages = samples["tradecore_user_last_success_age_seconds"]
    assert ages[(("user_id", ALICE.id),)] == 7196
    assert ages[(("user_id", BOB.id),)] == 3 * 86400 - 90
    assert math.isinf(ages[(("user_id", DAVE.id),)])
    assert (("user_id", CAROL.id),) not in ages  # paused: not an active user
    alice = (("broker", "binance"), ("connection_id", A_MAIN.id), ("user_id", ALICE.id))
    bob = (("broker", "saxo"), ("connection_id", B_MAIN.id), ("user_id", BOB.id))
    assert samples["tradecore_broker_requests"] == {alice: 7, bob: 3}
    assert samples["tradecore_broker_figures_age_seconds"] == {alice: 1800, bob: 3600}
    weight = tuple(sorted((*alice, ("limit", "weight"))))
    port = tuple(sorted((*bob, ("limit", "port"))))
    assert samples["tradecore_broker_rate_limit_used"] == {weight: 1200}
    assert samples["tradecore_broker_rate_limit_remaining"][weight] == 4800
    assert samples["tradecore_broker_rate_limit_remaining"][port] == 75
    assert samples["tradecore_broker_rate_limit_capacity"][port] == 120
    # Users appear by id only: no name, no connection name, no secret.
    for name in ("alice", "bob", "carol", "dave", "main"):
        assert f'"{name}"' not in text
