"""SQLite units of one process queue for the write lock on an asyncio lock, not in SQLite's
busy handler: the lock is handed over when a unit ends, and a unit that waits longer than the
busy timeout in the queue gets the same BUSY error."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tradecore.errors import RepositoryError
from tradecore.testing.builders import make_user
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository, _unit
from tradecore_adapters.sqlalchemy._unit import BUSY
from tradecore_adapters.sqlalchemy.migrate import upgrade


@pytest.fixture
async def repository(tmp_path: Path) -> AsyncIterator[SqlRepository]:
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    await upgrade(url)
    opened = await SqlRepository.open(url, key_ring=KeyRing.from_keys([KeyRing.generate_key()]))
    yield opened
    await opened.aclose()


async def test_a_writer_waits_in_the_queue_and_writes_once_the_first_unit_ends(
    repository: SqlRepository,
) -> None:
    first_wrote = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with repository.unit_of_work() as uow:
            await uow.users.add(make_user(id="u1", name="one"))
            first_wrote.set()
            await release.wait()
            await uow.commit()

    async def second() -> None:
        async with repository.unit_of_work() as uow:
            await uow.users.add(make_user(id="u2", name="two"))
            await uow.commit()

    holder = asyncio.create_task(first())
    await first_wrote.wait()
    waiter = asyncio.create_task(second())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not waiter.done()
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, waiter), timeout=20)
    async with repository.unit_of_work() as uow:
        assert {user.id for user in await uow.users.list()} == {"u1", "u2"}


async def test_a_writer_queued_past_the_busy_timeout_is_told_the_database_is_busy(
    repository: SqlRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The queue's wait is bounded like SQLite's: without the queue this unit would sit in
    # SQLite's busy handler for the connection's 30 s timeout instead.
    monkeypatch.setattr(_unit, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    async with repository.unit_of_work() as holder:
        await holder.users.add(make_user(id="u1", name="one"))
        async with repository.unit_of_work() as late:
            with pytest.raises(RepositoryError, match=re.escape(BUSY)):
                await asyncio.wait_for(late.users.add(make_user(id="u2", name="two")), timeout=10)
        await holder.commit()
    async with repository.unit_of_work() as uow:  # the queue is free again
        await uow.users.add(make_user(id="u3", name="three"))
        await uow.commit()
