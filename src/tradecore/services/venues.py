"""The :class:`~tradecore.ports.VenueStore` implementations: in the repository, or in memory.

:class:`RepositoryVenueStore` is what tradecore hands every broker factory
(``BrokerContext.venue``): each transaction is one unit of work that takes the venue's lock
(``VenueRepository.get_for_update``) before reading its state and commits when the block ends.
:class:`LocalVenueStore` keeps one venue in this object, for a broker built without a context
(a library user's script, a unit test); nothing of it outlives the object.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from tradecore.domain import BrokerConnection
from tradecore.errors import AlreadyExists
from tradecore.ports import (
    RepositoryPort,
    VenueEntry,
    VenueRepository,
    VenueSnapshot,
    VenueTransaction,
)

__all__ = ["LocalVenueStore", "RepositoryVenueStore"]


class _RepositoryVenue:
    # The locked venue of one unit of work.
    __slots__ = ("_connection_id", "_repository", "_state", "_user_id")

    def __init__(
        self, repository: VenueRepository, user_id: str, connection_id: str, state: str | None
    ) -> None:
        self._repository = repository
        self._user_id = user_id
        self._connection_id = connection_id
        self._state = state

    @property
    def state(self) -> str | None:
        return self._state

    async def save(self, state: str) -> None:
        await self._repository.save(self._user_id, self._connection_id, state)
        self._state = state

    async def add_entries(self, entries: Sequence[VenueEntry]) -> None:
        await self._repository.add_entries(self._user_id, self._connection_id, entries)

    async def entries(self, *, after: int, limit: int) -> Sequence[VenueEntry]:
        return await self._repository.entries(
            self._user_id, self._connection_id, after=after, limit=limit
        )

    async def clear(self) -> None:
        await self._repository.clear(self._user_id, self._connection_id)
        self._state = None


class RepositoryVenueStore:
    """The venue of ``connection``, kept in ``repository`` (``UnitOfWork.venues``)."""

    def __init__(self, repository: RepositoryPort, connection: BrokerConnection) -> None:
        self._repository = repository
        self._user_id = connection.user_id
        self._connection_id = connection.id

    def transaction(self) -> AbstractAsyncContextManager[VenueTransaction]:
        """See :meth:`tradecore.ports.VenueStore.transaction`."""
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[VenueTransaction]:
        async with self._repository.unit_of_work() as uow:
            state = await uow.venues.get_for_update(self._user_id, self._connection_id)
            yield _RepositoryVenue(uow.venues, self._user_id, self._connection_id, state)
            await uow.commit()

    def snapshot(self) -> AbstractAsyncContextManager[VenueSnapshot]:
        """See :meth:`tradecore.ports.VenueStore.snapshot`: a unit of work that only reads,
        never commits."""
        return self._snapshot()

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[VenueSnapshot]:
        async with self._repository.unit_of_work() as uow:
            state = await uow.venues.get(self._user_id, self._connection_id)
            yield _RepositoryVenue(uow.venues, self._user_id, self._connection_id, state)


class _LocalVenue:
    # A transaction over a LocalVenueStore: writes go to copies, kept only on commit.
    __slots__ = ("_entries", "_state")

    def __init__(self, state: str | None, entries: dict[int, str]) -> None:
        self._state = state
        self._entries = dict(entries)

    @property
    def state(self) -> str | None:
        return self._state

    async def save(self, state: str) -> None:
        self._state = state

    async def add_entries(self, entries: Sequence[VenueEntry]) -> None:
        numbers = [entry.seq for entry in entries]
        if len(set(numbers)) != len(numbers) or any(n in self._entries for n in numbers):
            raise AlreadyExists("a venue entry with this number is stored already")
        self._entries.update((entry.seq, entry.text) for entry in entries)

    async def entries(self, *, after: int, limit: int) -> Sequence[VenueEntry]:
        numbers = sorted(n for n in self._entries if n > after)[: max(limit, 0)]
        return [VenueEntry(n, self._entries[n]) for n in numbers]

    async def clear(self) -> None:
        self._state = None
        self._entries = {}


class LocalVenueStore:
    """A venue kept in this object: transactions run one at a time (an ``asyncio`` lock) and
    what a block wrote is kept only when it ends normally."""

    def __init__(self) -> None:
        self._state: str | None = None
        self._entries: dict[int, str] = {}
        self._lock = asyncio.Lock()

    @property
    def state(self) -> str | None:
        """The state as last committed (``None``: never saved)."""
        return self._state

    def transaction(self) -> AbstractAsyncContextManager[VenueTransaction]:
        """See :meth:`tradecore.ports.VenueStore.transaction`."""
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[VenueTransaction]:
        async with self._lock:
            venue = _LocalVenue(self._state, self._entries)
            yield venue
            self._state, self._entries = venue._state, venue._entries

    def snapshot(self) -> AbstractAsyncContextManager[VenueSnapshot]:
        """See :meth:`tradecore.ports.VenueStore.snapshot`: what was last committed."""
        return self._snapshot()

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[VenueSnapshot]:
        yield _LocalVenue(self._state, self._entries)  # a copy: nothing written reaches the store
