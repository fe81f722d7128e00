"""Four real ``tradecore daemon`` processes on one PostgreSQL database, 200 users each with a
Binance connection (a fake Binance on loopback, 50 ms per request) and a live ``dca``: three
waves of due cycles, one daemon SIGKILLed mid-wave. Every user's cycle runs exactly once per
wave, no two leases of a user ever overlap, the dead daemon's cycles are taken over only after
its leases lapsed, no user gets two orders, and the survivors stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
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
    order_statuses,
    serve_binance,
    wait_for,
    wait_wave_done,
)

from tradecore_adapters.sqlalchemy import SqlRepository

pytestmark = pytest.mark.slow

USERS = 200
DAEMONS = 4
WAVES = 3
LATENCY = 0.05


@pytest.fixture
def binance() -> Iterator[tuple[FakeBinance, str]]:
    with serve_binance(USERS, latency=LATENCY) as served:
        yield served


@pytest.fixture
async def repository(postgres_url: str) -> AsyncIterator[tuple[SqlRepository, str, str]]:
    async with migrated(postgres_url) as opened:
        yield opened


async def test_four_daemons_one_killed_mid_wave_run_each_cycle_once(
    tmp_path: Path,
    binance: tuple[FakeBinance, str],
    repository: tuple[SqlRepository, str, str],
) -> None:
    fake, base_url = binance
    repo, url, key = repository
    began = time.monotonic()
    user_ids = await add_binance_users(repo, base_url, USERS)
    setup = time.monotonic() - began

    env = daemon_env(
        tmp_path,
        TRADECORE_DATABASE_URL=url,
        TRADECORE_SECRET_KEY=key,
        AUTOMATION_LEASE_SECONDS="3",
        AUTOMATION_IDLE_CHECK_SECONDS="1",
        AUTOMATION_MAX_CONCURRENT_CYCLES="8",
        AUTOMATION_SHUTDOWN_GRACE="20",
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    daemons = [Daemon.start(f"daemon{n}", env, logs) for n in range(DAEMONS)]
    try:

        async def all_registered() -> bool:
            for daemon in daemons:
                assert daemon.process.poll() is None, daemon.stderr()
            return len(await daemon_owners(repo)) == DAEMONS

        await wait_for(all_registered, timeout=60, what="4 daemons to register", every=0.2)
        victim = daemons[1]
        survivors = [daemon for daemon in daemons if daemon is not victim]

        durations: list[float] = []
        victim_owner: str | None = None
        orders_at_kill = 0
        for wave in range(1, WAVES + 1):
            started = time.monotonic()
            await make_all_due(repo)
            if wave == 1:

                async def victim_busy() -> bool:
                    holders = [
                        owner for owner in await held_by(repo) if victim.owner_matches(owner)
                    ]
                    placed = sum(len(account.orders) for account in fake.accounts.values())
                    return len(holders) >= 4 and placed >= 10

                await wait_for(victim_busy, timeout=60, what="the victim to hold leases")
                victim_owner = next(o for o in await held_by(repo) if victim.owner_matches(o))
                victim.signal(signal.SIGKILL)
                orders_at_kill = sum(len(account.orders) for account in fake.accounts.values())
                assert await victim.wait(10) == -signal.SIGKILL
            await wait_wave_done(repo, timeout=80)
            durations.append(time.monotonic() - started)
            runs = await finished_runs(repo)
            counts = completed_per_user(runs)
            doubled = completed_but_lapsed(runs, await intervals(repo))
            assert {user_id: counts.get(user_id, 0) for user_id in user_ids} == (
                expected_completions(user_ids, wave)
            ), f"wave {wave}: not every cycle ran exactly once"
            unfinished = [run for run in runs if not run.finished]
            assert unfinished == [], f"wave {wave}: runs left open: {unfinished}"
        assert victim_owner is not None

        # The ledger: every completed run a success; the interrupted ones closed by a survivor.
        runs = await finished_runs(repo)
        completed = [run for run in runs if not run.interrupted]
        interrupted = [run for run in runs if run.interrupted]
        assert {run.status for run in completed} == {"success"}, {run.status for run in completed}
        assert interrupted or doubled, "the victim was killed holding leases: runs were cut"

        # The audit: no overlap; the victim's leases lapsed and were taken over after expiry.
        audit = await intervals(repo)
        assert_no_overlap(audit)
        per_user = by_user(audit)
        takers: set[str] = set()
        lapsed = [i for i in audit if i.owner == victim_owner and i.released_at is None]
        assert lapsed, "the killed daemon left leases that lapsed"
        for interval in lapsed:
            following = [i for i in per_user[interval.user_id] if i.fencing > interval.fencing]
            assert following, f"user {interval.user_id}: nobody took the lapsed lease over"
            assert following[0].claimed_at >= interval.expires_at
            assert following[0].owner != victim_owner
            takers.add(following[0].owner)
        assert len(interrupted) + len(doubled) == len(lapsed), (interrupted, lapsed, doubled)
        assert all(i.released_at is not None for i in audit if i.owner != victim_owner)

        # The fake Binance: at most one buy per user (dca buys once per slot: two would be a
        # duplicate), client ids unique. A user with none is one whose buy the killed daemon
        # recorded but never sent: it stays unresolved in the ledger (pending_submit) and is
        # never sent by anyone else; after the 3-minute safe window reconciliation would
        # conclude not_placed and dca would decide again (docs/orders.md).
        per_account = {key: len(account.orders) for key, account in fake.accounts.items()}
        assert set(per_account.values()) <= {0, 1}, per_account
        client_ids = [o.client_order_id for a in fake.accounts.values() for o in a.orders]
        assert len(set(client_ids)) == len(client_ids)
        assert fake.internal_errors == []
        statuses = await order_statuses(repo)
        unsent = {
            user_ids[int(key.removeprefix("key-"))] for key, n in per_account.items() if n == 0
        }
        interrupted_users = {run.user_id for run in interrupted}
        assert unsent <= interrupted_users, "only a killed cycle can leave a buy unsent"
        for user_id in unsent:
            assert [status for _, status in statuses[user_id]] == ["pending_submit"], statuses[
                user_id
            ]
        sent = {
            cid for ids in statuses.values() for cid, status in ids if status != "pending_submit"
        }
        assert sent == set(client_ids), "every sent order is in the ledger, and only those"
        assert len(client_ids) + len(unsent) == USERS

        # SIGTERM: the survivors stop cleanly and unregister; only the dead one stays listed.
        for daemon in survivors:
            daemon.signal(signal.SIGTERM)
        for daemon in survivors:
            code = await daemon.wait(30)
            assert code == 0, daemon.stderr()
            assert "tradecore daemon: stopped." in daemon.stderr()
        assert await daemon_owners(repo) == [victim_owner]

        print(
            f"\nsetup of {USERS} users {setup:.1f} s; waves {', '.join(f'{d:.1f} s' for d in durations)};"
            f" killed {victim_owner} with {len(lapsed)} lease(s) held ({orders_at_kill} orders"
            f" placed by then); {len(interrupted)} interrupted run(s) closed by {sorted(takers)};"
            f" {sum(per_account.values())} orders; {len(doubled)} cycle(s) finished before their lease lapsed (not run again);"
            f" total {time.monotonic() - began:.1f} s"
        )
    finally:
        for daemon in daemons:
            daemon.close()
        await asyncio.sleep(0)
