"""Contract tests of ``uow.venues``: the state and log of a connection's simulated venue, and its
lock, also through :class:`~tradecore.services.venues.RepositoryVenueStore` (the store a broker
plugin is given)."""

from __future__ import annotations

import asyncio

import pytest

from tradecore.errors import AlreadyExists, NotFound
from tradecore.ports import VenueEntry, VenueTransaction
from tradecore.ports.repository import RepositoryPort
from tradecore.services.venues import RepositoryVenueStore
from tradecore.testing.contracts.repository._helpers import (
    ContractBase,
    add_connection,
    add_owner,
    committing,
)


def _state(venue: VenueTransaction) -> str | None:
    # Read afresh: a property may change under a call, which type checkers do not see.
    return venue.state


def _entries(*numbers: int) -> list[VenueEntry]:
    return [VenueEntry(n, f'{{"fill": {n}}}') for n in numbers]


class VenueTests(ContractBase):
    """A venue per connection: its state (``None`` until saved), its numbered log, both scoped by
    user, removed with the connection, and a lock that lets one unit at a time change it."""

    @pytest.mark.asyncio
    async def test_a_venue_state_is_none_until_saved_then_round_trips_and_is_replaced(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        user_id, cid = owner.user.id, owner.connection.id
        async with committing(repository) as uow:
            assert await uow.venues.get_for_update(user_id, cid) is None
            await uow.venues.save(user_id, cid, '{"cash": "100000.00"}')
        async with committing(repository) as uow:
            assert await uow.venues.get_for_update(user_id, cid) == '{"cash": "100000.00"}'
            await uow.venues.save(user_id, cid, "é" * 70_000)  # long text, not ASCII
        async with repository.unit_of_work() as uow:
            assert await uow.venues.get_for_update(user_id, cid) == "é" * 70_000

    @pytest.mark.asyncio
    async def test_venue_entries_are_listed_by_number_after_a_number_up_to_a_limit(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        user_id, cid = owner.user.id, owner.connection.id
        async with committing(repository) as uow:
            await uow.venues.get_for_update(user_id, cid)
            await uow.venues.add_entries(user_id, cid, _entries(3, 1, 2))
            await uow.venues.add_entries(user_id, cid, _entries(10))
        async with repository.unit_of_work() as uow:
            assert list(await uow.venues.entries(user_id, cid, after=0, limit=10)) == _entries(
                1, 2, 3, 10
            )
            assert list(await uow.venues.entries(user_id, cid, after=1, limit=2)) == _entries(2, 3)
            assert list(await uow.venues.entries(user_id, cid, after=3, limit=5)) == _entries(10)
            assert list(await uow.venues.entries(user_id, cid, after=10, limit=5)) == []
            assert list(await uow.venues.entries(user_id, cid, after=0, limit=0)) == []

    @pytest.mark.asyncio
    async def test_a_taken_venue_entry_number_adds_nothing_of_that_call(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        user_id, cid = owner.user.id, owner.connection.id
        async with committing(repository) as uow:
            await uow.venues.add_entries(user_id, cid, _entries(1, 2))
        async with committing(repository) as uow:
            with pytest.raises(AlreadyExists):
                await uow.venues.add_entries(user_id, cid, _entries(3, 2))
            await uow.venues.add_entries(user_id, cid, _entries(4))  # the unit goes on
        async with repository.unit_of_work() as uow:
            stored = await uow.venues.entries(user_id, cid, after=0, limit=10)
        assert list(stored) == _entries(1, 2, 4)

    @pytest.mark.asyncio
    async def test_a_venue_is_not_changed_by_a_unit_that_does_not_commit(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        user_id, cid = owner.user.id, owner.connection.id
        async with committing(repository) as uow:
            await uow.venues.save(user_id, cid, "kept")
        async with repository.unit_of_work() as uow:
            await uow.venues.get_for_update(user_id, cid)
            await uow.venues.save(user_id, cid, "lost")
            await uow.venues.add_entries(user_id, cid, _entries(1))
        async with repository.unit_of_work() as uow:
            assert await uow.venues.get_for_update(user_id, cid) == "kept"
            assert list(await uow.venues.entries(user_id, cid, after=0, limit=5)) == []

    @pytest.mark.asyncio
    async def test_venues_are_per_connection_and_cleared_alone(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        other = await add_connection(repository, owner, "second")
        user_id, cid = owner.user.id, owner.connection.id
        async with committing(repository) as uow:
            for connection_id, state in ((cid, "first"), (other.id, "second")):
                await uow.venues.save(user_id, connection_id, state)
                await uow.venues.add_entries(user_id, connection_id, _entries(1))
        async with committing(repository) as uow:
            await uow.venues.clear(user_id, cid)
        async with repository.unit_of_work() as uow:
            assert await uow.venues.get_for_update(user_id, cid) is None
            assert list(await uow.venues.entries(user_id, cid, after=0, limit=5)) == []
            assert await uow.venues.get_for_update(user_id, other.id) == "second"
            assert list(await uow.venues.entries(user_id, other.id, after=0, limit=5)) == (
                _entries(1)
            )

    @pytest.mark.asyncio
    async def test_another_users_venue_is_not_found_and_lists_nothing(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        async with committing(repository) as uow:
            await uow.venues.save(alice.user.id, alice.connection.id, "alice's")
            await uow.venues.add_entries(alice.user.id, alice.connection.id, _entries(1))
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.venues.get_for_update(bob.user.id, alice.connection.id)
            with pytest.raises(NotFound):
                await uow.venues.save(bob.user.id, alice.connection.id, "bob's")
            with pytest.raises(NotFound):
                await uow.venues.add_entries(bob.user.id, alice.connection.id, _entries(2))
            with pytest.raises(NotFound):
                await uow.venues.clear(bob.user.id, alice.connection.id)
            assert list(await uow.venues.entries(bob.user.id, alice.connection.id, after=0, limit=5)) == []  # fmt: skip
        async with repository.unit_of_work() as uow:
            assert await uow.venues.get_for_update(alice.user.id, alice.connection.id) == "alice's"

    @pytest.mark.asyncio
    async def test_removing_a_connection_removes_its_venue(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        user_id, cid = owner.user.id, owner.connection.id
        async with committing(repository) as uow:
            await uow.venues.save(user_id, cid, "old")
            await uow.venues.add_entries(user_id, cid, _entries(1))
        async with committing(repository) as uow:
            await uow.connections.remove(user_id, cid)
        again = await add_connection(repository, owner, owner.connection.name)  # the same id
        assert again.id == cid
        async with repository.unit_of_work() as uow:
            assert await uow.venues.get_for_update(user_id, cid) is None
            assert list(await uow.venues.entries(user_id, cid, after=0, limit=5)) == []

    @pytest.mark.asyncio
    async def test_a_venue_state_is_read_as_committed_without_waiting_for_its_lock(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        user_id, cid = alice.user.id, alice.connection.id
        async with committing(repository) as uow:
            await uow.venues.save(user_id, cid, "one")
        async with repository.unit_of_work() as writer:
            await writer.venues.get_for_update(user_id, cid)
            await writer.venues.save(user_id, cid, "two")
            async with repository.unit_of_work() as reader:
                seen = await asyncio.wait_for(reader.venues.get(user_id, cid), timeout=10)
                assert await reader.venues.get(bob.user.id, cid) is None
            await writer.commit()
        assert seen == "one"
        async with repository.unit_of_work() as uow:
            assert await uow.venues.get(user_id, cid) == "two"

    @pytest.mark.asyncio
    async def test_concurrent_venue_transactions_lose_no_update(
        self, repository: RepositoryPort
    ) -> None:
        # Each transaction reads a counter, yields to the others, and writes counter + 1 with an
        # entry of that number: without the lock two would read the same counter (an update
        # lost, or an entry number taken twice).
        owner = await add_owner(repository)
        store = RepositoryVenueStore(repository, owner.connection)

        async def increment() -> None:
            async with store.transaction() as venue:
                count = int(venue.state or "0")
                for _ in range(3):
                    await asyncio.sleep(0)
                await venue.add_entries([VenueEntry(count + 1, str(count + 1))])
                await venue.save(str(count + 1))

        await asyncio.wait_for(asyncio.gather(*(increment() for _ in range(6))), timeout=60)
        async with store.transaction() as venue:
            assert venue.state == "6"
            stored = await venue.entries(after=0, limit=10)
        assert [entry.text for entry in stored] == ["1", "2", "3", "4", "5", "6"]

    @pytest.mark.asyncio
    async def test_a_venue_snapshot_reads_what_is_committed_and_writes_nothing(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        store = RepositoryVenueStore(repository, owner.connection)
        async with store.snapshot() as snapshot:
            assert snapshot.state is None
        async with store.transaction() as venue:
            await venue.save("one")
            await venue.add_entries(_entries(1, 2))
        async with store.snapshot() as snapshot:
            assert snapshot.state == "one"
            assert list(await snapshot.entries(after=1, limit=5)) == _entries(2)

    @pytest.mark.asyncio
    async def test_a_venue_transaction_commits_on_leaving_and_discards_on_an_error(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        store = RepositoryVenueStore(repository, owner.connection)
        async with store.transaction() as venue:
            before = _state(venue)
            await venue.save("one")
            await venue.add_entries(_entries(1))
            assert (before, _state(venue)) == (None, "one")

        async def fail_midway() -> None:
            async with store.transaction() as venue:
                await venue.save("two")
                await venue.add_entries(_entries(2))
                raise RuntimeError("simulated failure")

        with pytest.raises(RuntimeError, match="simulated"):
            await fail_midway()
        async with store.transaction() as venue:
            assert venue.state == "one"
            assert list(await venue.entries(after=0, limit=5)) == _entries(1)
            await venue.clear()
            assert _state(venue) is None
        async with store.transaction() as venue:
            assert venue.state is None
            assert list(await venue.entries(after=0, limit=5)) == []
