"""Benchmark: one full scheduler pass over many users, on SQLite and on PostgreSQL.

Each user has a ``paper`` connection (one day of simulated history, the default) and one live
``dca`` strategy buying 20 USD of BTC-USD, and automation started, so every cycle is due now.
Setup (not measured) fills a fresh database: a SQLite file in a temporary directory, or a new
PostgreSQL database created beside ``--url``'s and dropped afterwards. Then a fresh child
process opens the application like ``tradecore run`` does (``open_application`` and
``Application.scheduler``; no notifier, logging at WARNING) and runs ONE ``Scheduler.run_pass()``. It
reports wall time and CPU time of the pass, its own peak RSS (the whole process: interpreter,
imports and the pass), and the cycles per second. The script then checks the database: every
user has exactly one run, a success, and exactly one order; anything else aborts the benchmark.

    python benchmarks/scheduler_pass.py                                   # 1,000 users, SQLite
    python benchmarks/scheduler_pass.py --users 1000 2000 --database sqlite postgresql
    python benchmarks/scheduler_pass.py --database postgresql --url postgresql://127.0.0.1/test
    python benchmarks/scheduler_pass.py --concurrency 8

Target (issue 8): under 100 MB peak RSS, and linear: 2,000 users take about twice as long.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from tradecore.domain import (
    AutomationConfig,
    BrokerConnection,
    RunStatus,
    Secret,
    StrategyConfig,
    Trigger,
    User,
)
from tradecore_adapters.bootstrap import open_application
from tradecore_adapters.clock import SystemClock
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.settings import DEFAULT_CONCURRENT_CYCLES, Settings
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.migrate import upgrade

DEFAULT_POSTGRES_URL = os.environ.get(
    "TRADECORE_BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/postgres"
)
DCA = {"instrument": "BTC-USD", "amount": "20", "every": "1h"}
BATCH = 250  # users per setup transaction


# -- setup (not measured) -------------------------------------------------------------------


async def populate(url: str, key: str, users: int) -> list[str]:
    """Migrate ``url`` and add ``users`` users, each with a paper connection, a live ``dca``
    strategy and automation started (due now). Returns the user ids."""
    await upgrade(url)
    repository = await SqlRepository.open(url, key_ring=KeyRing.from_keys([key]))
    clock = SystemClock()
    ids: list[str] = []
    try:
        for start in range(0, users, BATCH):
            async with repository.unit_of_work() as uow:
                now = await uow.leases.now()
                for n in range(start, min(start + BATCH, users)):
                    user = User(name=f"bench-{n:05d}", created_at=clock.now())
                    connection = BrokerConnection(
                        user_id=user.id,
                        broker="paper",
                        name="paper",
                        settings={"seed": str(n)},
                        created_at=clock.now(),
                    )
                    await uow.users.add(user)
                    await uow.connections.add(connection)
                    await uow.strategies.add(
                        StrategyConfig(
                            user_id=user.id,
                            strategy_type="dca",
                            name="dca-btc",
                            connection_id=connection.id,
                            parameters=DCA,
                            dry_run=False,
                            created_at=clock.now(),
                        )
                    )
                    config = AutomationConfig(user_id=user.id)
                    config.start(now)
                    await uow.automation.save(config)
                    ids.append(user.id)
                await uow.commit()
    finally:
        await repository.aclose()
    return ids


async def check(url: str, key: str, user_ids: list[str]) -> tuple[Counter[str], Counter[int]]:
    """Every user has exactly one run, a success, and exactly one order; returns the run
    statuses and the orders per user counted."""
    repository = await SqlRepository.open(url, key_ring=KeyRing.from_keys([key]))
    statuses: Counter[str] = Counter()
    orders_per_user: Counter[int] = Counter()
    problems: list[str] = []
    try:
        async with repository.unit_of_work() as uow:
            for user_id in user_ids:
                runs = await uow.runs.list(user_id, limit=10)
                orders = await uow.orders.list(user_id)
                statuses.update(str(run.status) for run in runs)
                orders_per_user[len(orders)] += 1
                if len(runs) != 1 or runs[0].status is not RunStatus.SUCCESS or len(orders) != 1:
                    problems.append(
                        f"{user_id}: runs {[str(run.status) for run in runs]}, "
                        f"{len(orders)} order(s); {[step.error for run in runs for step in run.steps if step.error]}"
                    )
    finally:
        await repository.aclose()
    if problems:
        shown = "\n  ".join(problems[:10])
        raise SystemExit(
            f"{len(problems)} of {len(user_ids)} users are wrong (statuses {dict(statuses)}, "
            f"orders per user {dict(orders_per_user)}):\n  {shown}"
        )
    return statuses, orders_per_user


# -- the measured pass (in a fresh child process) -------------------------------------------


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def measure(
    url: str, key: str, concurrency: int | None, home: Path, *, trace: bool = False
) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING)
    if trace:
        import tracemalloc

        tracemalloc.start(12)
    settings = Settings(
        home=home, database_url=url, secret_keys=Secret(key), notifiers=(), log_level="WARNING"
    )
    app = await open_application(settings)
    try:
        scheduler = app.scheduler(concurrency=concurrency)
        rss_before = peak_rss_mb()
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        report = await scheduler.run_pass(trigger=Trigger.CRON)
        wall = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before
        if trace:
            report_allocations(tracemalloc.take_snapshot())
    finally:
        await app.aclose()
    return {
        "wall": wall,
        "cpu": cpu,
        "rss_before": rss_before,
        "peak_rss": peak_rss_mb(),
        "concurrency": scheduler.concurrency,
        "runs": len(report.runs),
        "distinct_users": len({run.user_id for run in report.runs}),
        "ok": sum(run.ok for run in report.runs),
        "statuses": dict(Counter(str(run.status) for run in report.runs)),
        "errors": [run.error for run in report.runs if run.error][:5],
        "busy": len(report.busy),
    }


def report_allocations(snapshot: Any) -> None:
    # What is still allocated after the pass, by line and by file (to standard error).
    snapshot = snapshot.filter_traces(
        [
            tracemalloc_filter(False, "<frozen importlib._bootstrap>"),
            tracemalloc_filter(False, "<unknown>"),
        ]
    )
    for key in ("lineno", "filename"):
        stats = snapshot.statistics(key)
        total = sum(stat.size for stat in stats)
        print(
            f"-- still allocated after the pass, by {key}: {total / 2**20:.1f} MB", file=sys.stderr
        )
        for stat in stats[:15]:
            print(
                f"{stat.size / 2**20:8.2f} MB {stat.count:>8} blocks  {stat.traceback[0]}",
                file=sys.stderr,
            )


def tracemalloc_filter(inclusive: bool, pattern: str) -> Any:
    import tracemalloc

    return tracemalloc.Filter(inclusive, pattern)


def run_child(
    url: str, key: str, concurrency: int | None, home: Path, *, trace: bool = False
) -> dict[str, Any]:
    command = [sys.executable, __file__, "--measure", "--url", url, "--home", str(home)]
    if concurrency is not None:
        command += ["--concurrency", str(concurrency)]
    if trace:
        command.append("--tracemalloc")
    env = {**os.environ, "TRADECORE_BENCH_KEY": key}
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- one scenario ---------------------------------------------------------------------------


def postgres_database(server_url: str, name: str, *, create: bool) -> str:
    import psycopg

    url = make_url(server_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            db.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def scenario(args: argparse.Namespace, database: str, users: int) -> dict[str, Any]:
    key = KeyRing.generate_key()
    with tempfile.TemporaryDirectory(prefix="bench-scheduler-") as tmp:
        home = Path(tmp)
        if database == "sqlite":
            url = f"sqlite:///{home / 'bench.db'}"
        else:
            name = f"bench_scheduler_{os.getpid()}"
            url = postgres_database(args.url, name, create=True)
        try:
            setup_started = time.perf_counter()
            user_ids = asyncio.run(populate(url, key, users))
            setup = time.perf_counter() - setup_started
            result = run_child(url, key, args.concurrency, home, trace=args.tracemalloc)
            assert result["runs"] == users, result
            assert result["distinct_users"] == users, result
            assert result["ok"] == users, result
            assert result["busy"] == 0, result
            statuses, orders = asyncio.run(check(url, key, user_ids))
            assert statuses == Counter({str(RunStatus.SUCCESS): users}), statuses
            assert orders == Counter({1: users}), orders
        finally:
            if database == "postgresql":
                postgres_database(args.url, name, create=False)
    return {"database": database, "users": users, "setup": setup, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1000])
    parser.add_argument(
        "--database", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite"]
    )
    parser.add_argument(
        "--url",
        default=None,
        help="PostgreSQL server to use: the benchmark creates (and drops) its own database "
        f"there (default {DEFAULT_POSTGRES_URL}); with --measure, the database to run on.",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help=f"cycles at once (default the settings', {DEFAULT_CONCURRENT_CYCLES})",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace allocations in the pass and list what is still held after it (slow: "
        "times and RSS are then not the benchmark's)",
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        key = os.environ["TRADECORE_BENCH_KEY"]
        result = asyncio.run(
            measure(args.url, key, args.concurrency, args.home, trace=args.tracemalloc)
        )
        print(json.dumps(result))
        return
    args.url = args.url or DEFAULT_POSTGRES_URL

    rows = []
    for database in args.database:
        for users in args.users:
            row = scenario(args, database, users)
            rows.append(row)
            print(
                f"{database:<10} {users:>6,} users: setup {row['setup']:.1f} s, pass "
                f"{row['wall']:.1f} s",
                file=sys.stderr,
            )
    print()
    print(
        f"{'database':<10} {'users':>6} {'conc':>4} {'wall s':>7} {'CPU s':>7} {'CPU %':>6} "
        f"{'cycles/s':>8} {'ms/cycle':>8} {'RSS MB':>7} {'(start)':>7}  runs"
    )
    for row in rows:
        print(
            f"{row['database']:<10} {row['users']:>6,} {row['concurrency']:>4} "
            f"{row['wall']:>7.1f} {row['cpu']:>7.1f} {100 * row['cpu'] / row['wall']:>5.0f}% "
            f"{row['users'] / row['wall']:>8.1f} {1000 * row['wall'] / row['users']:>8.1f} "
            f"{row['peak_rss']:>7.1f} {row['rss_before']:>7.1f}  "
            f"{row['runs']:,} {', '.join(f'{k}={v}' for k, v in row['statuses'].items())}"
        )
    print(
        "\nEvery user had exactly one run, a success, and one order (checked). 'RSS MB' is the "
        "child's peak RSS, '(start)' its RSS before the pass (interpreter, imports, app open)."
    )


if __name__ == "__main__":
    main()
