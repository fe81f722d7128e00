"""Database URLs and engines: which databases tradecore runs on, and how it connects to them.

Two backends: SQLite through ``aiosqlite`` (the embedded default; one host, one writer at a time)
and PostgreSQL through ``psycopg`` 3 (several daemons on several machines). A URL naming just the
database (``sqlite:///path``, ``postgresql://host/db``) gets the async driver; any other database or
driver is refused with a :class:`~tradecore.errors.ConfigurationError`.

SQLite connections are opened in the driver's autocommit mode, and the repository issues
``BEGIN IMMEDIATE`` itself before its first write (see :mod:`._unit`): a transaction that read
first and then tries to write can otherwise fail at once with ``SQLITE_BUSY`` when another writer
got in between. Every connection turns foreign keys on (except for migrations, which copy tables
and must not cascade), waits up to :data:`SQLITE_BUSY_TIMEOUT_S` for the write lock and uses the
write-ahead log, so readers never wait for the writer. Each statement is one trip to
``aiosqlite``'s thread (:mod:`._sqlite_driver`) instead of SQLAlchemy's three or four.

PostgreSQL connections of the repository are opened in autocommit mode too, and a unit issues
``BEGIN`` before its first write: a unit that only reads (seven of a scheduler cycle's sixteen)
sends no ``BEGIN`` and no ``ROLLBACK``, two round trips less each, and reads exactly what it read
inside a transaction at read committed, where every statement takes a fresh snapshot. Every
locking read (``FOR UPDATE``) is made after the unit's ``BEGIN``. Migrations keep the driver's
transactions (``for_migrations``).

A pooled PostgreSQL connection is checked before use (a ``SELECT 1`` round trip) only when it
has sat idle in the pool for :data:`POSTGRES_PING_AFTER_IDLE_S` or more (:func:`_ping_if_idle`):
a server restarted or a backend terminated while the process was idle is then noticed at
checkout, and the pool opens new connections, as SQLAlchemy's ``pool_pre_ping`` would; a busy
process (a scheduler pass hands its connections from unit to unit within milliseconds) pays no
round trip per unit. A connection that dies in the moment between two units is met by the unit's
first statement instead: that unit fails with a :class:`~tradecore.errors.RepositoryError` and
SQLAlchemy drops every pooled connection older than the error, so the next unit connects afresh.

Bound parameters are kept out of logs and error messages (``hide_parameters``), and a URL is only
ever shown with its password masked (:func:`describe_url`).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tradecore.errors import ConfigurationError

__all__ = [
    "SQLITE_BUSY_TIMEOUT_S",
    "create_engine",
    "database_url",
    "describe_url",
    "is_sqlite",
]

SQLITE_BUSY_TIMEOUT_S = 30
POSTGRES_CONNECT_TIMEOUT_S = 10
POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_S = 120
"""The server ends a session left idle inside a transaction this long (a process paused or cut
off mid-unit): its row locks would otherwise keep another scheduler from taking its cycles over
after their leases lapsed. No unit of work waits that long between two statements."""
POSTGRES_PING_AFTER_IDLE_S = 1.0
"""A pooled PostgreSQL connection idle this long (seconds) is pinged before it is used."""
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_ALIASES = {"postgres": "postgresql"}
_ACCEPTED = {"sqlite": {"aiosqlite"}, "postgresql": {"psycopg", "psycopg_async"}}


def database_url(raw: str | URL) -> URL:
    """Parse and check a database URL, choosing the async driver tradecore uses.

    :raises ConfigurationError: the text is not a URL, or names a database or driver tradecore
        does not support. The message never shows a password.
    """
    if isinstance(raw, URL):
        url = raw
    else:
        text = raw.strip()
        if not text:
            raise ConfigurationError("the database URL is empty")
        try:
            url = make_url(text)
        except ArgumentError:
            raise ConfigurationError(
                "the database URL is not valid; expected e.g. sqlite:////path/to/tradecore.db "
                "or postgresql://user@host:5432/dbname"
            ) from None
    backend, _, driver = url.drivername.partition("+")
    backend = _ALIASES.get(backend, backend)
    if backend not in _DRIVERS:
        raise ConfigurationError(
            f"tradecore runs on SQLite or PostgreSQL, not {backend!r} "
            f"(database URL {describe_url(url)})"
        )
    if driver and driver not in _ACCEPTED[backend]:
        raise ConfigurationError(
            f"tradecore talks to {backend} through {_DRIVERS[backend].partition('+')[2]}, "
            f"not {driver!r} (database URL {describe_url(url)})"
        )
    url = url.set(drivername=_DRIVERS[backend])
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise ConfigurationError(
            "an in-memory SQLite database would lose everything at exit; "
            "give a file path, e.g. sqlite:////path/to/tradecore.db"
        )
    return url


def describe_url(url: str | URL) -> str:
    """The URL as it may be shown to a person: the password masked."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "<invalid database URL>"
    return url.render_as_string(hide_password=True)


def is_sqlite(url: URL) -> bool:
    """``True`` for a SQLite URL."""
    return url.get_backend_name() == "sqlite"


def create_engine(url: str | URL, *, for_migrations: bool = False) -> AsyncEngine:
    """Create the async engine for ``url`` (checked with :func:`database_url`).

    :param for_migrations: leave SQLite foreign keys off, because Alembic's batch mode copies and
        drops tables and a cascading foreign key would delete the rows that point at them.
    :raises ConfigurationError: see :func:`database_url`.
    """
    checked = database_url(url)
    options: dict[str, Any] = {"hide_parameters": True}
    if is_sqlite(checked):
        from tradecore_adapters.sqlalchemy._sqlite_driver import dbapi  # only for SQLite

        options["isolation_level"] = "AUTOCOMMIT"
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        one_trip = dbapi()  # one trip to aiosqlite's thread per statement, when it can
        if one_trip is not None:
            options["module"] = one_trip
    else:
        if not for_migrations:  # the units begin their write transactions themselves
            options["isolation_level"] = "AUTOCOMMIT"
        options["connect_args"] = {
            "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S,
            "options": "-c idle_in_transaction_session_timeout="
            f"{POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_S * 1000}",
        }
    engine = create_async_engine(checked, **options)
    if not is_sqlite(checked):
        _ping_if_idle(engine)
    if is_sqlite(checked):
        foreign_keys = "OFF" if for_migrations else "ON"

        @event.listens_for(engine.sync_engine, "connect")
        def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"PRAGMA foreign_keys = {foreign_keys}")
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
                cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
            finally:
                cursor.close()

    return engine


def _ping_if_idle(engine: AsyncEngine) -> None:
    # SQLAlchemy's "pessimistic" disconnect handling, for connections that sat idle only.
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(dbapi_connection: Any, connection_record: Any) -> None:
        connection_record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _check(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
        since = connection_record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < POSTGRES_PING_AFTER_IDLE_S:
            return  # new, or handed on from the previous unit at once
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool drops this and every older connection and checks out a new one.
                raise exc.InvalidatePoolError(str(error)) from None
            raise
