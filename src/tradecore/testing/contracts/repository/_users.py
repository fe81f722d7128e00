"""Contract tests of ``uow.users``: add, look up, list, and remove with everything owned."""

from __future__ import annotations

import pytest

from tradecore.domain import new_id
from tradecore.errors import AlreadyExists, NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_user
from tradecore.testing.contracts.repository._helpers import ContractBase, add_owner, committing


class UserTests(ContractBase):
    """Users: unique names and ids, listed by name; removing one removes all it owns."""

    @pytest.mark.asyncio
    async def test_added_user_is_found_by_id_and_by_name(self, repository: RepositoryPort) -> None:
        user = make_user(name="alice")
        async with committing(repository) as uow:
            await uow.users.add(user)
        async with repository.unit_of_work() as uow:
            assert await uow.users.get(user.id) == user
            assert await uow.users.get_by_name("alice") == user

    @pytest.mark.asyncio
    async def test_users_are_listed_by_name(self, repository: RepositoryPort) -> None:
        async with committing(repository) as uow:
            for name in ("carol", "alice", "bob"):
                await uow.users.add(make_user(name=name))
        async with repository.unit_of_work() as uow:
            assert [u.name for u in await uow.users.list()] == ["alice", "bob", "carol"]

    @pytest.mark.asyncio
    async def test_taken_user_name_or_id_raises_already_exists(
        self, repository: RepositoryPort
    ) -> None:
        alice = make_user(name="alice")
        async with committing(repository) as uow:
            await uow.users.add(alice)
        async with repository.unit_of_work() as uow:
            with pytest.raises(AlreadyExists):
                await uow.users.add(make_user(name="alice", id=new_id()))
        async with repository.unit_of_work() as uow:
            with pytest.raises(AlreadyExists):
                await uow.users.add(make_user(name="someone-else", id=alice.id))

    @pytest.mark.asyncio
    async def test_a_renamed_user_keeps_what_it_owns_and_names_stay_unique(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        await self._fill_connection(repository, alice, alice.connection)
        async with committing(repository) as uow:
            await uow.users.rename(alice.user.id, "alicia")
        async with repository.unit_of_work() as uow:
            assert (await uow.users.get(alice.user.id)).name == "alicia"
            assert (await uow.users.get_by_name("alicia")).id == alice.user.id
            with pytest.raises(NotFound):
                await uow.users.get_by_name("alice")
            with pytest.raises(AlreadyExists):
                await uow.users.rename(alice.user.id, "bob")
            with pytest.raises(NotFound):
                await uow.users.rename(new_id(), "carol")
        async with committing(repository) as uow:
            await uow.users.rename(alice.user.id, "alicia")  # its own name: nothing changes
        async with repository.unit_of_work() as uow:
            assert [u.name for u in await uow.users.list()] == ["alicia", "bob"]
            assert (await uow.users.get(bob.user.id)).name == "bob"
        await self._assert_connection_is_full(repository, alice)

    @pytest.mark.asyncio
    async def test_missing_user_raises_not_found(self, repository: RepositoryPort) -> None:
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.users.get(new_id())
            with pytest.raises(NotFound):
                await uow.users.get_by_name("nobody")
            with pytest.raises(NotFound):
                await uow.users.remove(new_id())
            assert list(await uow.users.list()) == []

    @pytest.mark.asyncio
    async def test_removing_a_user_removes_everything_it_owns(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        for owner in (alice, bob):
            await self._fill_connection(repository, owner, owner.connection)
        async with committing(repository) as uow:
            await uow.users.remove(alice.user.id)
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.users.get(alice.user.id)
            assert await uow.automation.get(alice.user.id) is None
        # Same ids again: nothing of the old user may come back with them.
        await add_owner(repository, "alice")
        await self._assert_connection_is_empty(repository, alice)
        async with repository.unit_of_work() as uow:
            assert list(await uow.strategies.list(alice.user.id)) == []
            assert list(await uow.runs.list(alice.user.id)) == []
            assert await uow.automation.get(alice.user.id) is None
        await self._assert_connection_is_full(repository, bob)
