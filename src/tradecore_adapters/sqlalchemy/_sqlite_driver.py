"""SQLite through ``aiosqlite`` with one trip to the driver's thread per statement.

``aiosqlite`` runs every call of a ``sqlite3`` connection on a thread of its own, and
SQLAlchemy's adapter makes one call per cursor operation: open a cursor, execute, fetch the
rows, close. Each is a trip to that thread and back (a queue, a future, a wake-up of the event
loop), and those trips, not SQLite, were most of the CPU a statement cost (about 130 µs of which
the trips were half, measured on the CI machine kind; a scheduler cycle sends about 80
statements). :class:`OneTripCursor` does the four in one function on the driver's thread and
hands back the description, the rows, the row count and the last row id together. A rollback
or commit outside a transaction (SQLAlchemy rolls back every connection a unit closes; in
autocommit mode only a unit's own ``BEGIN IMMEDIATE`` opens one) makes no trip: ``sqlite3``
itself does nothing then.

Nothing else changes: the same ``sqlite3`` connection and its settings, the same errors
(``sqlite3``'s, raised on the thread and re-raised here, which SQLAlchemy translates as
before), the adapter's per-connection mutex, and server-side cursors (streamed listings), which
keep SQLAlchemy's own class and fetch in pages. It relies on two names ``aiosqlite`` does not
document, ``Connection._execute`` (queue a function for the thread) and ``Connection._conn``
(the ``sqlite3`` connection), both stable since aiosqlite 0.17; with an ``aiosqlite`` that lacks
them :func:`dbapi` returns ``None`` and the engine keeps SQLAlchemy's own adapter (slower, same
behaviour), so an upgrade of aiosqlite cannot stop the database from opening. The repository's
tests run every statement through this path.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

__all__ = ["OneTripCursor", "dbapi"]

_Description = tuple[tuple[Any, ...], ...] | None


class _Outcome:
    """What the statement left, in place of an ``aiosqlite`` cursor (read by SQLAlchemy's
    adapter through ``description``, ``rowcount``, ``lastrowid`` and ``arraysize``)."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self) -> None:
        self.description: _Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def close(self) -> None:
        """Nothing to close: the ``sqlite3`` cursor was closed on the driver's thread."""


def _run(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[_Description, Sequence[Any], int, int | None]:
    # On the driver's thread: the whole statement, the cursor closed whatever happens.
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else ()
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's ``aiosqlite`` cursor, each statement one trip to the driver's thread."""

    __slots__ = ()

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Outcome()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._statement(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._statement(operation, seq_of_parameters, many=True)

    async def _statement(self, operation: Any, parameters: Any, *, many: bool) -> None:
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            description, rows, rowcount, lastrowid = await driver._execute(  # type: ignore[no-untyped-call]
                _run, driver._conn, operation, parameters, many
            )
        outcome: _Outcome = self._cursor  # type: ignore[assignment]
        outcome.description, outcome.rowcount, outcome.lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows)


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor

    def rollback(self) -> None:
        # Outside a transaction sqlite3's rollback() does nothing, and in autocommit mode only
        # a unit's own BEGIN IMMEDIATE opens one: SQLAlchemy's rollback when a unit closes its
        # connection is then no trip at all. (Reading the flag from this thread is safe: no
        # statement runs on the connection meanwhile, the adapter's mutex sees to that.)
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        # Likewise: nothing to commit outside a transaction.
        if self._in_transaction():
            super().commit()

    def _in_transaction(self) -> bool:
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        try:
            return driver._conn.in_transaction
        except (ValueError, sqlite3.ProgrammingError):  # closed: let the driver say so
            return True


class _OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        connection = super().connect(*arg, **kw)
        connection.__class__ = _OneTripConnection  # same slots, another cursor class
        return connection


def dbapi() -> AsyncAdapt_aiosqlite_dbapi | None:
    """The DBAPI module for ``create_async_engine(..., module=dbapi())`` on SQLite, or ``None``
    (use SQLAlchemy's own adapter) when the installed ``aiosqlite`` lacks what
    :class:`OneTripCursor` uses."""
    if not (hasattr(aiosqlite.Connection, "_execute") and hasattr(aiosqlite.Connection, "_conn")):
        return None
    return _OneTripDBAPI(aiosqlite, sqlite3)
