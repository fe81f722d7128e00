"""The SQL repository of simulated venues: ``venue_states`` (one row per connection, the lock)
and ``venue_entries`` (the log).

Locking a venue (``get_for_update``): on PostgreSQL the state row is created when missing
(``INSERT … ON CONFLICT DO NOTHING``, which waits for a concurrent insert of the same row to
finish) and then locked with ``SELECT … FOR UPDATE``, held until the unit ends; on SQLite the
unit takes the database's write lock (``BEGIN IMMEDIATE``) before reading, which serialises the
processes of one host.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from tradecore.ports import VenueEntry
from tradecore_adapters.sqlalchemy._directory import connection_owned
from tradecore_adapters.sqlalchemy._ledger import upsert
from tradecore_adapters.sqlalchemy._unit import Transaction, database_error
from tradecore_adapters.sqlalchemy.schema import venue_entries, venue_states

__all__ = ["Venues"]


class Venues:
    """:class:`~tradecore.ports.VenueRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get_for_update(self, user_id: str, connection_id: str) -> str | None:
        await connection_owned(self._tx, user_id, connection_id)
        query = select(venue_states.c.state).where(
            venue_states.c.user_id == user_id, venue_states.c.connection_id == connection_id
        )
        if not self._tx.sqlite:
            query = query.with_for_update()
        async with self._tx.atomic() as db:  # SQLite: BEGIN IMMEDIATE, the write lock
            statement = upsert(self._tx, venue_states)
            await db.execute(
                statement.on_conflict_do_nothing(index_elements=["connection_id"]),
                [{"user_id": user_id, "connection_id": connection_id, "state": None}],
            )
        try:
            db = await self._tx.write()
            row = (await db.execute(query)).first()
        except DBAPIError as exc:
            raise database_error(exc) from None
        if row is None:  # the connection was removed while we waited
            await connection_owned(self._tx, user_id, connection_id)
            return None
        state: str | None = row[0]
        return state

    async def save(self, user_id: str, connection_id: str, state: str) -> None:
        async with self._tx.atomic() as db:
            await connection_owned(self._tx, user_id, connection_id)
            found = await db.execute(
                update(venue_states)
                .where(
                    venue_states.c.user_id == user_id,
                    venue_states.c.connection_id == connection_id,
                )
                .values(state=state)
            )
            if not found.rowcount:
                await db.execute(
                    insert(venue_states).values(
                        user_id=user_id, connection_id=connection_id, state=state
                    )
                )

    async def add_entries(
        self, user_id: str, connection_id: str, entries: Sequence[VenueEntry]
    ) -> None:
        if not entries:
            await connection_owned(self._tx, user_id, connection_id)
            return
        async with self._tx.atomic() as db:
            await connection_owned(self._tx, user_id, connection_id)
            await db.execute(
                insert(venue_entries),
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

    async def entries(
        self, user_id: str, connection_id: str, *, after: int, limit: int
    ) -> Sequence[VenueEntry]:
        if limit <= 0:
            return []
        db = await self._tx.read()
        rows = await db.execute(
            select(venue_entries.c.seq, venue_entries.c.text)
            .where(
                venue_entries.c.user_id == user_id,
                venue_entries.c.connection_id == connection_id,
                venue_entries.c.seq > after,
            )
            .order_by(venue_entries.c.seq)
            .limit(limit)
        )
        return [VenueEntry(seq, text) for seq, text in rows]

    async def clear(self, user_id: str, connection_id: str) -> None:
        async with self._tx.atomic() as db:
            await connection_owned(self._tx, user_id, connection_id)
            for table in (venue_entries, venue_states):
                await db.execute(
                    delete(table).where(
                        table.c.user_id == user_id, table.c.connection_id == connection_id
                    )
                )
