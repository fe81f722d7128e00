"""A stalled daemon (SIGSTOP) past its leases on PostgreSQL: another daemon takes its cycles over
once the leases lapsed; resumed (SIGCONT), the stalled one writes nothing more for those users
(its runs end with LeaseLost, their records stay as the new owner closed them), places no order,
and goes on serving the next wave."""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.fakes.binance_exchange import FakeBinance
from tests.integration.scheduler.daemon_harness import (
    Daemon,
    add_binance_users,
    assert_no_overlap,
    by_user,
    completed_but_lapsed,
    completed_per_user,
    daemon_env,
    daemon_owners,
    expected_completions,
    finished_runs,
    held_by,
    intervals,
    make_all_due,
    migrated,
    orders_per_user,
    serve_binance,
    wait_for,
    wait_wave_done,
    wave_pending,
)

from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.schema import automation_configs, run_steps

pytestmark = pytest.mark.slow

USERS = 24
LATENCY = 0.05


@pytest.fixture
def binance() -> Iterator[tuple[FakeBinance, str]]:
    with serve_binance(USERS, latency=LATENCY) as served:
        yield served


@pytest.fixture
async def repository(postgres_url: str) -> AsyncIterator[tuple[SqlRepository, str, str]]:
    async with migrated(postgres_url) as opened:
        yield opened


def fake_orders(fake: FakeBinance) -> dict[str, list[str]]:
    return {key: [o.client_order_id for o in a.orders] for key, a in fake.accounts.items()}


async def test_a_stalled_daemon_resumed_after_a_takeover_writes_nothing_more(
    tmp_path: Path,
    binance: tuple[FakeBinance, str],
    repository: tuple[SqlRepository, str, str],
) -> None:
    fake, base_url = binance
    repo, url, key = repository
    began = time.monotonic()
    user_ids = await add_binance_users(repo, base_url, USERS)
    env = daemon_env(
        tmp_path,
        TRADECORE_DATABASE_URL=url,
        TRADECORE_SECRET_KEY=key,
        AUTOMATION_LEASE_SECONDS="3",
        AUTOMATION_IDLE_CHECK_SECONDS="1",
        AUTOMATION_MAX_CONCURRENT_CYCLES="4",
        AUTOMATION_SHUTDOWN_GRACE="20",
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    stalled, _other = daemons = [Daemon.start(name, env, logs) for name in ("stalled", "other")]
    try:

        async def registered() -> bool:
            for daemon in daemons:
                assert daemon.process.poll() is None, daemon.stderr()
            return len(await daemon_owners(repo)) == 2

        await wait_for(registered, timeout=60, what="both daemons to register", every=0.2)

        # Wave 1: stop one daemon while it holds cycles mid-way.
        await make_all_due(repo)

        async def stalled_busy() -> bool:
            held = [owner for owner in await held_by(repo) if stalled.owner_matches(owner)]
            return len(held) >= 3 and sum(map(len, fake_orders(fake).values())) >= 2

        await wait_for(stalled_busy, timeout=60, what="the daemon to hold cycles")
        stalled.signal(signal.SIGSTOP)
        async with repo.engine.connect() as db:
            rows = (
                await db.execute(
                    select(
                        automation_configs.c.user_id,
                        automation_configs.c.leased_by,
                        automation_configs.c.lease_run_id,
                    ).where(automation_configs.c.leased_by.is_not(None))
                )
            ).all()
            await db.rollback()
        cut = {
            row.user_id: row.lease_run_id for row in rows if stalled.owner_matches(row.leased_by)
        }
        owner = next(row.leased_by for row in rows if stalled.owner_matches(row.leased_by))
        assert cut

        async def taken_over() -> set[str]:
            audit = by_user(await intervals(repo))
            return {
                user_id
                for user_id, run_id in cut.items()
                if any(i.run_id != run_id for i in audit[user_id])
            }

        # While it is stopped, the other daemon takes its cycles over once the leases lapsed
        # (3 s, then within one 1 s idle check: 4 s or so; 30 s leaves a loaded machine a wide
        # margin), except those whose config row the stopped process holds locked (in the
        # middle of a renewal or a release): those wait for it. A row is locked only for the
        # instant of one such statement, so of the cycles it holds at least one is free.
        await wait_for(taken_over, timeout=30, what="a takeover while the daemon is stopped")
        await wait_for(_after(2.0), timeout=10, what="a few seconds")
        taken_while_stopped = await taken_over()
        assert taken_while_stopped
        finished_while_stopped = await wave_pending(repo) == 0
        orders_while_stopped = fake_orders(fake)
        stalled.signal(signal.SIGCONT)
        await wait_wave_done(repo, timeout=60)

        audit = await intervals(repo)
        assert_no_overlap(audit)
        per_user = by_user(audit)
        mine = {
            user_id: next(i for i in per_user[user_id] if i.run_id == run_id)
            for user_id, run_id in cut.items()
        }
        lost = {user_id for user_id, interval in mine.items() if interval.released_at is None}
        assert taken_while_stopped <= lost, "taken over while its lease was still held"
        for user_id, interval in mine.items():
            assert interval.owner == owner
            later = [i for i in per_user[user_id] if i.fencing > interval.fencing]
            if user_id in lost:  # lapsed: taken over only after it expired
                assert later, f"user {user_id}: its lapsed lease was never taken over"
                assert later[0].claimed_at >= interval.expires_at
            else:  # it held the row locked while stopped and released it once resumed
                assert interval.outcome == "completed"
                assert later == [], f"user {user_id}: claimed while its lease was held"

        def lost_lines() -> list[str]:
            return [line for line in stalled.stderr().splitlines() if "lost" in line]

        async def noticed() -> bool:
            lines = lost_lines()
            return all(any(cut[user_id] in line for line in lines) for user_id in lost)

        await wait_for(noticed, timeout=30, what="the resumed daemon to notice its lost leases")
        await wait_for(_after(3.0), timeout=10, what="a few heartbeats more")

        before = fake_orders(fake)
        assert all(
            orders_while_stopped[key] == ids[: len(orders_while_stopped[key])]
            for key, ids in before.items()
        )
        client_ids = [i for ids in before.values() for i in ids]
        assert len(set(client_ids)) == len(client_ids)
        assert {key: len(ids) for key, ids in before.items()} == {
            f"key-{n}": 1 for n in range(USERS)
        }, "one buy per user: none from the stalled daemon after the takeover"
        ledger = await finished_runs(repo)
        cut_runs = {run.user_id: run for run in ledger if run.run_id in set(cut.values())}
        assert set(cut_runs) == set(cut)
        doubled = completed_but_lapsed(ledger, audit)
        for user_id, run in cut_runs.items():
            assert run.finished, run
            assert run.interrupted == (user_id in lost and run.run_id not in doubled), run
        closed = [cut[user_id] for user_id in lost if cut[user_id] not in doubled]
        async with repo.engine.connect() as db:
            errors = (
                (
                    await db.execute(
                        select(run_steps.c.error).where(
                            run_steps.c.run_id.in_(closed),
                            run_steps.c.kind == "lease",
                        )
                    )
                )
                .scalars()
                .all()
            )
            await db.rollback()
        assert len(errors) == len(closed)
        assert all("took the cycle over" in (error or "") for error in errors), errors
        counts = completed_per_user(ledger)
        assert {u: counts.get(u, 0) for u in user_ids} == expected_completions(user_ids, 1), (
            "each cycle ran once in wave 1"
        )
        placed = await orders_per_user(repo)
        assert {u: len(placed.get(u, [])) for u in user_ids} == dict.fromkeys(user_ids, 1)

        # Wave 2: the resumed daemon serves again, with the other, still once per user.
        started = time.monotonic()
        await make_all_due(repo)
        await wait_wave_done(repo, timeout=60)
        second = time.monotonic() - started
        ledger = await finished_runs(repo)
        counts = completed_per_user(ledger)
        assert {u: counts.get(u, 0) for u in user_ids} == expected_completions(user_ids, 2), (
            "each cycle ran once in wave 2"
        )
        assert_no_overlap(await intervals(repo))
        assert fake_orders(fake) == before, "dca bought once in its slot"
        wave2_owners = {
            i.owner
            for i in await intervals(repo)
            if i.claimed_at > max(x.claimed_at for x in audit)
        }

        for daemon in daemons:
            daemon.signal(signal.SIGTERM)
        for daemon in daemons:
            assert await daemon.wait(30) == 0, daemon.stderr()
        assert await daemon_owners(repo) == []
        print(
            f"\nstopped {owner} holding {len(cut)} cycle(s) ({len(lost)} lapsed); "
            f"{len(taken_while_stopped)} taken over while stopped; wave finished while "
            f"stopped: {finished_while_stopped}; resumed, it logged {len(lost_lines())} 'lost' "
            f"line(s) and wrote nothing; wave 2 {second:.1f} s by {len(wave2_owners)} daemon(s); "
            f"{len(doubled)} cycle(s) finished before their lease lapsed (not run again); total {time.monotonic() - began:.1f} s"
        )
    finally:
        for daemon in daemons:
            daemon.close()


def _after(seconds: float) -> Callable[[], Awaitable[bool]]:
    deadline = time.monotonic() + seconds

    async def check() -> bool:
        return time.monotonic() >= deadline

    return check
