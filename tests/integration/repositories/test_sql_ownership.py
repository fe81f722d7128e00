"""A unit of work checks that a connection is the user's once per write transaction, on SQLite and
PostgreSQL: what it remembers is per user, forgotten when a connection is removed in the unit, and
forgotten when the unit commits (another unit may then remove the connection)."""

from __future__ import annotations

import pytest

from tradecore.errors import NotFound
from tradecore.testing.contracts.repository import add_owner
from tradecore_adapters.sqlalchemy import SqlRepository


async def test_a_connection_found_to_be_one_users_is_not_taken_as_anothers(
    repository: SqlRepository,
) -> None:
    alice = await add_owner(repository, "alice")
    bob = await add_owner(repository, "bob", "bobs")
    bobs = bob.connection.id
    async with repository.unit_of_work() as uow:
        await uow.cursors.set(bob.user.id, bobs, "spot", "7")  # bob's connection, checked
        with pytest.raises(NotFound, match="no connection"):
            await uow.cursors.set(alice.user.id, bobs, "spot", "999")
        await uow.commit()
    async with repository.unit_of_work() as uow:
        assert await uow.cursors.get(bob.user.id, bobs, "spot") == "7"


async def test_a_connection_removed_in_the_unit_is_checked_again(
    repository: SqlRepository,
) -> None:
    alice = await add_owner(repository)
    user, connection = alice.user.id, alice.connection.id
    async with repository.unit_of_work() as uow:
        await uow.cursors.set(user, connection, "spot", "1")
        await uow.connections.remove(user, connection)
        with pytest.raises(NotFound, match=f"no connection {connection!r} for this user"):
            await uow.cursors.set(user, connection, "spot", "2")


async def test_a_connection_removed_by_another_unit_after_a_commit_is_checked_again(
    repository: SqlRepository,
) -> None:
    alice = await add_owner(repository)
    user, connection = alice.user.id, alice.connection.id
    async with repository.unit_of_work() as uow:
        await uow.cursors.set(user, connection, "spot", "1")
        await uow.commit()
        async with repository.unit_of_work() as other:
            await other.connections.remove(user, connection)
            await other.commit()
        with pytest.raises(NotFound, match=f"no connection {connection!r} for this user"):
            await uow.cursors.set(user, connection, "spot", "2")


async def test_a_connection_of_a_user_removed_in_the_unit_is_checked_again(
    repository: SqlRepository,
) -> None:
    alice = await add_owner(repository)
    user, connection = alice.user.id, alice.connection.id
    async with repository.unit_of_work() as uow:
        await uow.cursors.set(user, connection, "spot", "1")
        await uow.users.remove(user)
        with pytest.raises(NotFound, match=f"no connection {connection!r} for this user"):
            await uow.cursors.set(user, connection, "spot", "2")
