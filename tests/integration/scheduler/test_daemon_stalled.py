"""A stalled daemon (SIGSTOP) past its leases on PostgreSQL: another daemon takes its cycles over
once the leases lapsed; resumed (SIGCONT), the stalled one writes nothing more for those users
(its runs end with LeaseLost, their records stay as the new owner closed them), sends no order it
had not recorded before it stopped, and goes on serving the next wave. Every user
buys at most once; one whose buy the stalled run recorded but had not sent is left unresolved by
the new owner, which says so and does not trade (docs/orders.md)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
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
    order_statuses,
    orders_per_user,
    serve_binance,
    wait_for,
    wait_wave_done,
    wave_pending,
)

from tradecore.domain import TaskKind, TaskStatus, client_order_id_for
from tradecore_adapters.binance._limits import account_tag, orders_key
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.schema import (
    automation_configs,
    orders,
    run_steps,
    shared_limits,
    strategies,
)

pytestmark = pytest.mark.slow

USERS = 40
"""Enough that the first wave outlasts the stop attempts below (about 3 s): with 24 users the
daemons, whose cycles got faster, sometimes finished the wave before the last attempt."""
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
        # Stop it where the other daemon can take a cycle over: a config row the stopped
        # process holds locked (it was stopped inside a renewal, a commit or a lease check)
        # stays locked while it is stopped, and under load all of them can be. Preferably
        # stop it too between recording a buy and sending it (the case the lease check before
        # sending exists for): it is stopped and resumed (0.5 s each, well within its 3 s
        # leases) a few times for that, no longer: its cycles take about a second each.
        # A stop without such a buy is kept when the wave may not outlast another attempt
        # (fewer than RESUME_IF_PENDING users left): resumed, the daemon could finish it first.
        stop = None
        for attempt in range(STOP_ATTEMPTS):
            stop = await stop_holding_a_free_cycle(repo, fake, stalled, user_ids)
            if stop is not None and (
                stop.unsent
                or attempt == STOP_ATTEMPTS - 1
                or await wave_pending(repo) < RESUME_IF_PENDING
            ):
                break
            stalled.signal(signal.SIGCONT)
            await asyncio.sleep(0.2)
        assert stop is not None, "the daemon held no free cycle whenever it was stopped"
        cut, owner, stopped_unsent, cleared = stop.cycles, stop.owner, stop.unsent, stop.cleared
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
        bought = {user_ids[int(key.removeprefix("key-"))]: ids for key, ids in before.items()}
        assert all(len(ids) <= 1 for ids in bought.values()), "one buy per user at most"
        # The stalled runs' own buys (the client id derives from the run and its intent).
        stalled_ids = await stalled_client_ids(repo, cut)
        statuses = await order_statuses(repo)
        sent_while_stopped = {i for ids in orders_while_stopped.values() for i in ids}
        # A stalled run's buy that reached the fake Binance only after the takeover: the daemon
        # was stopped after its last lease check, on its way to the request (between the two
        # are the shared rate-limit reservations, in the database); resumed, it sends it. Only
        # such a buy can be late (one stopped before its lease check is never sent), and it is
        # never a second buy: the new owner found it unresolved and did not trade (checked
        # below), and the stalled daemon wrote nothing more (it stays pending_submit).
        late = {
            user_id
            for user_id in lost
            if stalled_ids[user_id] in bought[user_id]
            and stalled_ids[user_id] not in sent_while_stopped
        }
        # Only a buy recorded and not yet sent when the daemon stopped can be late. Whether it
        # had passed its lease check is not observable from here: `cleared` (an order count
        # reserved) misses a daemon stopped between the check and the reservation, which a
        # loaded machine hits now and then, so it is reported below, not asserted; that a lost
        # lease sends nothing is the unit test's to prove, deterministically
        # (tests/unit/services/test_orders_strict.py,
        # test_a_lease_lost_between_the_commit_and_the_post_sends_nothing).
        assert late <= stopped_unsent, (
            f"the stalled daemon sent a buy after the takeover that it had not recorded: {late}"
        )
        # A user without a buy: the stalled run recorded its buy (pending_submit) and was
        # stopped before sending it; resumed, it finds its lease lost and never sends it. The
        # new owner cannot resolve that intent alone: it is never resent, and no strategy
        # trades the connection until it is found or concluded not_placed (after the 3-minute
        # safe window, docs/orders.md).
        unbought = {user_id for user_id, ids in bought.items() if not ids}
        assert unbought <= lost, f"no buy, and no lost stalled cycle to explain it: {unbought}"
        # (A late buy of a cycle taken over only once it was resumed may be found and adopted.)
        unresolved = unbought | (late & taken_while_stopped)
        for user_id in unresolved:
            assert statuses[user_id] == [(stalled_ids[user_id], "pending_submit")], (
                user_id,
                statuses[user_id],
                bought[user_id],
            )
        # For each of them the taking-over run records why it did not buy.
        taker_runs = {
            user_id: next(i.run_id for i in per_user[user_id] if i.fencing > mine[user_id].fencing)
            for user_id in unresolved
        }
        reasons = await strategy_skips(repo, taker_runs)
        assert reasons == dict.fromkeys(unresolved, UNRESOLVED_ORDER), reasons
        ledger = await finished_runs(repo)
        cut_runs = {run.user_id: run for run in ledger if run.run_id in set(cut.values())}
        # A run stopped between its claim and recording its start has no row: taken over, it
        # never writes one, nor any order.
        unrecorded = set(cut) - set(cut_runs)
        assert unrecorded <= lost, f"cycles that never recorded their run: {unrecorded}"
        for user_id in unrecorded:
            assert stalled_ids[user_id] not in dict(statuses.get(user_id, [])), statuses
        doubled = completed_but_lapsed(ledger, audit)
        for user_id, run in cut_runs.items():
            assert run.finished, run
            assert run.interrupted == (user_id in lost and run.run_id not in doubled), run
        closed = [cut[user_id] for user_id in lost - unrecorded if cut[user_id] not in doubled]
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
            f"\nstopped {owner} holding {len(cut)} cycle(s) ({len(lost)} lapsed, "
            f"{len(stopped_unsent)} with a buy recorded but not sent ({len(cleared)} past its "
            f"lease check): {len(unbought)} never "
            f"sent, {len(late)} sent once resumed; {len(unrecorded)} stopped before recording "
            "its run); "
            f"{len(taken_while_stopped)} taken over while stopped; wave finished while "
            f"stopped: {finished_while_stopped}; resumed, it logged {len(lost_lines())} 'lost' "
            f"line(s) and wrote nothing; wave 2 {second:.1f} s by {len(wave2_owners)} daemon(s); "
            f"{len(doubled)} cycle(s) finished before their lease lapsed (not run again); total {time.monotonic() - began:.1f} s"
        )
    finally:
        for daemon in daemons:
            daemon.close()


STOP_ATTEMPTS = 4
"""How often the stalled daemon is stopped (and resumed) at most to find a moment to keep it
stopped at (see :func:`stop_holding_a_free_cycle`)."""
RESUME_IF_PENDING = 16
"""Users still due or held below which the stopped daemon is not resumed for another attempt."""

SETTLE = 0.5
"""Seconds for what the stopped process had already sent to land (at the database, at the fake
Binance, whose latency is 0.05 s) before the test looks; only a wider margin makes it wait."""


@dataclass(frozen=True)
class Stop:
    """The stalled daemon, stopped: its cycles (user -> run), its owner name, and the users whose
    buy it recorded but had not sent (their config row free: they can be taken over)."""

    cycles: dict[str, str]
    owner: str
    unsent: frozenset[str]
    cleared: frozenset[str]
    """Of ``unsent``, those past their lease check: their order count at Binance was reserved
    (in the database, after the check and right before the request leaves)."""


async def stop_holding_a_free_cycle(
    repo: SqlRepository, fake: FakeBinance, daemon: Daemon, user_ids: list[str]
) -> Stop | None:
    """SIGSTOP ``daemon``; what it holds, when at least one of its cycles' config rows is not
    locked by it (else ``None``, still stopped)."""
    daemon.signal(signal.SIGSTOP)
    await asyncio.sleep(SETTLE)
    configs = automation_configs.c
    async with repo.engine.connect() as db:
        rows = (
            await db.execute(
                select(configs.user_id, configs.leased_by, configs.lease_run_id).where(
                    configs.leased_by.is_not(None)
                )
            )
        ).all()
        held = [row for row in rows if daemon.owner_matches(row.leased_by)]
        cycles = {row.user_id: row.lease_run_id for row in held}
        free = set(
            (
                await db.execute(
                    select(configs.user_id)
                    .where(configs.user_id.in_(list(cycles)))
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        pending = (
            await db.execute(
                select(orders.c.user_id, orders.c.client_order_id).where(
                    orders.c.user_id.in_(list(free)), orders.c.status == "pending_submit"
                )
            )
        ).all()
        # Wave 1 is each account's first order: any order count reserved is this buy's.
        accounts = {orders_key(account_tag(f"key-{n}"), "10s"): u for n, u in enumerate(user_ids)}
        counted = (
            await db.execute(
                select(shared_limits.c.key).where(
                    shared_limits.c.key.in_(list(accounts)), shared_limits.c.used > 0
                )
            )
        ).scalars()
        reserved = {accounts[key] for key in counted}
        await db.rollback()
    if not free:
        return None
    at_fake = {i for ids in fake_orders(fake).values() for i in ids}
    unsent = frozenset(row.user_id for row in pending if row.client_order_id not in at_fake)
    return Stop(cycles=cycles, owner=held[0].leased_by, unsent=unsent, cleared=unsent & reserved)


UNRESOLVED_ORDER = (
    "1 order(s) on 'b1' have an unknown outcome; no strategy trades it until they are found "
    "or shown never placed"
)
"""Why a cycle's strategy step is skipped while the stalled run's unsent buy is unresolved."""


async def stalled_client_ids(repo: SqlRepository, cut: dict[str, str]) -> dict[str, str]:
    """The client id of the buy each cut run's dca decided (``<strategy>:<run>:0``)."""
    async with repo.engine.connect() as db:
        rows = (
            await db.execute(
                select(strategies.c.user_id, strategies.c.id).where(
                    strategies.c.user_id.in_(list(cut))
                )
            )
        ).all()
        await db.rollback()
    return {row.user_id: client_order_id_for(f"{row.id}:{cut[row.user_id]}:0") for row in rows}


async def strategy_skips(repo: SqlRepository, runs: dict[str, str]) -> dict[str, str | None]:
    """Per user, why the strategy step of its run in ``runs`` was skipped (its error, in
    English), after a reconciliation that left one order unresolved; ``None`` when not so."""
    found: dict[str, str | None] = {}
    async with repo.unit_of_work() as uow:
        for user_id, run_id in runs.items():
            steps = (await uow.runs.get(user_id, run_id)).steps
            reconciled = [step.counts for step in steps if step.kind is TaskKind.RECONCILE]
            strategy = [step for step in steps if step.kind is TaskKind.STRATEGY]
            unresolved = [counts.get("orders_unresolved") for counts in reconciled] == [1]
            skipped = len(strategy) == 1 and strategy[0].status is TaskStatus.SKIPPED
            found[user_id] = str(strategy[0].error) if unresolved and skipped else None
    return found


def _after(seconds: float) -> Callable[[], Awaitable[bool]]:
    deadline = time.monotonic() + seconds

    async def check() -> bool:
        return time.monotonic() >= deadline

    return check
