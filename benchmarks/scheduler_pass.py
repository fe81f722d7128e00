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
    python benchmarks/scheduler_pass.py --users 1000 2000 --compare ../tradecore-main   # side by side

With ``--compare CHECKOUT`` every scenario also runs with another checkout's code (its
``.venv/bin/python`` runs this same script, so setup, pass and check are all that checkout's),
the two sides alternating, and the CPU and wall ratios are printed. Each pass also reports the
SQL statements sent per cycle (SQLAlchemy's ``before_cursor_execute``); ``--py-spy DIR`` records
each measured pass with py-spy.

Targets (issues 8 and 20): under 100 MB peak RSS at 1,000 and 2,000 users, the 2,000-user peak
within 10 MB of the 1,000-user one, linear time, and CPU per cycle half of the reference's.
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
from collections.abc import Callable
from pathlib import Path
from statistics import median
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
        statements = count_statements()
        rss_before = peak_rss_mb()
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        report = await scheduler.run_pass(trigger=Trigger.CRON)
        wall = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before
        sent = statements()
        if trace:
            report_allocations(tracemalloc.take_snapshot())
    finally:
        await app.aclose()
    return {
        "wall": wall,
        "cpu": cpu,
        "rss_before": rss_before,
        "statements": sent,
        "peak_rss": peak_rss_mb(),
        "concurrency": scheduler.concurrency,
        "runs": len(report.runs),
        "distinct_users": len({run.user_id for run in report.runs}),
        "ok": sum(run.ok for run in report.runs),
        "statuses": dict(Counter(str(run.status) for run in report.runs)),
        "errors": [run.error for run in report.runs if run.error][:5],
        "busy": len(report.busy),
    }


def count_statements() -> Callable[[], int]:
    """Count the SQL statements every engine of this process sends from now on (SQLAlchemy's
    ``before_cursor_execute``, ``executemany`` counting once); returns the counter."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    sent = [0]

    def count(*_: object) -> None:
        sent[0] += 1

    event.listen(Engine, "before_cursor_execute", count)
    return lambda: sent[0]


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


def side_python(checkout: Path | None) -> str:
    """The interpreter of a checkout (its ``.venv``), or this one for ``None``."""
    if checkout is None:
        return sys.executable
    python = checkout / ".venv" / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"{checkout} has no .venv/bin/python: make its virtual environment first")
    return str(python)


def run_step(python: str, step: list[str], key: str, *, profile: Path | None = None) -> str:
    """Run this script's hidden ``step`` in a fresh ``python`` (which imports tradecore from its
    own checkout: the same script runs against either side's code); its last line of output."""
    command = [python, __file__, *step]
    if profile is not None:
        command = ["py-spy", "record", "--format", "raw", "-o", str(profile), "--", *command]
    env = {**os.environ, "TRADECORE_BENCH_KEY": key}
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
    # The step's own answer is its last line (py-spy writes lines of its own after it).
    lines = [line for line in done.stdout.splitlines() if line and not line.startswith("py-spy>")]
    return lines[-1]


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


def scenario(
    args: argparse.Namespace, database: str, users: int, python: str, *, profile: Path | None
) -> dict[str, Any]:
    """Set up a fresh database with ``python`` (its own migrations), run one pass in a fresh
    ``python``, check the database; the figures of the pass."""
    key = KeyRing.generate_key()
    with tempfile.TemporaryDirectory(prefix="bench-scheduler-") as tmp:
        home = Path(tmp)
        if database == "sqlite":
            url = f"sqlite:///{home / 'bench.db'}"
        else:
            name = f"bench_scheduler_{os.getpid()}"
            url = postgres_database(args.url, name, create=True)
        ids = home / "users.json"
        try:
            setup_started = time.perf_counter()
            run_step(python, ["--populate", str(users), "--url", url, "--home", str(ids)], key)
            setup = time.perf_counter() - setup_started
            measure_step = ["--measure", "--url", url, "--home", str(home)]
            if args.concurrency is not None:
                measure_step += ["--concurrency", str(args.concurrency)]
            if args.tracemalloc:
                measure_step.append("--tracemalloc")
            result = json.loads(run_step(python, measure_step, key, profile=profile))
            assert result["runs"] == users, result
            assert result["distinct_users"] == users, result
            assert result["ok"] == users, result
            assert result["busy"] == 0, result
            run_step(python, ["--check", "--url", url, "--home", str(ids)], key)
        finally:
            if database == "postgresql":
                postgres_database(args.url, name, create=False)
    return {"database": database, "users": users, "setup": setup, **result}


def hidden_step(args: argparse.Namespace) -> bool:
    """Run the step a parent asked for (``--populate``, ``--measure``, ``--check``), if any."""
    key = os.environ.get("TRADECORE_BENCH_KEY", "")
    if args.populate is not None:
        user_ids = asyncio.run(populate(args.url, key, args.populate))
        args.home.write_text(json.dumps(user_ids))
        print("populated")
    elif args.measure:
        result = asyncio.run(
            measure(args.url, key, args.concurrency, args.home, trace=args.tracemalloc)
        )
        print(json.dumps(result))
    elif args.check:
        users = json.loads(args.home.read_text())
        statuses, orders = asyncio.run(check(args.url, key, users))
        assert statuses == Counter({str(RunStatus.SUCCESS): len(users)}), statuses
        assert orders == Counter({1: len(users)}), orders
        print("checked")
    else:
        return False
    return True


def parse_args() -> argparse.Namespace:
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
        "--compare",
        type=Path,
        default=None,
        metavar="CHECKOUT",
        help="another checkout of tradecore (with its own .venv) to run the same scenarios "
        "with, alternating with this one; both figures and their ratio are printed",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="passes per scenario and side (default 1)"
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        metavar="DIR",
        help="record each measured pass with py-spy (on PATH) into DIR, as collapsed stacks",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace allocations in the pass and list what is still held after it (slow: "
        "times and RSS are then not the benchmark's)",
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--populate", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def print_rows(rows: list[dict[str, Any]]) -> None:
    print()
    print(
        f"{'database':<10} {'users':>6} {'side':<6} {'conc':>4} {'wall s':>7} {'CPU s':>7} "
        f"{'CPU %':>6} {'ms CPU/cyc':>10} {'SQL/cyc':>7} {'RSS MB':>7} {'(start)':>7}  runs"
    )
    for row in rows:
        print(
            f"{row['database']:<10} {row['users']:>6,} {row['side']:<6} {row['concurrency']:>4} "
            f"{row['wall']:>7.1f} {row['cpu']:>7.1f} {100 * row['cpu'] / row['wall']:>5.0f}% "
            f"{1000 * row['cpu'] / row['users']:>10.1f} "
            f"{row['statements'] / row['users']:>7.1f} "
            f"{row['peak_rss']:>7.1f} {row['rss_before']:>7.1f}  "
            f"{row['runs']:,} {', '.join(f'{k}={v}' for k, v in row['statuses'].items())}"
        )


def print_ratios(rows: list[dict[str, Any]]) -> None:
    # For each scenario: the medians of both sides, and this side's over the other's.
    print(f"\n{'database':<10} {'users':>6}  {'CPU/cycle this/other':>22}  {'wall this/other':>16}")
    for database in dict.fromkeys(row["database"] for row in rows):
        for users in dict.fromkeys(row["users"] for row in rows):
            this = [
                r
                for r in rows
                if (r["database"], r["users"], r["side"]) == (database, users, "this")
            ]
            other = [
                r
                for r in rows
                if (r["database"], r["users"], r["side"]) == (database, users, "other")
            ]
            if not this or not other:
                continue
            cpu = median(r["cpu"] for r in this) / median(r["cpu"] for r in other)
            wall = median(r["wall"] for r in this) / median(r["wall"] for r in other)
            print(f"{database:<10} {users:>6,}  {cpu:>22.2f}  {wall:>16.2f}")


def main() -> None:
    args = parse_args()
    if hidden_step(args):
        return
    args.url = args.url or DEFAULT_POSTGRES_URL
    sides = [("this", side_python(None))]
    if args.compare is not None:
        sides.append(("other", side_python(args.compare.resolve())))
    if args.py_spy is not None:
        args.py_spy.mkdir(parents=True, exist_ok=True)

    rows = []
    for database in args.database:
        for users in args.users:
            for round_ in range(args.rounds):
                # Alternate which side goes first, so that neither always meets the same load.
                for label, python in sides if round_ % 2 == 0 else sides[::-1]:
                    profile = (
                        None
                        if args.py_spy is None
                        else args.py_spy / f"{database}-{users}-{label}-{round_}.txt"
                    )
                    row = scenario(args, database, users, python, profile=profile)
                    row["side"] = label
                    rows.append(row)
                    print(
                        f"{database:<10} {users:>6,} users, {label}: setup {row['setup']:.1f} s, "
                        f"pass {row['wall']:.1f} s, CPU {row['cpu']:.1f} s",
                        file=sys.stderr,
                    )
    print_rows(rows)
    if args.compare is not None:
        print_ratios(rows)
    print(
        "\nEvery user had exactly one run, a success, and one order (checked). 'RSS MB' is the "
        "child's peak RSS, '(start)' its RSS before the pass (interpreter, imports, app open); "
        "'SQL/cyc' the statements sent to the database per cycle; 'this' is the checkout of "
        "this script, 'other' the one of --compare."
    )


if __name__ == "__main__":
    main()
