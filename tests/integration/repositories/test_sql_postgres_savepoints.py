"""One-row writes that no constraint refuses in the ordinary course (an ``UPDATE`` by key, an
upsert) send no savepoint on PostgreSQL either (issue 20, the scheduler's CPU per cycle), and
keep their guarantees: a refused write still raises its typed error, and since PostgreSQL has
then aborted the whole transaction, the unit is rolled back and refuses every further read,
write and commit with a clear error (never a silent commit of half its writes)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.exc import DBAPIError

from tradecore.domain import EquityPoint
from tradecore.errors import AlreadyExists, NotFound, RepositoryError
from tradecore.testing.builders import make_order, make_strategy, make_user
from tradecore.testing.contracts.repository import add_owner
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy._engine import create_engine
from tradecore_adapters.sqlalchemy._rows import user_row
from tradecore_adapters.sqlalchemy._unit import UNIT_BROKEN, Transaction
from tradecore_adapters.sqlalchemy.migrate import upgrade
from tradecore_adapters.sqlalchemy.schema import users

K1 = KeyRing.generate_key()


@pytest.fixture
async def repository(postgres_url: str) -> AsyncIterator[SqlRepository]:
    await upgrade(postgres_url)
    repository = SqlRepository(create_engine(postgres_url), key_ring=KeyRing.from_keys([K1]))
    yield repository
    await repository.aclose()


@contextmanager
def savepoints(repository: SqlRepository) -> Iterator[list[str]]:
    """The ``SAVEPOINT`` statements the repository's engine sends inside the block."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        if str(args[2]).lstrip().upper().startswith("SAVEPOINT"):
            sent.append(str(args[2]))

    engine = repository._engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def user_names(repository: SqlRepository) -> list[str]:
    async with repository.unit_of_work() as uow:
        return sorted(user.name for user in await uow.users.list())


async def test_a_cycles_updates_and_upserts_send_no_savepoint(repository: SqlRepository) -> None:
    owner = await add_owner(repository)
    user, connection = owner.user.id, owner.connection.id
    strategy = make_strategy(user_id=user, connection_id=connection)
    order = make_order(connection_id=connection)
    point = EquityPoint(
        user_id=user,
        connection_id=connection,
        currency="USDT",
        at=datetime(2026, 12, 7, tzinfo=UTC),
        value=Decimal("100"),
        priced=1,
    )
    async with repository.unit_of_work() as uow:
        await uow.strategies.add(strategy)
        await uow.commit()
    async with repository.unit_of_work() as uow:
        with savepoints(repository) as sent:
            await uow.orders.add(user, order)  # an insert a constraint may refuse: a savepoint
        assert len(sent) == 1
        with savepoints(repository) as sent:
            await uow.strategies.save_state(user, strategy.id, {"bought": "1"})
            await uow.cursors.set(user, connection, "spot", "cursor-1")
            await uow.cursors.set(user, connection, "spot", "cursor-2")  # the upsert's update
            await uow.orders.update(user, order)
            await uow.equity.add(user, [point])  # one point: an upsert of one row
        assert sent == []
        with pytest.raises(NotFound):  # nothing updated: no failure, the unit goes on
            await uow.strategies.save_state(user, "no-such-strategy", {})
        await uow.commit()
    async with repository.unit_of_work() as uow:
        assert await uow.cursors.get(user, connection, "spot") == "cursor-2"
        assert (await uow.strategies.get(user, strategy.id)).state == {"bought": "1"}


async def test_a_refused_write_without_a_savepoint_raises_its_error_and_breaks_the_unit(
    repository: SqlRepository,
) -> None:
    alice = make_user(name="alice")
    async with repository.unit_of_work() as uow:
        await uow.users.add(alice)
        await uow.commit()
    tx = Transaction(repository._engine)
    tx.begin()
    try:
        async with tx.one_write() as block:  # an earlier write of the unit
            await block.execute(insert(users), [user_row(make_user(name="bob"))])
        with savepoints(repository) as sent, pytest.raises(AlreadyExists):
            async with tx.one_write(cannot_conflict=True) as block:  # wrongly said: refused
                await block.execute(insert(users), [user_row(alice)])
        assert sent == []
        for use in (tx.commit, tx.read, tx.write):
            with pytest.raises(RepositoryError) as refused:
                await use()
            assert str(refused.value) == UNIT_BROKEN
    finally:
        await tx.end()
    assert await user_names(repository) == ["alice"]  # bob went with the unit
    tx.begin()  # the next unit on the same transaction object starts afresh
    try:
        async with tx.one_write() as block:
            await block.execute(insert(users), [user_row(make_user(name="dan"))])
        await tx.commit()
    finally:
        await tx.end()
    assert await user_names(repository) == ["alice", "dan"]


async def read_failing_as_not_found(tx: Transaction) -> None:
    async with tx.one_write(cannot_conflict=True) as block:
        try:
            await block.execute(text("SELECT 1 / 0"))
        except DBAPIError:
            raise NotFound("a read that failed, said in the repository's words") from None


async def test_a_failed_statement_hidden_behind_another_error_still_breaks_the_unit(
    repository: SqlRepository,
) -> None:
    tx = Transaction(repository._engine)
    tx.begin()
    try:
        async with tx.one_write() as block:
            await block.execute(insert(users), [user_row(make_user(name="bob"))])
        with pytest.raises(NotFound):
            await read_failing_as_not_found(tx)
        with pytest.raises(RepositoryError, match="start a new unit"):
            await tx.commit()
    finally:
        await tx.end()
    assert await user_names(repository) == []
