"""Writes without a savepoint (``Transaction.one_write``), on SQLite and PostgreSQL: a write that
the database refuses leaves the unit's earlier writes in place and the unit usable, as a savepoint
did; a write of several rows that fails midway stores none of them; a block that would break the
rule (a second write, more rows than it said, a failure after its write) is refused loudly."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from tradecore.errors import AlreadyExists, RepositoryError
from tradecore.ports.venues import VenueEntry
from tradecore.testing.builders import make_user
from tradecore.testing.contracts.repository import add_owner
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy._rows import user_row
from tradecore_adapters.sqlalchemy._unit import ONE_WRITE_BROKEN, UNIT_BROKEN, Transaction
from tradecore_adapters.sqlalchemy.schema import users


def transaction(repository: SqlRepository) -> Transaction:
    """A unit's transaction on the repository's engine, to run blocks of one's own."""
    return Transaction(repository._engine)


def entry(seq: int) -> VenueEntry:
    return VenueEntry(seq=seq, text=f"fill {seq}")


async def stored_seqs(repository: SqlRepository, user_id: str, connection_id: str) -> list[int]:
    async with repository.unit_of_work() as uow:
        found = await uow.venues.entries(user_id, connection_id, after=0, limit=100)
    return [e.seq for e in found]


async def user_names(repository: SqlRepository) -> list[str]:
    async with repository.unit_of_work() as uow:
        return sorted(user.name for user in await uow.users.list())


async def test_a_refused_one_row_write_keeps_the_units_earlier_writes_and_the_unit_usable(
    repository: SqlRepository,
) -> None:
    owner = await add_owner(repository)
    user, connection = owner.user.id, owner.connection.id
    async with repository.unit_of_work() as uow:
        await uow.venues.add_entries(user, connection, [entry(1)])
        await uow.commit()
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user(name="carol"))  # an earlier write of the unit
        await uow.venues.add_entries(user, connection, [entry(2)])
        with pytest.raises(AlreadyExists):  # refused by the primary key, not by a check
            await uow.venues.add_entries(user, connection, [entry(1)])
        await uow.venues.add_entries(user, connection, [entry(3)])  # the unit goes on
        await uow.commit()
    assert await stored_seqs(repository, user, connection) == [1, 2, 3]
    assert await user_names(repository) == ["alice", "carol"]


async def test_a_refused_write_of_several_rows_stores_none_of_them(
    repository: SqlRepository,
) -> None:
    owner = await add_owner(repository)
    user, connection = owner.user.id, owner.connection.id
    async with repository.unit_of_work() as uow:
        await uow.venues.add_entries(user, connection, [entry(1)])
        await uow.commit()
    async with repository.unit_of_work() as uow:
        await uow.venues.add_entries(user, connection, [entry(2)])
        with pytest.raises(AlreadyExists):  # the second row clashes after the first went in
            await uow.venues.add_entries(user, connection, [entry(5), entry(1)])
        await uow.commit()
    assert await stored_seqs(repository, user, connection) == [1, 2]


async def test_a_refused_raw_insert_in_a_one_write_block_leaves_the_unit_usable(
    repository: SqlRepository,
) -> None:
    alice = make_user(name="alice")
    async with repository.unit_of_work() as uow:
        await uow.users.add(alice)
        await uow.commit()
    tx = transaction(repository)
    tx.begin()
    try:
        async with tx.one_write() as block:
            await block.execute(insert(users), [user_row(make_user(name="bob"))])
        with pytest.raises(AlreadyExists):
            async with tx.one_write() as block:  # the same id: the primary key refuses it
                await block.execute(insert(users), [user_row(alice)])
        async with tx.one_write() as block:
            await block.execute(insert(users), [user_row(make_user(name="dan"))])
        await tx.commit()
    finally:
        await tx.end()
    assert await user_names(repository) == ["alice", "bob", "dan"]


async def write_twice(tx: Transaction) -> None:
    async with tx.one_write() as block:
        await block.execute(insert(users), [user_row(make_user(name="bob"))])
        await block.execute(select(users.c.id))


async def write_two_rows(tx: Transaction) -> None:
    async with tx.one_write() as block:
        rows = [user_row(make_user(name=name)) for name in ("eve", "fay")]
        await block.execute(insert(users), rows)


async def write_around(tx: Transaction) -> None:
    async with tx.one_write():
        await tx.write()


async def fail_after_the_write(tx: Transaction) -> None:
    async with tx.one_write() as block:
        await block.execute(insert(users), [user_row(make_user(name="eve"))])
        raise ValueError("a fault after the write")


async def test_a_one_write_block_refuses_a_second_write_and_more_rows_than_it_said(
    repository: SqlRepository,
) -> None:
    tx = transaction(repository)
    for fault, words in (
        (write_twice, "after its write"),
        (write_two_rows, "more rows"),
        (write_around, "around its OneWrite"),
    ):
        tx.begin()  # a unit each: one undone after its write refuses further use
        try:
            with pytest.raises(RepositoryError, match=words):
                await fault(tx)
        finally:
            await tx.end()


async def test_a_one_write_block_failing_after_its_write_stores_nothing(
    repository: SqlRepository,
) -> None:
    tx = transaction(repository)
    tx.begin()
    try:
        async with tx.one_write() as block:
            await block.execute(insert(users), [user_row(make_user(name="bob"))])
        with pytest.raises((RepositoryError, ValueError)) as failed:
            await fail_after_the_write(tx)
        if tx.sqlite:  # the unit was undone: it refuses a commit of what came after
            with pytest.raises(RepositoryError) as refused:
                await tx.commit()
            assert str(refused.value) == UNIT_BROKEN
        else:
            await tx.commit()
    finally:
        await tx.end()
    if tx.sqlite:  # no savepoint to undo the write alone: the whole unit is undone, loudly
        assert str(failed.value) == ONE_WRITE_BROKEN
        assert await user_names(repository) == []
    else:  # the savepoint undid the block's write only
        assert isinstance(failed.value, ValueError)
        assert await user_names(repository) == ["bob"]
