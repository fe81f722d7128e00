"""Benchmark: the web dashboard under load, over a database of 1,000 users and 100,000 runs.

Setup (not measured) fills a fresh SQLite home (or a new PostgreSQL database with
``--database postgresql``): 1,000 users, each with a paper connection and 100 finished runs of
two steps (a sync and a strategy), one of them ``bench`` with a password and an API token.
Then ``tradecore web --no-scheduler`` runs in its own process on a loopback port, and for each
number of concurrent clients (1, 10, 50 by default) a client process sends requests for a
bounded time (``--seconds``, 10 by default) to:

- ``/healthz`` — the reference: the framework, the middleware and one small query;
- ``/brokers/`` — the dashboard page of ``bench`` (session cookie), its connections, automation
  status and recent runs;
- ``/api/v1/automation/status`` — the same status as JSON (bearer token).

It reports requests per second, p50 and p99 latency, the error count (anything but 200), and
the server's peak RSS (VmHWM) at the end.

    python benchmarks/web_dashboard.py
    python benchmarks/web_dashboard.py --clients 1 10 50 --seconds 10 --users 1000 --runs 100
    python benchmarks/web_dashboard.py --database postgresql --url postgresql://127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from tradecore.domain import (
    AutomationConfig,
    BrokerConnection,
    TaskKind,
    TaskResult,
    TaskStatus,
    Trigger,
    User,
    run_status,
)
from tradecore_adapters.bootstrap import Settings, initialise, open_application

PASSWORD = "benchmark password"
BATCH_USERS = 250
ENDPOINTS = ("/healthz", "/brokers/", "/api/v1/automation/status")


def _steps(connection: BrokerConnection, started: datetime) -> tuple[TaskResult, ...]:
    return (
        TaskResult(
            kind=TaskKind.SYNC,
            subject=connection.name,
            subject_id=connection.id,
            status=TaskStatus.SUCCESS,
            started_at=started,
            duration=timedelta(milliseconds=420),
            counts={"positions": 3, "trades_new": 2},
            api={"requests": "4"},
        ),
        TaskResult(
            kind=TaskKind.STRATEGY,
            subject="dca-btc",
            status=TaskStatus.SUCCESS if started.minute % 7 else TaskStatus.FAILURE,
            started_at=started + timedelta(milliseconds=420),
            duration=timedelta(milliseconds=80),
            counts={"intents": 1, "orders_placed": 1},
            error=None if started.minute % 7 else "the broker refused the order",
        ),
    )


async def populate(settings: Settings, users: int, runs: int) -> str:
    """Fill the database; returns an API token of the user ``bench`` (all scopes). Users go
    through the repository; the runs and their steps are bulk-inserted with SQLAlchemy Core
    (the same tables and column types), which is what makes 100,000 runs take seconds."""
    await initialise(settings)
    start = datetime.now(UTC) - timedelta(minutes=30 * runs)
    connections: list[BrokerConnection] = []
    async with await open_application(settings, environ={}) as app:
        for first in range(0, users, BATCH_USERS):
            async with app.repository.unit_of_work() as uow:
                for n in range(first, min(first + BATCH_USERS, users)):
                    user = User(name="bench" if n == 0 else f"user-{n:05d}", created_at=start)
                    connection = BrokerConnection(
                        user_id=user.id,
                        broker="paper",
                        name="paper",
                        settings={"seed": str(n)},
                        created_at=start,
                    )
                    await uow.users.add(user)
                    await uow.connections.add(connection)
                    config = AutomationConfig(user_id=user.id)
                    config.start(start)
                    await uow.automation.save(config)
                    connections.append(connection)
                await uow.commit()
        bench = await app.users.find("bench")
        await app.passwords.set_password(bench.id, PASSWORD)
        made = await app.api_tokens.create(bench.id, ["read", "write", "execute"], name="bench")
    insert_runs(settings.database, connections, start, runs)
    return made.secret


def insert_runs(url: str, connections: list[BrokerConnection], start: datetime, runs: int) -> None:
    """``runs`` finished runs of two steps for each connection's user, in bulk."""
    from sqlalchemy import create_engine, insert

    from tradecore_adapters.sqlalchemy.schema import automation_runs, run_steps

    sync_url = make_url(url)
    sync_url = sync_url.set(drivername=sync_url.drivername.split("+")[0])
    if sync_url.drivername == "postgresql":
        sync_url = sync_url.set(drivername="postgresql+psycopg")
    engine = create_engine(sync_url)
    run_rows: list[dict[str, object]] = []
    step_rows: list[dict[str, object]] = []

    def flush() -> None:
        with engine.begin() as connection:
            connection.execute(insert(automation_runs), run_rows)
            connection.execute(insert(run_steps), step_rows)
        run_rows.clear()
        step_rows.clear()

    for connection in connections:
        for k in range(runs):
            began = start + timedelta(minutes=30 * k)
            steps = _steps(connection, began)
            run_id = uuid.uuid4().hex
            run_rows.append(
                {
                    "id": run_id,
                    "user_id": connection.user_id,
                    "trigger": Trigger.SCHEDULE.value,
                    "started_at": began,
                    "finished_at": began + timedelta(milliseconds=500),
                    "status": run_status(steps).value,
                    "digest": None,
                    "digest_claim": None,
                }
            )
            for position, step in enumerate(steps):
                step_rows.append(
                    {
                        "run_id": run_id,
                        "position": position,
                        "kind": step.kind.value,
                        "subject": step.subject,
                        "subject_id": step.subject_id,
                        "status": step.status.value,
                        "started_at": step.started_at,
                        "duration_us": int(step.duration.total_seconds() * 1_000_000),
                        "counts": dict(step.counts),
                        "api": dict(step.api),
                        "error": step.error,
                        "notes": list(step.notes),
                    }
                )
        if len(run_rows) >= 20_000:
            flush()
    if run_rows:
        flush()
    engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else float("nan")


async def load(base: str, path: str, clients: int, seconds: float, token: str) -> dict[str, float]:
    """``clients`` concurrent clients requesting ``path`` for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=base, timeout=30) as login:
        page = await login.get("/login")
        csrf = re.search(r'name="_csrf_token" value="([0-9a-f]+)"', page.text)
        assert csrf is not None
        answer = await login.post(
            "/login", data={"name": "bench", "password": PASSWORD, "_csrf_token": csrf.group(1)}
        )
        assert answer.status_code == 303, answer.text
        cookies = dict(login.cookies)
    headers = {"authorization": f"Bearer {token}"} if path.startswith("/api/") else {}
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(
            base_url=base, cookies=cookies, headers=headers, timeout=30, limits=limits
        ) as session:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                answer = await session.get(path)
                latencies.append(time.perf_counter() - began)
                if answer.status_code != 200:
                    errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "rps": len(ordered) / elapsed,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=100, help="finished runs per user")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint and level")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--url", default="postgresql://127.0.0.1:5432/test")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tradecore-web-bench-") as temporary:
        home = Path(temporary) / "home"
        environ = {**os.environ, "TRADECORE_HOME": str(home)}
        database = None
        if options.database == "postgresql":
            database = f"tradecore_bench_{uuid.uuid4().hex[:8]}"
            admin = psycopg.connect(options.url, autocommit=True)
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            url = make_url(options.url).set(drivername="postgresql", database=database)
            environ["TRADECORE_DATABASE_URL"] = url.render_as_string(hide_password=False)
        try:
            settings = Settings(home=home, database_url=environ.get("TRADECORE_DATABASE_URL"))
            began = time.perf_counter()
            token = asyncio.run(populate(settings, options.users, options.runs))
            print(
                f"setup: {options.users} users, {options.users * options.runs} runs in "
                f"{time.perf_counter() - began:.0f} s ({options.database})"
            )
            run_server(environ, options, token)
        finally:
            if database is not None:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )


def run_server(environ: dict[str, str], options: argparse.Namespace, token: str) -> None:
    port = free_port()
    tradecore = Path(sys.executable).with_name("tradecore")
    server = subprocess.Popen(
        [str(tradecore), "web", "--no-scheduler", "--port", str(port)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        print(
            f"{'endpoint':<30} {'clients':>7} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}"
        )
        for path in ENDPOINTS:
            for clients in options.clients:
                figures = asyncio.run(load(base, path, clients, options.seconds, token))
                print(
                    f"{path:<30} {clients:>7} {figures['requests']:>9.0f} {figures['rps']:>8.1f} "
                    f"{figures['p50']:>8.1f} {figures['p99']:>8.1f} {figures['errors']:>6.0f}"
                )
        print(f"server peak RSS: {peak_rss_mb(server.pid):.0f} MB")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
