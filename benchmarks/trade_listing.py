"""Benchmark: ``tradecore trades`` over 500,000 stored trades of one user, as child processes
writing to /dev/null: wall time, rows per second and each child's peak RSS, beside
``python -c pass`` and (with ``--base``) the same commands of another install, in one run.

    python benchmarks/trade_listing.py [--trades 500000] [--rounds 1]
        [--base /work/wt/listings-base/.venv/bin/tradecore] [--base-table-limit 20000]
        [--check]

Setup (not measured): ``tradecore init``, ``user add alice`` and ``broker add paper --name p1``
in a fresh home (a temporary directory, SQLite), then the trades are written through the SQL
repository's bulk path (``uow.trades.add_new``, 50,000 per transaction), one every 7 seconds
from 2024-01-01, four symbols, exact amounts. Every child runs with ``TRADECORE_HOME`` set to
that home, standard output to /dev/null, and is timed from start to exit (``perf_counter``);
its peak RSS is ``ru_maxrss`` from ``os.wait4``.

``--base`` names the ``tradecore`` console script of another checkout (say ``main`` in its own
worktree and virtual environment) on the same database: its ``trades --json`` loads every
trade before writing; its table rendered every trade selected in one rich table, so the base
table is measured with ``--limit --base-table-limit`` (and the new ``--limit`` beside it).
``--check`` then writes both ``--json`` outputs to files and compares them byte for byte, and
counts the ``--jsonl`` lines.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

# Only the standard library at the top: this process forks the measured children, and Linux
# counts the RSS a child had before exec in its ru_maxrss, so this process stays small. The
# trades are written by a child of their own (--populate).
START = datetime(2024, 1, 1, tzinfo=UTC)
BATCH = 50_000


def tradecore_here() -> str:
    """The ``tradecore`` console script next to this interpreter (the install measured)."""
    script = Path(sys.executable).with_name("tradecore")
    if not script.exists():
        raise SystemExit(f"no tradecore console script next to {sys.executable}")
    return str(script)


def make_trades(connection_id: str, first: int, count: int) -> list[Any]:
    """Fills ``first`` to ``first + count - 1``: distinct, one every 7 s, exact amounts."""
    from tradecore.domain import Side, Trade
    from tradecore.testing.builders import make_instrument

    symbols = [make_instrument(name) for name in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT")]
    return [
        Trade(
            connection_id=connection_id,
            account_id="paper",
            broker_trade_id=str(1_000_000 + n),
            broker_order_id=str(500_000 + n // 3),
            instrument=symbols[n % len(symbols)],
            side=Side.BUY if n % 2 else Side.SELL,
            quantity=Decimal(n % 977 + 1).scaleb(-5),
            price=Decimal(4_200_000 + n % 10_007).scaleb(-2),
            fee=Decimal(n % 97 + 1).scaleb(-8),
            fee_asset="BNB",
            executed_at=START + timedelta(seconds=7 * n),
        )
        for n in range(first, first + count)
    ]


def setup(home: Path, trades: int) -> None:
    """A home with alice, her paper connection p1, and ``trades`` trades."""
    env = {**os.environ, "TRADECORE_HOME": str(home)}
    for step in (["init"], ["user", "add", "alice"], ["broker", "add", "paper", "--name", "p1"]):
        subprocess.run([tradecore_here(), *step], env=env, check=True, stdout=subprocess.DEVNULL)
    database = home / "tradecore.db"
    with sqlite3.connect(database) as db:
        (user_id,) = db.execute("SELECT id FROM users WHERE name = 'alice'").fetchone()
        (connection_id,) = db.execute(
            "SELECT id FROM broker_connections WHERE name = 'p1'"
        ).fetchone()
    populate = [sys.executable, __file__, "--populate", str(database), user_id, connection_id]
    subprocess.run([*populate, str(trades)], check=True)


async def insert(url: str, user_id: str, connection_id: str, trades: int) -> None:
    """Write the trades through the SQL repository's bulk path, a batch per transaction."""
    from tradecore_adapters.encryption import KeyRing
    from tradecore_adapters.sqlalchemy import SqlRepository

    # Only trades are written: the throwaway key ring never opens a secret.
    repository = await SqlRepository.open(url, key_ring=KeyRing.from_keys([KeyRing.generate_key()]))
    try:
        for first in range(0, trades, BATCH):
            batch = make_trades(connection_id, first, min(BATCH, trades - first))
            async with repository.unit_of_work() as uow:
                added = await uow.trades.add_new(user_id, batch)
                await uow.commit()
            assert added == len(batch), added
    finally:
        await repository.aclose()


# Forks and times one command, then writes "seconds maxrss_kib exit_status" to the file argv[1].
# Run as `python -I -S`, it holds a few MB: all a child inherits before exec (Linux counts the
# RSS of the process before exec in the child's ru_maxrss).
LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    out.write(f"{elapsed} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run_child(argv: list[str], home: Path, stdout: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child writing to /dev/null (or ``stdout``)."""
    env = {**os.environ, "TRADECORE_HOME": str(home), "COLUMNS": "160"}
    with tempfile.NamedTemporaryFile("r", suffix=".rusage") as report:
        with open(stdout or os.devnull, "wb") as target:
            subprocess.run(
                [sys.executable, "-I", "-S", "-c", LAUNCHER, report.name, *argv],
                env=env,
                stdout=target,
                stdin=subprocess.DEVNULL,
                check=True,
            )
        elapsed, peak_kib, status = report.read().split()
    if int(status) != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {status}")
    return float(elapsed), int(peak_kib) / 1024  # KiB on Linux


def measure(label: str, argv: list[str], home: Path, rows: int, rounds: int) -> dict[str, object]:
    runs = [run_child(argv, home) for _ in range(rounds)]
    wall = statistics.median(run[0] for run in runs)
    peak = max(run[1] for run in runs)
    rate = rows / wall if rows else 0.0
    print(
        f"{label:<46} {rows:>8,} rows  {wall:7.2f} s  {rate:>9,.0f} rows/s  {peak:7.1f} MB",
        flush=True,
    )
    return {"label": label, "rows": rows, "wall": wall, "rate": rate, "peak_mb": peak}


def digest(path: Path) -> str:
    hashed = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            hashed.update(block)
    return hashed.hexdigest()


def check(home: Path, base: str | None, trades: int, scratch: Path) -> None:
    """The new ``--json`` is byte for byte the base's (when given); ``--jsonl`` has a line per
    trade; the array holds every trade."""
    new_json, new_jsonl = scratch / "new.json", scratch / "new.jsonl"
    run_child([tradecore_here(), "trades", "--user", "alice", "--json"], home, new_json)
    run_child([tradecore_here(), "trades", "--user", "alice", "--jsonl"], home, new_jsonl)
    with new_jsonl.open("rb") as handle:
        lines = sum(1 for _ in handle)
    assert lines == trades, f"--jsonl wrote {lines} lines for {trades} trades"
    with new_json.open("rb") as handle:
        objects = sum(1 for line in handle if line in (b"  },\n", b"  }\n"))
    assert objects == trades, f"--json wrote {objects} objects for {trades} trades"
    print(f"check: --json holds {objects:,} objects, --jsonl {lines:,} lines", flush=True)
    if base is not None:
        base_json = scratch / "base.json"
        run_child([base, "trades", "--user", "alice", "--json"], home, base_json)
        same = digest(base_json) == digest(new_json)
        print(f"check: --json byte for byte the base's: {same}", flush=True)
        assert same, "the new --json differs from the base's"


def main() -> None:
    if sys.argv[1:2] == ["--populate"]:
        database, user_id, connection_id, count = sys.argv[2:6]
        asyncio.run(insert(f"sqlite:///{database}", user_id, connection_id, int(count)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--base", help="the tradecore console script of the code to compare")
    parser.add_argument("--base-table-limit", type=int, default=20_000)
    parser.add_argument("--check", action="store_true", help="compare the outputs too")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench_listing_"))
    home = scratch / "home"
    try:
        started = time.perf_counter()
        setup(home, args.trades)
        print(f"setup: {args.trades:,} trades in {time.perf_counter() - started:.1f} s", flush=True)
        new, n = tradecore_here(), args.trades
        limit = str(args.base_table_limit)
        cases = [
            ("python -c pass (reference)", [sys.executable, "-c", "pass"], 0),
            ("tradecore --version (reference)", [new, "--version"], 0),
            ("new: trades --json", [new, "trades", "--user", "alice", "--json"], n),
            ("new: trades --jsonl", [new, "trades", "--user", "alice", "--jsonl"], n),
            ("new: trades (table, newest page)", [new, "trades", "--user", "alice"], 50),
            (
                f"new: trades --limit {limit} (table)",
                [new, "trades", "--user", "alice", "--limit", limit],
                args.base_table_limit,
            ),
        ]
        if args.base is not None:
            cases += [
                ("base: trades --json", [args.base, "trades", "--user", "alice", "--json"], n),
                (
                    f"base: trades --limit {limit} (table)",
                    [args.base, "trades", "--user", "alice", "--limit", limit],
                    args.base_table_limit,
                ),
            ]
        print(f"{'command':<46} {'rows':>13}  {'wall':>9}  {'rate':>16}  {'peak RSS':>10}")
        for label, argv, rows in cases:
            measure(label, argv, home, rows, args.rounds)
        if args.check:
            check(home, args.base, args.trades, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
