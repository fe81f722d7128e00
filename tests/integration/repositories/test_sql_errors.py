"""What the SQL repository says when the database fails: one sentence, never SQLAlchemy's text
(``[SQL: BEGIN IMMEDIATE]``, bound parameters, a link to sqlalche.me)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from tradecore.errors import RepositoryError
from tradecore.testing.builders import make_user
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy._engine import create_engine
from tradecore_adapters.sqlalchemy._unit import BUSY, Transaction, database_error
from tradecore_adapters.sqlalchemy.migrate import upgrade

RAW = ("[SQL", "sqlalche.me", "Background", "OperationalError", "BEGIN")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[tuple[Path, SqlRepository]]:
    path = tmp_path / "busy.db"
    await upgrade(f"sqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine.sync_engine, "connect")
    def _impatient(dbapi_connection: Any, connection_record: Any) -> None:
        # Registered after the engine's own: give up on the lock after 0.2 s, not 30 s.
        dbapi_connection.execute("PRAGMA busy_timeout = 200")

    repository = SqlRepository(engine, key_ring=KeyRing.from_keys([KeyRing.generate_key()]))
    yield path, repository
    await repository.aclose()


async def test_a_database_locked_by_another_process_says_busy_in_one_sentence(
    database: tuple[Path, SqlRepository],
) -> None:
    path, repository = database
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another tradecore process holds the write lock
        with pytest.raises(RepositoryError) as refused:
            async with repository.unit_of_work() as uow:
                await uow.users.add(make_user(name="alice"))
        assert str(refused.value) == BUSY
        assert str(refused.value) == (
            "the database is busy (another tradecore process holds it); try again"
        )
        other.execute("ROLLBACK")
    finally:
        other.close()
    async with repository.unit_of_work() as uow:  # and once it is released, it works
        await uow.users.add(make_user(name="alice"))
        await uow.commit()


async def test_the_lock_not_obtained_is_translated_where_the_unit_asks_for_it(
    database: tuple[Path, SqlRepository],
) -> None:
    # Code inside a unit that catches the failure itself sees the sentence too.
    path, repository = database
    other = sqlite3.connect(path, isolation_level=None)
    transaction = Transaction(repository.engine)
    transaction.begin()
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(RepositoryError, match=r"^the database is busy"):
            await transaction.write()
    finally:
        other.close()
        await transaction.end()


async def test_any_other_database_failure_is_one_sentence_without_sql(
    database: tuple[Path, SqlRepository],
) -> None:
    path, repository = database
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("ALTER TABLE users RENAME TO users_gone")  # a read now fails
    finally:
        other.close()
    with pytest.raises(RepositoryError) as refused:
        async with repository.unit_of_work() as uow:
            await uow.users.list()
    assert str(refused.value) == "the database refused the operation: no such table: users"
    assert not any(raw in str(refused.value) for raw in RAW)


class _Driver(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("driver", "said"),
    [
        (_Driver("database is locked"), BUSY),
        (_Driver("canceling statement due to lock timeout", "55P03"), BUSY),
        (_Driver("deadlock detected\nDETAIL: Process 1 waits…", "40P01"), BUSY),
        (
            _Driver('duplicate key value violates unique constraint "u"\nDETAIL: Key (n)=(x)'),
            'the database refused the operation: duplicate key value violates unique constraint "u"',
        ),
        (_Driver(""), "the database refused the operation: _Driver"),
    ],
)
def test_driver_errors_are_translated_without_sql_parameters_or_links(
    driver: _Driver, said: str
) -> None:
    wrapped = OperationalError("UPDATE users SET name=? WHERE id=?", ("secret-name", 1), driver)
    assert "sqlalche.me" in str(wrapped)  # what SQLAlchemy would have shown
    assert str(database_error(wrapped)) == said
    assert "secret-name" not in said
