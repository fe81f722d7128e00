"""Benchmark: the first full trade sync of many Binance accounts into SQLite.

A fake Binance (``tests/fakes``, checking signatures and timestamps like the real one) runs in
its own process on loopback with ``--latency-ms`` added to every answer. This process adds one
``binance`` connection per account to a fresh SQLite database and syncs them all, at most
``--concurrency`` at a time (like ``tradecore sync``), through the real adapter, the sync
service and the SQL repository. It reports wall time, requests, trades/s and peak RSS.

    python benchmarks/binance_sync.py                      # 50 accounts x 20 symbols x 500 trades
    python benchmarks/binance_sync.py --accounts 5 --trades 100

The fake's weight limit is raised so the run measures tradecore, not Binance's per-IP budget:
at 6000 weight per minute, 1000 ``myTrades`` calls (weight 20 each) from one IP take about
four minutes whatever the client, and tradecore's budget would pace them accordingly.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
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
from tradecore_adapters.binance.plugin import tradecore_register_brokers  # noqa: E402
from tradecore_adapters.clock import SystemClock  # noqa: E402
from tradecore_adapters.encryption import KeyRing  # noqa: E402
from tradecore_adapters.sqlalchemy import SqlRepository  # noqa: E402
from tradecore_adapters.sqlalchemy.migrate import upgrade  # noqa: E402


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable, "-m", "tests.fakes.binance_exchange", "--port", "0",
        "--latency-ms", str(args.latency_ms), "--accounts", str(args.accounts),
        "--symbols", str(args.symbols), "--trades", str(args.trades),
        "--weight-limit", "100000000",
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

    factory = tradecore_register_brokers()[0]  # one registry: one shared budget per host
    limit = asyncio.Semaphore(args.concurrency)
    requests = 0

    async def one(connection: BrokerConnection) -> int:
        nonlocal requests
        async with limit:
            broker = factory.create(connection, BrokerContext(clock=clock))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--trades", type=int, default=500, help="per account and symbol")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=8, help="connections at once")
    parser.add_argument(
        "--fetch-only", action="store_true", help="fetch and parse every trade, store nothing"
    )
    args = parser.parse_args()

    server, base_url = start_server(args)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            figures = asyncio.run(run(args, base_url, Path(tmp) / "bench.db"))
    finally:
        server.terminate()
        server.wait(timeout=10)
    expected = args.accounts * args.symbols * args.trades
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.accounts} accounts x {args.symbols} symbols x {args.trades} trades, "
        f"{args.latency_ms:g} ms latency, {args.concurrency} connections at once"
    )
    print(f"  wall time     {figures['seconds']:.2f} s")
    print(f"  requests      {figures['requests']:.0f}")
    what = "fetched" if args.fetch_only else "stored"
    print(f"  trades {what} {figures['stored']:.0f} (expected {expected})")
    print(f"  trades/s      {figures['stored'] / figures['seconds']:,.0f}")
    print(f"  peak RSS      {peak_mb:.0f} MB (this process; the fake server runs in another)")
    if figures["stored"] != expected or figures["new"] != expected:
        raise SystemExit("FAILED: not every trade was stored exactly once")


if __name__ == "__main__":
    main()
