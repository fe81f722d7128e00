"""The SQL repository of simulated venues: ``venue_states`` (one row per connection, the lock)
and ``venue_entries`` (the log).

Locking a venue (``get_for_update``): on PostgreSQL the state row is locked with ``SELECT …
FOR UPDATE``, held until the unit ends, after creating it when missing (``INSERT … ON CONFLICT
DO NOTHING``, which waits for a concurrent insert of the same row to finish); on SQLite the unit
takes the database's write lock (``BEGIN IMMEDIATE``) before reading, which serialises the
processes of one host. A venue is changed on every request to its broker, so the common path is
one statement per call: the locking read, the state's ``UPDATE``, the entries' ``INSERT`` (the
connection's ownership is checked only when one of them finds nothing or is refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from tradecore.errors import NotFound
from tradecore.ports import VenueEntry
from tradecore_adapters.sqlalchemy._directory import connection_owned
from tradecore_adapters.sqlalchemy._unit import Transaction, database_error
from tradecore_adapters.sqlalchemy.schema import venue_entries, venue_states

__all__ = ["Venues"]

# Built once, the values bound at each call (``b_…``), so that a call neither builds a statement
# nor computes its cache key again.
_ONE = (
    venue_states.c.user_id == bindparam("b_user_id"),
    venue_states.c.connection_id == bindparam("b_connection_id"),
)
_STATE = select(venue_states.c.state).where(*_ONE)
_STATE_FOR_UPDATE = _STATE.with_for_update()  # PostgreSQL's
_CREATE_STATE = postgresql.insert(venue_states).on_conflict_do_nothing(
    index_elements=["connection_id"]
)  # PostgreSQL's
_SAVE = update(venue_states).where(*_ONE).values(state=bindparam("b_state"))
_INSERT_STATE = insert(venue_states)
_INSERT_ENTRIES = insert(venue_entries)
_ENTRIES = (
    select(venue_entries.c.seq, venue_entries.c.text)
    .where(
        venue_entries.c.user_id == bindparam("b_user_id"),
        venue_entries.c.connection_id == bindparam("b_connection_id"),
        venue_entries.c.seq > bindparam("b_after"),
    )
    .order_by(venue_entries.c.seq)
    .limit(bindparam("b_limit", type_=Integer))
)
_CLEAR = tuple(
    delete(table).where(
        table.c.user_id == bindparam("b_user_id"),
        table.c.connection_id == bindparam("b_connection_id"),
    )
    for table in (venue_entries, venue_states)
)


class Venues:
    """:class:`~tradecore.ports.VenueRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get_for_update(self, user_id: str, connection_id: str) -> str | None:
        key = {"b_user_id": user_id, "b_connection_id": connection_id}
        if self._tx.sqlite:
            row = await self._first(_STATE, key)  # inside BEGIN IMMEDIATE: the write lock
        else:
            row = await self._first(_STATE_FOR_UPDATE, key)
            if row is None:
                # A row to lock before the first save; a concurrent insert of the same row
                # makes this wait until that transaction ends.
                await connection_owned(self._tx, user_id, connection_id)
                async with self._tx.atomic() as db:
                    await db.execute(
                        _CREATE_STATE,
                        [{"user_id": user_id, "connection_id": connection_id, "state": None}],
                    )
                row = await self._first(_STATE_FOR_UPDATE, key)
        if row is None:  # SQLite before the first save, or the connection removed meanwhile
            await connection_owned(self._tx, user_id, connection_id)
            return None
        state: str | None = row[0]
        return state

    async def get(self, user_id: str, connection_id: str) -> str | None:
        db = await self._tx.read()
        state: str | None = await db.scalar(
            _STATE, {"b_user_id": user_id, "b_connection_id": connection_id}
        )
        return state

    async def save(self, user_id: str, connection_id: str, state: str) -> None:
        db = await self._tx.write()
        try:
            found = await db.execute(
                _SAVE, {"b_user_id": user_id, "b_connection_id": connection_id, "b_state": state}
            )
        except DBAPIError as exc:
            raise database_error(exc) from None
        if found.rowcount:
            return
        await connection_owned(self._tx, user_id, connection_id)
        async with self._tx.one_write() as block:
            await block.execute(
                _INSERT_STATE, {"user_id": user_id, "connection_id": connection_id, "state": state}
            )

    async def add_entries(
        self, user_id: str, connection_id: str, entries: Sequence[VenueEntry]
    ) -> None:
        if not entries:
            await connection_owned(self._tx, user_id, connection_id)
            return
        try:
            async with self._tx.one_write(rows=len(entries)) as db:
                await db.execute(
                    _INSERT_ENTRIES,
                    [
                        {
                            "user_id": user_id,
                            "connection_id": connection_id,
                            "seq": entry.seq,
                            "text": entry.text,
                        }
                        for entry in entries
                    ],
                )
        except NotFound:  # the foreign key: say which connection, and why
            await connection_owned(self._tx, user_id, connection_id)
            raise

    async def entries(
        self, user_id: str, connection_id: str, *, after: int, limit: int
    ) -> Sequence[VenueEntry]:
        if limit <= 0:
            return []
        db = await self._tx.read()
        rows = await db.execute(
            _ENTRIES,
            {
                "b_user_id": user_id,
                "b_connection_id": connection_id,
                "b_after": after,
                "b_limit": limit,
            },
        )
        return [VenueEntry(seq, text) for seq, text in rows]

    async def _first(self, query: Any, parameters: dict[str, Any]) -> Any:
        try:
            db = await self._tx.write()
            return (await db.execute(query, parameters)).first()
        except DBAPIError as exc:
            raise database_error(exc) from None

    async def clear(self, user_id: str, connection_id: str) -> None:
        async with self._tx.atomic() as db:
            await connection_owned(self._tx, user_id, connection_id)
            for statement in _CLEAR:
                await db.execute(
                    statement, {"b_user_id": user_id, "b_connection_id": connection_id}
                )
