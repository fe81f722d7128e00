"""The transaction behind one SQL unit of work: the bottom of this package, which every SQL
repository builds on (:class:`SqlUnitOfWork`, which assembles them, is in
:mod:`._unit_of_work`).

A unit opens its database connection on first use. It reads in autocommit mode (each read sees
what is committed now) and begins its transaction before its first write: on PostgreSQL with
``BEGIN`` (read committed, where each statement takes a fresh snapshot anyway, so a unit that only
reads spends neither a ``BEGIN`` nor a ``ROLLBACK``: two round trips less), on SQLite with
``BEGIN IMMEDIATE``, taking the database's single write lock up front: a deferred transaction that
upgrades from reading to writing can fail at once with ``SQLITE_BUSY``, whereas
``BEGIN IMMEDIATE`` waits for the lock (up to the busy timeout). A locking read (``FOR UPDATE``)
is made after :meth:`Transaction.write`, inside the transaction. Either way a unit reads at least
what others committed, and its writes become visible only on commit.

Within one process, SQLite writers queue for the lock on an :class:`asyncio.Lock` per engine
(:func:`_writer_lock`) before ``BEGIN IMMEDIATE``: SQLite's busy handler waits by sleeping and
polling (up to 100 ms between tries), so units of one process waiting on each other left the
lock idle between writers and held their callers up (eight concurrent syncs spent most of their
time asleep in it); the asyncio queue hands the lock over at once. Other processes still meet the
busy timeout.

Each repository method that writes runs inside a savepoint (:meth:`Transaction.atomic`), so a
statement that fails (a name already taken…) leaves the unit as it was and usable; without it a
failed statement would abort the whole PostgreSQL transaction. A method whose only write is one
statement of one row uses :meth:`Transaction.one_write` instead: on SQLite it opens no savepoint
(two statements less, each a round trip to aiosqlite's thread), because SQLite undoes a failed
statement by itself and keeps the transaction (statement-level atomicity, its default ``ABORT``
conflict resolution); a :class:`OneWrite` refuses a second write or a write of several rows
(``executemany`` runs the statement once per row, so a failure midway would keep the first rows).
On PostgreSQL it is a savepoint like :meth:`~Transaction.atomic`, unless the method says its write
cannot be refused by a constraint in the ordinary course (``cannot_conflict``: an ``UPDATE`` by
key, an upsert): then it opens none either (two statements less, each about 500 µs of CPU through
SQLAlchemy). PostgreSQL aborts the whole transaction when a statement fails, so if such a write
fails after all (a row removed meanwhile by another unit, a lock not obtained), the unit is rolled
back, the block raises the same typed error as before, and the unit is *broken*: every later read,
write or commit in it raises :data:`UNIT_BROKEN` until it ends, so that nothing it wrote before can
be committed half-way without the caller knowing. The same holds after a SQLite block that failed
after its write (:data:`ONE_WRITE_BROKEN`).

A unit remembers, until it commits or rolls back, which connections it found to be a user's while
in its write transaction (:meth:`Transaction.remember_owned`), so that a sync writing positions,
trades, a cursor and an equity point of one connection asks once. A connection's owner never
changes; a removal of a connection or a user within the unit forgets them all; and the tables
written refer to their connection by ``(user_id, connection_id)``, so the database itself refuses
a row for a connection removed meanwhile by another unit.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, Executable, ScalarResult
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradecore.errors import AlreadyExists, NotFound, RepositoryError
from tradecore_adapters.sqlalchemy._engine import SQLITE_BUSY_TIMEOUT_S

__all__ = [
    "BUSY",
    "ONE_WRITE_BROKEN",
    "UNIT_BROKEN",
    "OneWrite",
    "Transaction",
    "database_error",
    "refused_as",
    "text_order",
]


BUSY = "the database is busy (another tradecore process holds it); try again"
"""What a unit that could not get the database's lock in time says."""

# SQLite's lock errors, and PostgreSQL's lock_not_available, deadlock_detected and
# serialization_failure (a retry of the whole unit is the documented answer to each).
_SQLITE_BUSY = ("database is locked", "database table is locked", "database schema is locked")
_POSTGRES_BUSY = frozenset({"55P03", "40P01", "40001"})


def database_error(exc: DBAPIError) -> RepositoryError:
    """A driver error as a :class:`RepositoryError` of one sentence.

    A lock not obtained in time says :data:`BUSY`; anything else says the driver's first line.
    Neither holds SQLAlchemy's ``[SQL: …]`` text, its link to sqlalche.me, or bound parameters
    (engines are created with ``hide_parameters``, and only the driver's own message is kept).
    """
    orig = exc.orig
    if orig is None:
        return RepositoryError(f"the database refused the operation ({type(exc).__name__})")
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    reason = lines[0] if lines else type(orig).__name__
    if (
        getattr(orig, "sqlstate", None) in _POSTGRES_BUSY
        or getattr(orig, "sqlite_errorname", None) in ("SQLITE_BUSY", "SQLITE_LOCKED")
        or reason.lower().startswith(_SQLITE_BUSY)
    ):
        return RepositoryError(BUSY)
    return RepositoryError(f"the database refused the operation: {reason.rstrip('.')}")


def _violated(exc: IntegrityError) -> str | None:
    # Which kind of constraint refused the row: "unique", "foreign key", or None (another).
    reason = str(exc.orig).lower()
    if "unique" in reason or "duplicate key" in reason:
        return "unique"
    if "foreign key" in reason:
        return "foreign key"
    return None


def _integrity_error(exc: IntegrityError) -> RepositoryError:
    # Reached only when another unit committed a clashing row between our check and our write.
    violated = _violated(exc)
    if violated == "unique":
        return AlreadyExists("a row with the same key was stored meanwhile by another unit")
    if violated == "foreign key":
        return NotFound("a row this write depends on was removed meanwhile by another unit")
    return database_error(exc)


@contextmanager
def refused_as(
    *, unique: RepositoryError | None = None, foreign_key: RepositoryError | None = None
) -> Iterator[None]:
    """Raise ``unique`` or ``foreign_key`` when the database refuses the block's row for that
    kind of constraint: a write that lets the constraint answer instead of asking first (one
    statement less). Any other refusal goes on as it was raised."""
    try:
        yield
    except IntegrityError as exc:
        violated = _violated(exc)
        if violated == "unique" and unique is not None:
            raise unique from None
        if violated == "foreign key" and foreign_key is not None:
            raise foreign_key from None
        raise


ONE_WRITE_BROKEN = (
    "a one-write block of the repository failed after its write; the unit's uncommitted writes "
    "were discarded"
)
"""What a :meth:`Transaction.one_write` block that raised after its write says (a fault of the
repository's code, never expected: such a block must write last, and raise after its write only
if the write changed nothing)."""


UNIT_BROKEN = (
    "this unit of work was rolled back after a statement of it failed; its uncommitted writes "
    "were discarded: start a new unit"
)
"""What every use of a unit says after :meth:`Transaction.one_write` rolled it back."""


def text_order(column: ColumnElement[str], *, sqlite: bool) -> ColumnElement[str]:
    """``column`` for ``ORDER BY`` in code-point order on both backends (PostgreSQL's default
    collation sorts by locale rules), for a statement built once per dialect."""
    return column if sqlite else column.collate("C")


class OneWrite:
    """The connection of a :meth:`Transaction.one_write` block: any number of reads, then at most
    one write statement of at most one row, which is the block's last statement."""

    __slots__ = ("_connection", "_rows", "changed", "wrote")

    def __init__(self, connection: AsyncConnection, rows: int = 1) -> None:
        self._connection = connection
        self._rows = rows
        self.wrote = False
        self.changed = False

    def _check(self, statement: Executable, parameters: object) -> bool:
        if self.wrote:
            raise RepositoryError(
                "a one-write block of the repository ran a statement after its write"
            )
        if getattr(statement, "is_select", False):
            return False
        rows = parameters if isinstance(parameters, Sequence) else ()
        if len(rows) > self._rows:
            raise RepositoryError(
                "a one-write block of the repository wrote more rows than it said"
            )
        self.wrote = True
        return True

    async def execute(
        self,
        statement: Executable,
        parameters: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    ) -> CursorResult[Any]:
        """Run ``statement`` (a read, or the block's one write)."""
        writing = self._check(statement, parameters)
        result = await self._connection.execute(statement, parameters)
        if writing:
            self.changed = result.rowcount != 0
        return result

    async def scalar(self, statement: Executable) -> Any:
        """The first column of the first row of a read."""
        if self._check(statement, None):
            raise RepositoryError("a one-write block of the repository wrote through scalar()")
        return await self._connection.scalar(statement)

    async def scalars(self, statement: Executable) -> ScalarResult[Any]:
        """The first column of every row of a read."""
        if self._check(statement, None):
            raise RepositoryError("a one-write block of the repository wrote through scalars()")
        return await self._connection.scalars(statement)


def _from_the_database(exc: BaseException) -> bool:
    # Whether a statement failed on the way to ``exc``: a driver error, or one that another error
    # replaced (``raise … from None`` keeps it as the context).
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DBAPIError):
            return True
        seen = seen.__context__
    return False


_WRITERS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock]
] = weakref.WeakKeyDictionary()


def _writer_lock(engine: AsyncEngine) -> asyncio.Lock:
    # One lock per SQLite engine and event loop (an asyncio.Lock belongs to one loop).
    locks = _WRITERS.setdefault(asyncio.get_running_loop(), weakref.WeakKeyDictionary())
    lock = locks.get(engine)
    if lock is None:
        lock = locks[engine] = asyncio.Lock()
    return lock


class Transaction:
    """The connection and transaction state of one unit of work."""

    __slots__ = (
        "_active",
        "_broken",
        "_connection",
        "_engine",
        "_in_one_write",
        "_lock",
        "_owned",
        "_writing",
        "sqlite",
    )

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._connection: AsyncConnection | None = None
        self._writing = False
        self._active = False
        self._broken = False
        self._lock: asyncio.Lock | None = None
        self._in_one_write = False
        self._owned: set[tuple[str, str]] = set()

    @property
    def writing(self) -> bool:
        """``True`` once the unit has opened its write transaction (its first write)."""
        return self._writing

    def known_owned(self, user_id: str, connection_id: str) -> bool:
        """``True`` if this write transaction found the connection to be the user's."""
        return (user_id, connection_id) in self._owned

    def remember_owned(self, user_id: str, connection_id: str) -> None:
        """Note that the connection was found to be the user's (kept only in a write
        transaction, until it ends: see the module docstring)."""
        if self._writing:
            self._owned.add((user_id, connection_id))

    def forget_owned(self) -> None:
        """Forget what :meth:`remember_owned` noted (a connection or a user is being removed)."""
        self._owned.clear()

    def begin(self) -> None:
        """Start (entering the unit's ``async with`` block)."""
        if self._active:
            raise RepositoryError("this unit of work is already in use; start a new one")
        self._active = True

    async def end(self) -> None:
        """Roll back whatever was not committed and give the connection back."""
        try:
            if self._connection is not None:
                await self.rollback()
        finally:
            connection, self._connection = self._connection, None
            self._active = False
            self._broken = False
            try:
                if connection is not None:
                    await connection.close()
            finally:
                self._release()

    def _release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    async def read(self) -> AsyncConnection:
        """The connection, for a read."""
        if not self._active:
            raise RepositoryError("a unit of work is used outside its 'async with' block")
        if self._broken:
            raise RepositoryError(UNIT_BROKEN)
        if self._connection is None:
            try:
                self._connection = await self._engine.connect()
            except DBAPIError as exc:
                raise database_error(exc) from None
        return self._connection

    async def write(self) -> AsyncConnection:
        """The connection, inside a write transaction."""
        if self._in_one_write:  # its write goes through its OneWrite, which counts it
            raise RepositoryError("a one-write block of the repository wrote around its OneWrite")
        connection = await self.read()
        if not self._writing:
            if self.sqlite:
                await self._queue_for_the_lock()
                try:
                    await connection.exec_driver_sql("BEGIN IMMEDIATE")
                except DBAPIError as exc:  # the lock not obtained within the busy timeout
                    self._release()
                    raise database_error(exc) from None
            else:
                try:
                    await connection.exec_driver_sql("BEGIN")
                except DBAPIError as exc:
                    raise database_error(exc) from None
            self._writing = True
        return connection

    async def _queue_for_the_lock(self) -> None:
        # This process's writers one after the other (see the module docstring).
        if self._lock is not None:
            return
        lock = _writer_lock(self._engine)
        try:
            await asyncio.wait_for(lock.acquire(), SQLITE_BUSY_TIMEOUT_S)
        except TimeoutError:
            raise RepositoryError(BUSY) from None
        self._lock = lock

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[AsyncConnection]:
        """A write connection inside a savepoint: an exception undoes only this block."""
        connection = await self.write()
        try:
            async with connection.begin_nested():
                yield connection
        except IntegrityError as exc:
            raise _integrity_error(exc) from None
        except DBAPIError as exc:
            await self._drop_if_read_only(exc)
            raise database_error(exc) from None

    @asynccontextmanager
    async def one_write(
        self, *, rows: int = 1, cannot_conflict: bool = False
    ) -> AsyncIterator[OneWrite]:
        """A block whose only write is one statement of at most ``rows`` rows (see the module
        docstring): of one row, on SQLite or with ``cannot_conflict``, without a savepoint;
        otherwise inside one. A refused write raises its typed error; it leaves the unit as it
        was and usable, except on PostgreSQL without a savepoint, where the unit is rolled back
        and broken (:data:`UNIT_BROKEN`)."""
        if rows > 1 or not (self.sqlite or cannot_conflict):
            async with self.atomic() as connection:
                self._in_one_write = True
                try:
                    yield OneWrite(connection, rows)
                finally:
                    self._in_one_write = False
            return
        block = OneWrite(await self.write())
        self._in_one_write = True
        try:
            yield block
        except BaseException as exc:
            self._in_one_write = False
            # A change that cannot be undone alone, or PostgreSQL's transaction aborted by a
            # failed statement: undo the unit and refuse it further use, loudly.
            aborted = not self.sqlite and _from_the_database(exc)
            if block.changed or aborted:
                try:
                    await self.rollback()
                finally:
                    self._broken = True
            if block.changed:
                if not isinstance(exc, Exception):
                    raise
                raise RepositoryError(ONE_WRITE_BROKEN) from None
            if isinstance(exc, IntegrityError):
                raise _integrity_error(exc) from None
            if isinstance(exc, DBAPIError):
                await self._drop_if_read_only(exc)
                raise database_error(exc) from None
            raise
        finally:
            self._in_one_write = False

    async def _drop_if_read_only(self, exc: DBAPIError) -> None:
        # A SQLite connection opened while its file was read-only stays read-only for good:
        # drop it and the pooled ones (opened maybe in the same spell), so that the next units
        # open new connections once the file is writable again.
        orig = exc.orig
        read_only = str(getattr(orig, "sqlite_errorname", "")).startswith("SQLITE_READONLY") or (
            "readonly database" in str(orig)
        )
        connection = self._connection
        if self.sqlite and read_only and connection is not None and not connection.invalidated:
            self._writing = False
            self._owned.clear()
            await connection.invalidate()
            await self._engine.dispose()

    async def commit(self) -> None:
        """Make the writes durable; the unit goes on with a fresh transaction."""
        if not self._active:
            raise RepositoryError("a unit of work is used outside its 'async with' block")
        if self._broken:
            raise RepositoryError(UNIT_BROKEN)
        connection = self._connection
        if connection is None:
            return
        try:
            if self._writing:
                await connection.exec_driver_sql("COMMIT")
        except DBAPIError as exc:
            await self._drop_if_read_only(exc)
            raise database_error(exc) from None
        finally:
            self._writing = False
            self._owned.clear()
            self._release()  # SQLite's lock is free: so is this process's queue

    async def rollback(self) -> None:
        """Discard the writes not committed."""
        if not self._active:
            raise RepositoryError("a unit of work is used outside its 'async with' block")
        connection = self._connection
        if connection is None or connection.invalidated:
            return
        try:
            if self._writing:
                await connection.exec_driver_sql("ROLLBACK")
        except DBAPIError as exc:
            raise database_error(exc) from None
        finally:
            self._writing = False
            self._owned.clear()
            self._release()  # SQLite's lock is free: so is this process's queue

    def text_order(self, column: ColumnElement[str]) -> ColumnElement[str]:
        """``column`` for ``ORDER BY`` in code-point order on this unit's backend
        (:func:`text_order`)."""
        return text_order(column, sqlite=self.sqlite)
