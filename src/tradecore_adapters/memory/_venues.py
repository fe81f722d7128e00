"""The memory repository of simulated venues: one state and one log of entries per connection."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from tradecore.errors import AlreadyExists
from tradecore.ports import VenueEntry
from tradecore_adapters.memory._session import Session
from tradecore_adapters.memory._store import Tables, owned_connection, user_connection_ids

__all__ = ["Venues", "venue_lock"]


def venue_lock(connection_id: str) -> str:
    """The row-lock key of a connection's venue."""
    return f"venue:{connection_id}"


def _numbers(log: tuple[VenueEntry, ...]) -> list[int]:
    return [entry.seq for entry in log]


class Venues:
    """:class:`~tradecore.ports.VenueRepository` in memory: the log of a connection is one
    sorted tuple, replaced as a whole when entries are added."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def get_for_update(self, user_id: str, connection_id: str) -> str | None:
        self._session.read(lambda tables: owned_connection(tables, user_id, connection_id))
        await self._session.lock(venue_lock(connection_id))

        def get(tables: Tables) -> str | None:
            owned_connection(tables, user_id, connection_id)  # removed while we waited
            return tables.venue_states.get(connection_id)

        return self._session.read(get)

    async def get(self, user_id: str, connection_id: str) -> str | None:
        def get(tables: Tables) -> str | None:
            if connection_id not in user_connection_ids(tables, user_id):
                return None
            return tables.venue_states.get(connection_id)

        return self._session.read(get)

    async def save(self, user_id: str, connection_id: str, state: str) -> None:
        def save(tables: Tables) -> None:
            owned_connection(tables, user_id, connection_id)
            tables.venue_states.put(connection_id, state)

        self._session.write(save)

    async def add_entries(
        self, user_id: str, connection_id: str, entries: Sequence[VenueEntry]
    ) -> None:
        new = tuple(sorted(entries, key=lambda entry: entry.seq))

        def add_entries(tables: Tables) -> None:
            owned_connection(tables, user_id, connection_id)
            log = tables.venue_entries.get(connection_id) or ()
            taken = set(_numbers(log))
            numbers = _numbers(new)
            if len(set(numbers)) != len(numbers) or taken.intersection(numbers):
                raise AlreadyExists("a venue entry with this number is stored already")
            tables.venue_entries.put(
                connection_id, tuple(sorted(log + new, key=lambda entry: entry.seq))
            )

        self._session.write(add_entries)

    async def entries(
        self, user_id: str, connection_id: str, *, after: int, limit: int
    ) -> Sequence[VenueEntry]:
        def entries(tables: Tables) -> list[VenueEntry]:
            if connection_id not in user_connection_ids(tables, user_id):
                return []
            log = tables.venue_entries.get(connection_id) or ()
            start = bisect_right(_numbers(log), after)
            return list(log[start : start + max(limit, 0)])

        return self._session.read(entries)

    async def clear(self, user_id: str, connection_id: str) -> None:
        def clear(tables: Tables) -> None:
            owned_connection(tables, user_id, connection_id)
            tables.venue_states.delete(connection_id)
            tables.venue_entries.delete(connection_id)

        self._session.write(clear)
