"""PostgreSQL connections lost while idle in the pool: a connection idle long enough is pinged
at checkout and replaced, so the unit that takes it works; one handed on at once is not pinged,
so its unit fails once with a clear error and the next unit connects afresh."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy import text

from tradecore.errors import RepositoryError
from tradecore.testing.builders import make_user
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository, _engine
from tradecore_adapters.sqlalchemy._engine import create_engine
from tradecore_adapters.sqlalchemy.migrate import upgrade


@pytest.fixture
async def repository(postgres_url: str) -> AsyncIterator[SqlRepository]:
    await upgrade(postgres_url)
    repository = SqlRepository(
        create_engine(postgres_url), key_ring=KeyRing.from_keys([KeyRing.generate_key()])
    )
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user(name="alice"))
        await uow.commit()
    yield repository
    await repository.aclose()


async def terminate_pooled_backends(repository: SqlRepository, postgres_url: str) -> int:
    """End, from another connection, the backend of the connection idle in the pool."""
    async with repository._engine.connect() as connection:
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as admin:
        cursor = await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        row = await cursor.fetchone()
    assert row == (True,), "the pooled connection's backend was not terminated"
    return int(pid)


async def user_names(repository: SqlRepository) -> list[str]:
    async with repository.unit_of_work() as uow:
        return [user.name for user in await uow.users.list()]


async def test_a_connection_lost_while_idle_is_replaced_before_the_unit_uses_it(
    repository: SqlRepository, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_engine, "POSTGRES_PING_AFTER_IDLE_S", 0.0)  # every reuse counts as idle
    await terminate_pooled_backends(repository, postgres_url)
    assert await user_names(repository) == ["alice"]


async def test_a_connection_lost_between_two_busy_units_fails_one_unit_then_recovers(
    repository: SqlRepository, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_engine, "POSTGRES_PING_AFTER_IDLE_S", 3600.0)  # never idle long enough
    await terminate_pooled_backends(repository, postgres_url)
    with pytest.raises(RepositoryError, match="the database refused the operation"):
        await user_names(repository)
    assert await user_names(repository) == ["alice"]
