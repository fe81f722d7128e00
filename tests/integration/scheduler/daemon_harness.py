"""What the daemon tests share: real ``tradecore daemon`` processes on one database, waves of due
cycles made by moving ``next_due_at`` to the store's now, and the checks of the run ledger and
the lease audit read straight from the tables."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import exists, func, select, text, update
from tests.fakes.binance_exchange import FakeBinance

from tradecore.domain import (
    AutomationState,
    BrokerConnection,
    LeaseInterval,
    Secret,
    TaskKind,
    User,
)
from tradecore.services import start_automation
from tradecore.services.strategies import add_strategy
from tradecore_adapters.clock import SystemClock
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.migrate import upgrade
from tradecore_adapters.sqlalchemy.schema import (
    automation_configs,
    automation_daemons,
    automation_runs,
    orders,
    run_steps,
)
from tradecore_adapters.strategies.dca import DCA_FACTORY

__all__ = [
    "Daemon",
    "add_binance_users",
    "assert_no_overlap",
    "daemon_env",
    "daemon_owners",
    "finished_runs",
    "held_by",
    "make_all_due",
    "migrated",
    "orders_per_user",
    "push_all_out",
    "serve_binance",
    "wait_for",
    "wait_wave_done",
]

_configs = automation_configs.c


@contextmanager
def serve_binance(accounts: int, *, latency: float) -> Iterator[tuple[FakeBinance, str]]:
    """A fake Binance on loopback answering after ``latency`` seconds, with BTCUSDT at 50000 and
    accounts ``key-<n>`` (HMAC secret ``secret-<n>``) holding 100000 USDT each."""
    fake = FakeBinance(weight_limit=100_000_000)
    fake.add_symbol("BTCUSDT", "BTC", "USDT", price="50000.00")
    for n in range(accounts):
        fake.add_account(f"key-{n}", secret=f"secret-{n}", balances={"USDT": ("100000", "0")})
    with fake.serve(latency=latency) as url:
        yield fake, url


@asynccontextmanager
async def migrated(url: str) -> AsyncIterator[tuple[SqlRepository, str, str]]:
    """The database at the newest migration, opened with a new key: (repository, url, key)."""
    key = KeyRing.generate_key()
    await upgrade(url)
    repository = await SqlRepository.open(url, key_ring=KeyRing.from_keys([key]))
    try:
        yield repository, url, key
    finally:
        await repository.aclose()


async def add_binance_users(repository: SqlRepository, base_url: str, count: int) -> list[str]:
    """``count`` users, each with a ``binance`` connection to account ``key-<n>`` and a live
    ``dca`` of 100 USDT of BTCUSDT every 5 min, automation started, nothing due for an hour."""
    clock = SystemClock()
    users = [User(name=f"trader{n:03d}", created_at=clock.now()) for n in range(count)]
    connections = [
        BrokerConnection(
            user_id=user.id,
            broker="binance",
            name="b1",
            settings={"base_url": base_url},
            secrets={"api_key": Secret(f"key-{n}"), "api_secret": Secret(f"secret-{n}")},
            created_at=clock.now(),
        )
        for n, user in enumerate(users)
    ]
    async with repository.unit_of_work() as uow:
        for user, connection in zip(users, connections, strict=True):
            await uow.users.add(user)
            await uow.connections.add(connection)
        await uow.commit()
    for user, connection in zip(users, connections, strict=True):
        await add_strategy(
            repository=repository,
            factories={"dca": DCA_FACTORY},
            clock=clock,
            user_id=user.id,
            strategy_type="dca",
            name="stack",
            connection_id=connection.id,
            parameters={"instrument": "BTCUSDT", "amount": "100", "every": "5m"},
        )
        await start_automation(repository, user.id, default_frequency_minutes=30)
    await push_all_out(repository)
    return [user.id for user in users]


def daemon_env(base: Path, **settings: str) -> dict[str, str]:
    """The daemons' environment: this one without any TRADECORE_*/AUTOMATION_* of the caller,
    plus ``settings``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TRADECORE_", "AUTOMATION_"))
    }
    env["TRADECORE_HOME"] = str(base / "home")
    env.update(settings)
    return env


@dataclass
class Daemon:
    """One ``tradecore daemon`` process, its output in ``<name>.out`` / ``<name>.err``."""

    name: str
    process: subprocess.Popen[bytes]
    log_dir: Path
    _files: list[IO[bytes]] = field(default_factory=list)

    @classmethod
    def start(cls, name: str, env: Mapping[str, str], log_dir: Path, *args: str) -> Daemon:
        out = (log_dir / f"{name}.out").open("wb")
        err = (log_dir / f"{name}.err").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "tradecore_cli", "daemon", "-v", *args],
            env=dict(env),
            stdout=out,
            stderr=err,
        )
        return cls(name=name, process=process, log_dir=log_dir, _files=[out, err])

    @property
    def pid(self) -> int:
        return self.process.pid

    def stderr(self) -> str:
        return (self.log_dir / f"{self.name}.err").read_text(errors="replace")

    def stdout(self) -> str:
        return (self.log_dir / f"{self.name}.out").read_text(errors="replace")

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    async def wait(self, timeout: float) -> int:
        """The exit status, polling (the event loop keeps running)."""
        deadline = time.monotonic() + timeout
        while (code := self.process.poll()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"daemon {self.name} still running after {timeout} s")
            await asyncio.sleep(0.05)
        return code

    def close(self) -> None:
        """Kill it when still running, reap it and close its files (idempotent)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
        self.process.wait(timeout=30)
        for file in self._files:
            file.close()
        self._files.clear()

    def owner_matches(self, owner: str | None) -> bool:
        """Whether ``owner`` (``host:pid:tag``) names this process."""
        return owner is not None and owner.split(":")[-2:-1] == [str(self.pid)]


async def db_now(repository: SqlRepository) -> Any:
    async with repository.unit_of_work() as uow:
        return await uow.leases.now()


async def _write(repository: SqlRepository, statement: Any) -> None:
    async with repository.engine.connect() as db:
        await db.execute(statement)
        await db.commit()


async def _rows(repository: SqlRepository, query: Any) -> list[dict[str, Any]]:
    async with repository.engine.connect() as db:
        rows = [dict(row) for row in (await db.execute(query)).mappings()]
        await db.rollback()
        return rows


async def make_all_due(repository: SqlRepository) -> None:
    """Every active user's cycle due now (the store's now)."""
    now = await db_now(repository)
    await _write(
        repository,
        update(automation_configs)
        .where(_configs.state == AutomationState.ACTIVE.value)
        .values(next_due_at=now),
    )


async def push_all_out(repository: SqlRepository) -> None:
    """Every user's next cycle an hour away (nothing due)."""
    now = await db_now(repository)
    await _write(
        repository, update(automation_configs).values(next_due_at=now + timedelta(hours=1))
    )


async def held_by(repository: SqlRepository) -> list[str]:
    """The owners of the leases held right now (one entry per held lease)."""
    rows = await _rows(
        repository, select(_configs.leased_by).where(_configs.leased_by.is_not(None))
    )
    return [row["leased_by"] for row in rows]


async def daemon_owners(repository: SqlRepository) -> list[str]:
    rows = await _rows(repository, select(automation_daemons.c.owner))
    return sorted(row["owner"] for row in rows)


async def wave_pending(repository: SqlRepository) -> int:
    """How many users are still due or held (0: the wave is over)."""
    now = await db_now(repository)
    query = (
        select(func.count().label("pending"))
        .select_from(automation_configs)
        .where(
            (_configs.leased_by.is_not(None))
            | ((_configs.state == AutomationState.ACTIVE.value) & (_configs.next_due_at <= now))
        )
    )
    rows = await _rows(repository, query)
    return int(rows[0]["pending"])


async def wait_for(
    check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.05
) -> float:
    """Poll the async ``check`` until it returns something true; the seconds it took."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(every)
    return time.monotonic() - started


async def wait_wave_done(repository: SqlRepository, *, timeout: float) -> float:
    """Wait until no user is due or held; the seconds it took."""

    async def done() -> bool:
        return await wave_pending(repository) == 0

    try:
        return await wait_for(done, timeout=timeout, what="the wave to complete", every=0.2)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {await database_sessions(repository)}") from None


async def database_sessions(repository: SqlRepository) -> str:
    """What the other sessions on this PostgreSQL database are doing (for failure messages)."""
    if repository.engine.dialect.name != "postgresql":
        return "(SQLite)"
    rows = await _rows(
        repository,
        text(
            "SELECT pid, state, wait_event_type, wait_event, left(query, 160) AS query "
            "FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() ORDER BY state, pid"
        ),
    )
    return "sessions: " + "; ".join(
        f"{row['pid']} {row['state']} {row['wait_event_type']}/{row['wait_event']}: {row['query']}"
        for row in rows
    )


@dataclass(frozen=True)
class RunRow:
    user_id: str
    run_id: str
    status: str | None
    finished: bool
    interrupted: bool


async def finished_runs(repository: SqlRepository) -> list[RunRow]:
    """Every run, with whether it finished and whether it was closed with a ``lease`` step
    (interrupted: closed by the scheduler that took the cycle over, or at shutdown)."""
    runs = automation_runs.c
    lease_step = exists().where(
        (run_steps.c.run_id == runs.id) & (run_steps.c.kind == TaskKind.LEASE.value)
    )
    rows = await _rows(
        repository,
        select(runs.user_id, runs.id, runs.status, runs.finished_at, lease_step.label("leased")),
    )
    return [
        RunRow(
            user_id=row["user_id"],
            run_id=row["id"],
            status=row["status"],
            finished=row["finished_at"] is not None,
            interrupted=bool(row["leased"]),
        )
        for row in rows
    ]


def completed_per_user(runs: Iterable[RunRow]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for run in runs:
        if run.finished and not run.interrupted:
            counts[run.user_id] += 1
    return counts


async def intervals(repository: SqlRepository) -> list[LeaseInterval]:
    async with repository.unit_of_work() as uow:
        return list(await uow.leases.intervals())


def by_user(audit: Iterable[LeaseInterval]) -> dict[str, list[LeaseInterval]]:
    grouped: dict[str, list[LeaseInterval]] = defaultdict(list)
    for interval in audit:
        grouped[interval.user_id].append(interval)
    for user_intervals in grouped.values():
        user_intervals.sort(key=lambda interval: (interval.claimed_at, interval.fencing))
    return grouped


def assert_no_overlap(audit: Sequence[LeaseInterval]) -> None:
    """No two intervals of one user overlap (an interval ends at its release, or else at its
    last expiry), and fencing tokens grow with the claims."""
    for user_id, user_intervals in by_user(audit).items():
        for before, after in itertools.pairwise(user_intervals):
            assert after.claimed_at >= before.ended_at, (
                f"user {user_id}: {after.owner} claimed at {after.claimed_at} while "
                f"{before.owner}'s lease (token {before.fencing}) held until {before.ended_at}"
            )
            assert after.fencing > before.fencing, (user_id, before, after)


async def order_statuses(repository: SqlRepository) -> dict[str, list[tuple[str, str]]]:
    """Each user's recorded orders as ``(client_order_id, status)``."""
    rows = await _rows(
        repository, select(orders.c.user_id, orders.c.client_order_id, orders.c.status)
    )
    grouped: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        grouped[row["user_id"]].append((row["client_order_id"], row["status"]))
    return dict(grouped)


async def orders_per_user(repository: SqlRepository) -> dict[str, list[str]]:
    """The client order ids of each user's recorded orders."""
    rows = await _rows(repository, select(orders.c.user_id, orders.c.client_order_id))
    grouped: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        grouped[row["user_id"]].append(row["client_order_id"])
    return dict(grouped)


def completed_but_lapsed(runs: Iterable[RunRow], audit: Iterable[LeaseInterval]) -> set[str]:
    """The runs recorded finished (not interrupted) whose lease lapsed instead of being
    released (the process stalled or died while notifying, or before releasing): the cycle ran
    to its end, so the next owner must count it as the slot's run and not run it again."""
    lapsed = {interval.run_id for interval in audit if interval.released_at is None}
    return {
        run.run_id for run in runs if run.finished and not run.interrupted and run.run_id in lapsed
    }


def expected_completions(user_ids: Iterable[str], wave: int) -> dict[str, int]:
    """Exactly ``wave`` completed runs per user: each due cycle ran once."""
    return dict.fromkeys(user_ids, wave)
