"""The venue stores a broker is given (``BrokerContext.venue``): what ``create_broker`` hands a
factory, and LocalVenueStore, the in-memory one of a broker built without a context, which keeps
the same promises as the repository's (tradecore.testing.contracts.repository._venues)."""

from __future__ import annotations

import asyncio

import pytest

from tradecore.domain import BrokerConnection
from tradecore.errors import AlreadyExists
from tradecore.ports import BrokerContext, BrokerFactory, BrokerPort, VenueEntry
from tradecore.services import LocalVenueStore, RepositoryVenueStore, create_broker
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import DEFAULT_TIME, make_connection
from tradecore_adapters.memory import MemoryRepository


def entries(*numbers: int) -> list[VenueEntry]:
    return [VenueEntry(n, f"fill {n}") for n in numbers]


async def test_a_local_transaction_commits_on_leaving_and_discards_on_an_error() -> None:
    store = LocalVenueStore()
    async with store.transaction() as venue:
        await venue.save("one")
        await venue.add_entries(entries(2, 1))
    assert store.state == "one"

    async def fail_midway() -> None:
        async with store.transaction() as venue:
            await venue.save("two")
            await venue.add_entries(entries(3))
            raise RuntimeError("simulated failure")

    with pytest.raises(RuntimeError):
        await fail_midway()
    async with store.transaction() as venue:
        assert venue.state == "one"
        assert list(await venue.entries(after=0, limit=10)) == entries(1, 2)
        assert list(await venue.entries(after=1, limit=10)) == entries(2)
        assert list(await venue.entries(after=0, limit=1)) == entries(1)


async def test_a_taken_local_entry_number_adds_nothing_of_that_call() -> None:
    store = LocalVenueStore()
    async with store.transaction() as venue:
        await venue.add_entries(entries(1))
        with pytest.raises(AlreadyExists):
            await venue.add_entries(entries(2, 1))
        with pytest.raises(AlreadyExists):
            await venue.add_entries(entries(3, 3))
        assert list(await venue.entries(after=0, limit=10)) == entries(1)


async def test_clearing_a_local_venue_forgets_state_and_entries() -> None:
    store = LocalVenueStore()
    async with store.transaction() as venue:
        await venue.save("state")
        await venue.add_entries(entries(1))
    async with store.transaction() as venue:
        await venue.clear()
    async with store.transaction() as venue:
        assert (venue.state, list(await venue.entries(after=0, limit=5))) == (None, [])


async def test_concurrent_local_transactions_lose_no_update() -> None:
    store = LocalVenueStore()

    async def increment() -> None:
        async with store.transaction() as venue:
            count = int(venue.state or "0")
            for _ in range(3):
                await asyncio.sleep(0)
            await venue.add_entries([VenueEntry(count + 1, str(count + 1))])
            await venue.save(str(count + 1))

    await asyncio.gather(*(increment() for _ in range(6)))
    assert store.state == "6"


async def test_create_broker_hands_the_factory_the_connections_venue_in_the_repository() -> None:
    repository = MemoryRepository()
    seen: list[BrokerContext] = []

    def create(connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
        seen.append(context)
        return FakeBroker(clock=context.clock, connection_id=connection.id)

    connection = make_connection()
    create_broker(
        connection,
        brokers={"paper": BrokerFactory(name="paper", description="test", create=create)},
        repository=repository,
        clock=FakeClock(DEFAULT_TIME),
    )
    [context] = seen
    assert isinstance(context.venue, RepositoryVenueStore)


async def test_a_local_snapshot_reads_what_is_committed_and_writes_nothing() -> None:
    store = LocalVenueStore()
    async with store.transaction() as venue:
        await venue.save("one")
        await venue.add_entries(entries(1))
        async with store.snapshot() as snapshot:  # the lock is held: a snapshot does not wait
            assert snapshot.state is None
    async with store.snapshot() as snapshot:
        assert snapshot.state == "one"
        assert list(await snapshot.entries(after=0, limit=5)) == entries(1)
