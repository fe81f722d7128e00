"""Benchmark: the first full trade sync of many Binance accounts into SQLite, beside ccxt.

A fake Binance (``tests/fakes``, checking signatures and timestamps like the real one) runs in
its own process on loopback with ``--latency-ms`` added to every answer. Each round of
tradecore's side runs in a fresh process: it adds one ``binance`` connection per account to a
fresh SQLite database and syncs them all, at most ``--concurrency`` at a time (like ``tradecore
sync``), through the real adapter, the sync service and the SQL repository. It reports wall time,
requests, trades/s and peak RSS, as the median of ``--rounds`` rounds.

``--compare ccxt`` also runs ccxt's fetch and parse of the same trades from the same server in
the same run (``benchmarks/ccxt_side.py``, in a virtual environment with pinned ccxt that this
script makes once, outside the repository, under ``~/.cache/tradecore-benchmarks``), alternating
the two sides round by round, and prints both medians and their ratio.

    python benchmarks/binance_sync.py                      # 50 accounts x 20 symbols x 500 trades
    python benchmarks/binance_sync.py --compare ccxt --rounds 3
    python benchmarks/binance_sync.py --accounts 5 --trades 100

The fake's weight limit is raised so the run measures the clients, not Binance's per-IP budget:
at 6000 weight per minute, 1000 ``myTrades`` calls (weight 20 each) from one IP take about
four minutes whatever the client, and tradecore's budget would pace them accordingly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.fakes

from tradecore.domain import BrokerConnection, Secret, User  # noqa: E402
from tradecore.ports import BrokerContext, BrokerPort  # noqa: E402
from tradecore.services.sync import sync_connection  # noqa: E402
from tradecore_adapters.binance._limits import BinanceHosts  # noqa: E402
from tradecore_adapters.binance.broker import (  # noqa: E402
    PAGES_PER_CALL,
    BinanceBroker,
)
from tradecore_adapters.binance.config import BinanceConfig  # noqa: E402
from tradecore_adapters.clock import SystemClock  # noqa: E402
from tradecore_adapters.encryption import KeyRing  # noqa: E402
from tradecore_adapters.sqlalchemy import SqlRepository  # noqa: E402
from tradecore_adapters.sqlalchemy.migrate import upgrade  # noqa: E402

WEIGHT_LIMIT = 100_000_000
"""The fake's REQUEST_WEIGHT per minute: raised, so that neither side is paced."""


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable, "-m", "tests.fakes.binance_exchange", "--port", "0",
        "--latency-ms", str(args.latency_ms), "--accounts", str(args.accounts),
        "--symbols", str(args.symbols), "--trades", str(args.trades),
        "--weight-limit", str(WEIGHT_LIMIT),
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline().strip()
    if not line.startswith("READY "):
        server.kill()
        raise SystemExit(f"the fake Binance did not start: {line!r}")
    return server, line.split(" ", 1)[1]


async def run(args: argparse.Namespace, base_url: str, database: Path) -> dict[str, float]:
    url = f"sqlite:///{database}"
    await upgrade(url)
    repository = await SqlRepository.open(url, key_ring=KeyRing.from_keys([KeyRing.generate_key()]))
    clock = SystemClock()
    user = User(id="bench-user", name="bench", created_at=clock.now())
    connections = [
        BrokerConnection(
            user_id=user.id,
            broker="binance",
            name=f"b{n}",
            settings={"base_url": base_url},
            secrets={"api_key": Secret(f"key-{n}"), "api_secret": Secret(f"secret-{n}")},
            created_at=clock.now(),
        )
        for n in range(args.accounts)
    ]
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        for connection in connections:
            await uow.connections.add(connection)
        await uow.commit()

    # One registry, as the plugin makes it (one shared budget per host), that already knows the
    # fake's raised weight limit, as after an exchangeInfo earlier in the process. Otherwise the
    # budget caps the first minute at 90 % of Binance's default 6000 (a minute's ceiling is the
    # lowest any request in it used) and the run waits for the next minute, as it must against
    # the real Binance: the run would measure the minute's phase, not tradecore.
    hosts = BinanceHosts()
    hosts[BinanceConfig.from_connection(connections[0]).spot_url].weight_limit = WEIGHT_LIMIT
    limit = asyncio.Semaphore(args.concurrency)
    requests = 0

    async def one(connection: BrokerConnection) -> int:
        nonlocal requests
        async with limit:
            broker = BinanceBroker.create(connection, BrokerContext(clock=clock), hosts=hosts)
            try:
                if args.fetch_only:
                    return await fetch_only(broker)
                result = await sync_connection(
                    repository=repository, broker=broker, connection=connection, clock=clock
                )
            finally:
                requests += int(broker.api_figures()["requests"])
                await broker.aclose()
            return result.trades_new

    started = time.perf_counter()
    new = sum(await asyncio.gather(*(one(c) for c in connections)))
    elapsed = time.perf_counter() - started
    async with repository.unit_of_work() as uow:
        stored = new if args.fetch_only else await uow.trades.count(user.id)
    await repository.aclose()
    return {"seconds": elapsed, "requests": requests, "new": new, "stored": stored}


async def fetch_only(broker: BrokerPort) -> int:
    # Fetching and parsing alone: every page mapped to domain Trades, nothing stored.
    fetched = 0
    for account in await broker.get_accounts():
        await broker.get_positions(account)
        page = await broker.get_trades(account)
        fetched += len(page.trades)
        while page.has_more:
            page = await broker.get_trades(account, cursor=page.cursor)
            fetched += len(page.trades)
    return fetched


CCXT_VERSION = "4.5.90"
CCXT_SIDE = ROOT / "benchmarks" / "ccxt_side.py"


def ccxt_python() -> Path:
    """The python of the pinned ccxt's virtual environment, made once (outside the repository)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = cache / "tradecore-benchmarks" / f"ccxt-{CCXT_VERSION}"
    python = venv / "bin" / "python"
    done = venv / ".installed"
    if venv.resolve().is_relative_to(ROOT):
        raise SystemExit(f"the ccxt environment {venv} must be outside the repository")
    if not done.exists():
        print(f"making {venv} with ccxt=={CCXT_VERSION} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"ccxt=={CCXT_VERSION}"], check=True
        )
        done.write_text(CCXT_VERSION)
    return python


def tradecore_round(
    args: argparse.Namespace, base_url: str, source: Path | None = None
) -> dict[str, float]:
    """One round of tradecore's side in a fresh process (its own peak RSS); with ``source``,
    the tradecore of that checkout (its ``src`` first on ``PYTHONPATH``)."""
    env = dict(os.environ, PYTHONPATH=str((source or ROOT) / "src"))
    command = [
        sys.executable, str(Path(__file__).resolve()), "--side", "tradecore",
        "--base-url", base_url, "--accounts", str(args.accounts), "--symbols", str(args.symbols),
        "--trades", str(args.trades), "--concurrency", str(args.concurrency),
    ]  # fmt: skip
    if args.fetch_only:
        command.append("--fetch-only")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    return _json_line(done)


def ccxt_round(args: argparse.Namespace, base_url: str, python: Path) -> dict[str, float]:
    """One round of ccxt's side (``ccxt_side.py``) in a fresh process of its environment."""
    command = [
        str(python), str(CCXT_SIDE), "--base-url", base_url, "--accounts", str(args.accounts),
        "--concurrency", str(args.concurrency), "--pages", str(PAGES_PER_CALL),
    ]  # fmt: skip
    return _json_line(subprocess.run(command, cwd=ROOT, capture_output=True, text=True))


class SideFailed(Exception):
    """One round of one side failed (its last line of output says why)."""


def _json_line(done: subprocess.CompletedProcess[str]) -> dict[str, float]:
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).strip().splitlines() or ["no output"]
        raise SideFailed(lines[-1])
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def side_main(args: argparse.Namespace) -> None:
    """``--side tradecore``: one round in this process; one JSON line of figures."""
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(run(args, args.base_url, Path(tmp) / "bench.db"))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024
    figures["cpu_s"] = usage.ru_utime + usage.ru_stime  # the whole process, imports included
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--trades", type=int, default=500, help="per account and symbol")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=8, help="connections at once")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per side (median)")
    parser.add_argument("--compare", choices=["ccxt"], help="run ccxt beside, alternating")
    parser.add_argument(
        "--before",
        type=Path,
        action="append",
        default=[],
        help="another checkout of tradecore (git worktree add DIR COMMIT) run as another side "
        "(repeat for several)",
    )
    parser.add_argument(
        "--fetch-only", action="store_true", help="fetch and parse every trade, store nothing"
    )
    parser.add_argument("--side", choices=["tradecore"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        side_main(args)
        return

    python = ccxt_python() if args.compare else None
    expected = args.accounts * args.symbols * args.trades
    what = "fetched" if args.fetch_only else "stored"
    print(
        f"{args.accounts} accounts x {args.symbols} symbols x {args.trades} trades, "
        f"{args.latency_ms:g} ms latency, {args.concurrency} connections at once, "
        f"{args.rounds} rounds",
        flush=True,
    )
    befores = {f"before{n + 1}": path for n, path in enumerate(args.before)}
    sides = ["tradecore", *befores] + (["ccxt"] if python else [])
    figures_of: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
    failures: dict[str, int] = {}
    for number in range(args.rounds):
        turn = number % len(sides)  # each side goes first in turn
        for side in sides[turn:] + sides[:turn]:
            # A fresh server for every side and round: Binance counts weight per minute, and the
            # previous side's weight must not count against this one.
            server, base_url = start_server(args)
            try:
                figures = run_side(side, args, base_url, python)
            except SideFailed as failed:
                print(f"  round {number + 1} {side:9} FAILED: {failed}", flush=True)
                failures[side] = failures.get(side, 0) + 1
                continue
            finally:
                server.terminate()
                server.wait(timeout=10)
            figures_of[side].append(figures)
            if side == "ccxt" and (figures["unique"] != expected or figures["trades"] != expected):
                raise SystemExit(f"FAILED: ccxt parsed {figures['trades']:.0f} trades")
            if side != "ccxt" and (figures["stored"] != expected or figures["new"] != expected):
                raise SystemExit(f"FAILED ({side}): not every trade was stored exactly once")
            print(
                f"  round {number + 1} {side:9} {figures['seconds']:6.2f} s "
                f"{figures['requests']:5.0f} requests {figures['peak_rss_mb']:4.0f} MB"
                + (f"  CPU {figures['cpu_s']:.2f} s" if "cpu_s" in figures else ""),
                flush=True,
            )
    for side, count in failures.items():
        print(f"{side}: {count} of {args.rounds} rounds FAILED (left out of the figures)")
    sides = [side for side in sides if figures_of[side]]
    if "tradecore" not in sides:
        raise SystemExit("FAILED: no round of this checkout finished")
    medians = {side: statistics.median(f["seconds"] for f in figures_of[side]) for side in sides}
    for side in sides:
        rounds = figures_of[side]
        if side == "ccxt":
            print(f"ccxt {CCXT_VERSION} (fetch and parse, nothing stored)")
        else:
            label = "this checkout" if side == "tradecore" else f"{side}: {befores[side]}"
            work = "fetch and parse" if args.fetch_only else "full sync into SQLite"
            print(f"tradecore, {label} ({work}; trades {what} {rounds[0]['stored']:.0f})")
        print(f"  wall time     {medians[side]:.2f} s (median; {_spread(rounds)})")
        print(f"  requests      {rounds[0]['requests']:.0f}")
        print(f"  trades/s      {expected / medians[side]:,.0f}")
        print(f"  peak RSS      {max(f['peak_rss_mb'] for f in rounds):.0f} MB (highest round)")
        if all("cpu_s" in f for f in rounds):
            cpu = statistics.median(f["cpu_s"] for f in rounds)
            print(f"  CPU time      {cpu:.2f} s (median; user + system, the whole process)")
    for side in sides[1:]:
        name = "ccxt" if side == "ccxt" else side
        print(f"ratio tradecore / {name}: {medians['tradecore'] / medians[side]:.2f}")
    if python:
        print("(target: tradecore / ccxt at most 0.33)")


def run_side(
    side: str, args: argparse.Namespace, base_url: str, python: Path | None
) -> dict[str, float]:
    """One round of ``side``: ``tradecore``, ``beforeN`` (the N-th ``--before``) or ``ccxt``."""
    if side == "ccxt" and python is not None:
        return ccxt_round(args, base_url, python)
    source = args.before[int(side[len("before") :]) - 1] if side.startswith("before") else None
    return tradecore_round(args, base_url, source)


def _spread(rounds: list[dict[str, float]]) -> str:
    times = sorted(f["seconds"] for f in rounds)
    return f"{times[0]:.2f}-{times[-1]:.2f} s over {len(times)} rounds"


if __name__ == "__main__":
    main()
