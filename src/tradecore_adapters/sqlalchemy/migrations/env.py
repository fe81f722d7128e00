"""Alembic environment of tradecore's SQL repository: online only, async engines.

Where the database comes from, first match wins:

1. ``config.attributes["connection"]``: a synchronous connection handed over by
   :mod:`tradecore_adapters.sqlalchemy.migrate` from inside ``AsyncConnection.run_sync``;
2. ``config.attributes["url"]``;
3. the ``TRADECORE_DATABASE_URL`` environment variable, for the plain ``alembic`` CLI run with the
   repository's ``alembic.ini`` (which holds no URL).

Transactions. On SQLite the engine runs in autocommit mode, so this script issues
``BEGIN IMMEDIATE`` itself (taking the write lock for the whole run), turns foreign keys off while
batch mode copies tables, runs ``PRAGMA foreign_key_check`` and only then ``COMMIT`` (``ROLLBACK``
on any error). Because the connection is already in a transaction when Alembic is configured,
Alembic never commits on its own half-way. On PostgreSQL the DDL is transactional: one
transaction, holding an advisory lock so that two upgrades at once run one after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from tradecore.errors import ConfigurationError, RepositoryError
from tradecore_adapters.sqlalchemy import _types
from tradecore_adapters.sqlalchemy._engine import create_engine
from tradecore_adapters.sqlalchemy.migrate import connect
from tradecore_adapters.sqlalchemy.schema import metadata

URL_VARIABLE = "TRADECORE_DATABASE_URL"
# Key of the PostgreSQL advisory lock held while migrating (any fixed 64-bit number; "tradecor").
POSTGRES_LOCK_KEY = 0x7472_6164_6563_6F72


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        transactional_ddl=True,  # on SQLite too: this script wraps the run in one transaction
        render_as_batch=True,  # SQLite alters a table by copying it
        compare_type=True,
        render_item=_render_item,
    )


def _render_item(kind: str, item: Any, autogen: AutogenContext) -> str | Literal[False]:
    """Autogenerate fixes: import the module of tradecore's column types where a revision uses
    them, and render JSONB correctly when autogenerating against SQLite (Alembic then writes
    ``JSONB(astext_type=Text())`` with ``Text`` unimported)."""
    if kind != "type":
        return False
    if type(item).__module__ == _types.__name__:
        autogen.imports.add(f"import {_types.__name__}")
    elif (
        isinstance(item, JSONB)
        and not item.none_as_null
        and type(item.astext_type) is Text
        and item.astext_type.length is None
    ):
        autogen.imports.add("from sqlalchemy.dialects import postgresql")
        return "postgresql.JSONB()"
    return False


def _migrate_sqlite(connection: Connection) -> None:
    foreign_keys = bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())
    # A no-op inside a transaction, so before BEGIN: a batch copy must never cascade a delete.
    connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            _configure(connection)
            context.run_migrations()
            _check_foreign_keys(connection)
        except BaseException:
            with contextlib.suppress(SQLAlchemyError):  # SQLite may have rolled back already
                connection.exec_driver_sql("ROLLBACK")
            raise
        connection.exec_driver_sql("COMMIT")
    finally:
        if foreign_keys:
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")


def _check_foreign_keys(connection: Connection) -> None:
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if rows:
        links = ", ".join(sorted({f"{row[0]} -> {row[2]}" for row in rows}))
        raise RepositoryError(
            f"the migration would leave {len(rows)} row(s) referring to missing rows "
            f"({links}); nothing was changed"
        )


def _migrate_postgresql(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_LOCK_KEY})
        context.run_migrations()


def _migrate(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        _migrate_sqlite(connection)
    else:
        _migrate_postgresql(connection)


async def _migrate_url(url: str) -> None:
    engine = create_engine(url, for_migrations=True)
    try:
        async with connect(engine) as connection:
            await connection.run_sync(_migrate)
            if connection.in_transaction():
                await connection.commit()
    finally:
        await engine.dispose()


def _main() -> None:
    if context.is_offline_mode():
        raise ConfigurationError(
            "tradecore's migrations run online only; drop --sql and point "
            f"{URL_VARIABLE} at the database"
        )
    config = context.config
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _migrate(connection)
        return
    url = str(config.attributes.get("url") or os.environ.get(URL_VARIABLE, "")).strip()
    if not url:
        raise ConfigurationError(f"set {URL_VARIABLE} to the database URL to run alembic")
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(_migrate_url(url))


_main()
