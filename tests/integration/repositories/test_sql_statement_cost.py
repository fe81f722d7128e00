"""What a statement and a lease confirmation cost the SQL repository (issue 20, the scheduler's
CPU per cycle), and that the cheaper forms keep their guarantees:

- on SQLite, each statement is one trip to ``aiosqlite``'s thread (``_sqlite_driver``), with the
  same rows, row counts, last row ids and errors as SQLAlchemy's own adapter gives;
- the check right before an order is sent (``holds``) is one plain read (no ``BEGIN IMMEDIATE``,
  no ``FOR UPDATE``), while a fenced unit's confirmation still reads the lease under a lock that
  it keeps until the unit ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from tradecore.domain import AutomationConfig, AutomationState, Lease, Trigger
from tradecore.errors import NotFound
from tradecore.services.fencing import FencedRepository, LeaseGuard
from tradecore.testing.builders import make_user
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy._engine import create_engine

TTL = timedelta(minutes=1)


@contextmanager
def statements(repository: SqlRepository) -> Iterator[list[str]]:
    """The SQL the repository's engine sends inside the block, in order."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(" ".join(str(args[2]).split()))

    engine = repository._engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many functions ``aiosqlite`` ran on its thread inside the block."""
    made = [0]
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        made[0] += 1
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield made


async def test_on_sqlite_each_statement_is_one_trip_with_the_drivers_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'trips.db'}")
    try:
        async with engine.connect() as db:
            await db.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
            with trips(monkeypatch) as made:
                inserted = await db.execute(text("INSERT INTO t (v) VALUES ('a')"))
                assert (made[0], inserted.rowcount, inserted.lastrowid) == (1, 1, 1)
                many = await db.execute(
                    text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}]
                )
                assert (made[0], many.rowcount) == (2, 2)
                rows = (await db.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
                assert made[0] == 3
                assert [tuple(row) for row in rows] == [(1, "a"), (2, "b"), (3, "c")]
                changed = await db.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))
                assert (made[0], changed.rowcount) == (4, 2)
                with pytest.raises(IntegrityError, match="UNIQUE"):
                    await db.execute(text("INSERT INTO t (v) VALUES ('a')"))
                assert made[0] == 5
                # the connection goes on after the refusal, and the statement stored nothing
                count = await db.scalar(text("SELECT count(*) FROM t"))
                assert (made[0], count) == (6, 3)
    finally:
        await engine.dispose()


async def claimed(repository: SqlRepository) -> Lease:
    user = make_user()
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.automation.save(
            AutomationConfig(
                user_id=user.id, state=AutomationState.ACTIVE, next_due_at=await uow.leases.now()
            )
        )
        (lease,) = await uow.leases.claim_due(
            "host:1:daemon", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE
        )
        await uow.commit()
    return lease


def locking(sent: list[str]) -> list[str]:
    return [
        s
        for s in sent
        if s.startswith("BEGIN IMMEDIATE") or s.endswith(("FOR UPDATE", "FOR NO KEY UPDATE"))
    ]


async def test_the_check_before_sending_is_one_read_without_a_lock(
    repository: SqlRepository,
) -> None:
    lease = await claimed(repository)
    fenced = FencedRepository(repository, LeaseGuard(lease))
    with statements(repository) as sent:
        await fenced.confirm_lease()
    assert [s.split()[0] for s in sent] == ["SELECT"], sent
    assert locking(sent) == []


async def test_a_confirmation_still_holds_its_lock_until_the_unit_ends(
    repository: SqlRepository,
) -> None:
    lease = await claimed(repository)
    with statements(repository) as sent:
        async with repository.unit_of_work() as uow:
            assert await uow.leases.confirm(lease)
            await uow.rollback()
    assert len(locking(sent)) == 1, sent  # BEGIN IMMEDIATE on SQLite, FOR UPDATE on PostgreSQL


async def test_on_sqlite_closing_a_connection_outside_a_transaction_is_no_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'trips.db'}")
    try:
        async with engine.connect() as db:
            await db.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        with trips(monkeypatch) as made:
            async with engine.connect() as db:  # a read, then SQLAlchemy's rollback at close
                await db.execute(text("SELECT count(*) FROM t"))
            assert made[0] == 1
    finally:
        await engine.dispose()


async def test_on_sqlite_a_connection_closed_inside_a_transaction_is_still_rolled_back(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'rollback.db'}")
    try:
        async with engine.connect() as db:
            await db.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        async with engine.connect() as db:  # left without COMMIT: the pool rolls it back
            await db.exec_driver_sql("BEGIN IMMEDIATE")
            await db.execute(text("INSERT INTO t (v) VALUES ('never')"))
        async with engine.connect() as db:  # the pooled connection again, out of the transaction
            assert await db.scalar(text("SELECT count(*) FROM t")) == 0
            await db.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock is free
            await db.execute(text("INSERT INTO t (v) VALUES ('kept')"))
            await db.exec_driver_sql("COMMIT")
            assert await db.scalar(text("SELECT count(*) FROM t")) == 1
    finally:
        await engine.dispose()


async def test_on_sqlite_an_aiosqlite_without_the_internals_falls_back_to_sqlalchemys_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A future aiosqlite without Connection._execute/_conn must not stop the database opening.
    from types import SimpleNamespace

    from tradecore_adapters.sqlalchemy import _sqlite_driver

    monkeypatch.setattr(_sqlite_driver, "aiosqlite", SimpleNamespace(Connection=object))
    engine = create_engine(f"sqlite:///{tmp_path / 'fallback.db'}")
    try:
        async with engine.connect() as db:
            await db.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
            with trips(monkeypatch) as made:
                inserted = await db.execute(text("INSERT INTO t (v) VALUES ('a')"))
                assert made[0] > 1, "SQLAlchemy's own adapter makes several trips per statement"
            assert (inserted.rowcount, inserted.lastrowid) == (1, 1)
            assert await db.scalar(text("SELECT v FROM t")) == "a"
    finally:
        await engine.dispose()


async def in_transaction(uow: Any) -> bool:
    """Whether the unit's database connection is inside a transaction now (the driver's view)."""
    connection = uow._tx._connection
    assert connection is not None, "the unit has not opened its connection"
    driver = (await connection.get_raw_connection()).driver_connection
    if hasattr(driver, "info"):  # psycopg
        from psycopg.pq import TransactionStatus

        return bool(driver.info.transaction_status != TransactionStatus.IDLE)
    return bool(driver.in_transaction)  # aiosqlite


async def test_a_unit_that_only_reads_opens_no_transaction(repository: SqlRepository) -> None:
    # On PostgreSQL too (docs/persistence.md): no BEGIN and no ROLLBACK, two round trips less.
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user(id="u-1"))
        await uow.commit()
    with statements(repository) as sent:
        async with repository.unit_of_work() as uow:
            assert (await uow.users.get("u-1")).id == "u-1"
            assert await uow.connections.list("u-1") == []
            assert not await in_transaction(uow)
    assert [s.split()[0] for s in sent] == ["SELECT", "SELECT"], sent


async def test_a_write_and_a_locking_read_run_inside_the_units_transaction(
    repository: SqlRepository,
) -> None:
    lease = await claimed(repository)
    async with repository.unit_of_work() as uow:
        assert await uow.leases.confirm(lease)  # FOR UPDATE on PostgreSQL: inside BEGIN
        assert await in_transaction(uow)
        await uow.rollback()
        assert not await in_transaction(uow)
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user(id="u-2", name="bob"))
        assert await in_transaction(uow)
        await uow.rollback()  # discarded
    async with repository.unit_of_work() as uow:
        with pytest.raises(NotFound):
            await uow.users.get("u-2")
