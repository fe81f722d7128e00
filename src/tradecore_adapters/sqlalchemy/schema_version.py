"""Whether a database is at the schema this tradecore needs, answered without importing Alembic.

Every command that opens the database asks this first (:func:`ensure_at_head`), so it is on the
path of ``tradecore run`` from cron every few minutes. Alembic and its script directory cost a
few hundred milliseconds to import and read, and nothing here needs them: the database's
revision is one row of ``alembic_version``, and the shipped revisions are the ``revision`` and
``down_revision`` lines of the migration files, read as text. A test compares that reading with
Alembic's own (:mod:`tests.integration.migrations.test_migrations`), so the two cannot differ.
Migrating still goes through Alembic (:mod:`.migrate`, which re-exports everything here).
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradecore.errors import ConfigurationError, RepositoryError
from tradecore_adapters.sqlalchemy._engine import describe_url

__all__ = [
    "DatabaseUnavailable",
    "SchemaNotAtHead",
    "connect",
    "ensure_at_head",
    "head_revision",
    "revisions_in",
    "shipped_revisions",
]

VERSIONS = Path(__file__).parent / "migrations" / "versions"
"""The shipped migration files (one revision each)."""

VERSION_TABLE = "alembic_version"
"""Where Alembic records a database's revision (its default, which ``env.py`` keeps)."""

_ASSIGNMENT = r"^{name}(?:\s*:[^=\n]*)?\s*=\s*(?:None|[\"']([^\"']+)[\"'])\s*$"
_REVISION = re.compile(_ASSIGNMENT.format(name="revision"), re.MULTILINE)
_DOWN_REVISION = re.compile(_ASSIGNMENT.format(name="down_revision"), re.MULTILINE)


class DatabaseUnavailable(RepositoryError):
    """The database cannot be reached or opened: server down, wrong host or port, refused login,
    SQLite file in a missing or unwritable directory."""

    @classmethod
    def from_error(cls, url: str | URL, error: BaseException) -> DatabaseUnavailable:
        """The error for a failed connection to ``url``: the masked URL and the driver's first line."""
        return cls(f"cannot connect to the database at {describe_url(url)}: {_reason(error, url)}")


class SchemaNotAtHead(ConfigurationError):
    """The database is not at the revision this tradecore needs, so no command may touch it.

    :param current: the database's revision (``None``: no tradecore tables yet).
    :param head: the revision this tradecore needs (:func:`head_revision`).
    """

    def __init__(self, message: str, *, current: str | None, head: str) -> None:
        super().__init__(message)
        self.current = current
        self.head = head


def shipped_revisions() -> tuple[str, ...]:
    """Every revision this tradecore ships, oldest first (each migration file's ``revision``).

    Read once per process (per directory).

    :raises ConfigurationError: the migration files are missing or do not form one line.
    """
    return _read_once(VERSIONS)


@functools.cache
def _read_once(directory: Path) -> tuple[str, ...]:
    return revisions_in(directory)


def revisions_in(directory: Path) -> tuple[str, ...]:
    """The revisions of the migration files in ``directory``, oldest first.

    :raises ConfigurationError: a file names no revision, or they do not form one line from a
        first revision (no fork, no gap, no second start).
    """
    parents: dict[str, str | None] = {}
    for path in sorted(directory.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or revision.group(1) is None or down is None:
            raise ConfigurationError(f"the migration {path.name} names no revision")
        parents[revision.group(1)] = down.group(1)
    line: list[str] = []
    children: dict[str | None, str] = {parent: child for child, parent in parents.items()}
    current = children.get(None)
    while current is not None:
        line.append(current)
        current = children.get(current)
    if not line or len(line) != len(parents) or len(children) != len(parents):
        raise ConfigurationError("this tradecore's database migrations do not form one line")
    return tuple(line)


def head_revision() -> str:
    """The revision a database must be at for this tradecore: its newest migration."""
    return shipped_revisions()[-1]


async def ensure_at_head(engine: AsyncEngine) -> None:
    """Refuse to go on unless the database of ``engine`` is at :func:`head_revision`.

    The repository calls this before any command runs, so an old database is never written by a
    newer tradecore (nor the reverse). ``engine`` is the caller's; it is not disposed.

    :raises SchemaNotAtHead: no tradecore tables yet, an older revision, or a revision a newer
        tradecore wrote; the message says what to run.
    :raises DatabaseUnavailable: the database cannot be reached or opened.
    """
    database = describe_url(engine.url)
    with translating(database, "reading the migration state of"):
        async with connect(engine) as connection:
            heads = await connection.run_sync(recorded_revisions)
    stale = not_at_head(heads, database)
    if stale is not None:
        raise stale


@asynccontextmanager
async def connect(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Open a connection of ``engine``; failing to connect raises :class:`DatabaseUnavailable`.

    Only opening the connection is translated: an error of a statement run on it propagates.
    """
    missing = _missing_sqlite_directory(engine.url)
    if missing is not None:
        # Checked here rather than left to aiosqlite: a failed connect there leaves its worker
        # thread answering a future after the event loop may have closed ("Event loop is closed"
        # printed from a thread at exit).
        raise DatabaseUnavailable.from_error(
            engine.url,
            sqlite3.OperationalError(f"unable to open database file ({missing} does not exist)"),
        )
    connection = engine.connect()
    try:
        await connection.start()
    except (DBAPIError, OSError) as exc:
        raise DatabaseUnavailable.from_error(engine.url, exc) from exc
    try:
        yield connection
    finally:
        await connection.close()


def recorded_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions the database records (none when it has no version table yet)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return tuple(str(row[0]) for row in rows)


def current_of(heads: tuple[str, ...], database: str) -> str | None:
    """The one revision of ``heads`` (``None`` for none); several is a damaged database."""
    if len(heads) > 1:
        raise RepositoryError(
            f"the database at {database} records several revisions ({', '.join(heads)}) "
            "although tradecore's migrations form one line"
        )
    return heads[0] if heads else None


def not_at_head(heads: tuple[str, ...], database: str) -> SchemaNotAtHead | None:
    """The refusal for a database recording ``heads``, or ``None`` when it is at head."""
    head = head_revision()
    current = current_of(heads, database)
    if current == head:
        return None
    if current is None:
        message = (
            f"the database at {database} has no tradecore tables yet; "
            "run `tradecore init` (or `tradecore db upgrade`)"
        )
    elif current not in shipped_revisions():
        return newer_than_shipped(current, database)
    else:
        message = (
            f"the database at {database} is at revision {current} but this tradecore needs "
            f"{head}; run `tradecore db upgrade`"
        )
    return SchemaNotAtHead(message, current=current, head=head)


def newer_than_shipped(revision: str, database: str) -> SchemaNotAtHead:
    """The refusal for a database a newer tradecore migrated to ``revision``."""
    return SchemaNotAtHead(
        f"the database at {database} was migrated by a newer tradecore (revision {revision}); "
        "upgrade tradecore",
        current=revision,
        head=head_revision(),
    )


@contextmanager
def translating(database: str, doing: str) -> Iterator[None]:
    """Turn the SQL errors of ``doing`` into :mod:`tradecore.errors` with their first line."""
    try:
        yield
    except DBAPIError as exc:
        reason = first_line(exc.orig) if exc.orig is not None else first_line(exc)
        raise RepositoryError(f"{doing} the database at {database} failed: {reason}") from exc
    except SQLAlchemyError as exc:
        raise RepositoryError(
            f"{doing} the database at {database} failed: {first_line(exc)}"
        ) from exc


def first_line(error: BaseException) -> str:
    """The first non-blank line of an error's text (its type's name when it has none)."""
    for line in str(error).splitlines():
        if line.strip():
            return line.strip()
    return type(error).__name__


def _missing_sqlite_directory(url: URL) -> Path | None:
    """The directory of a SQLite file URL when it does not exist (``None`` otherwise)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    directory = Path(url.database).expanduser().parent
    return None if directory.is_dir() else directory


def _reason(error: BaseException, url: str | URL) -> str:
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    reason = first_line(cause)
    password = _password(url)
    return reason.replace(password, "***") if password else reason


def _password(url: str | URL) -> str | None:
    try:
        return (url if isinstance(url, URL) else make_url(url)).password
    except ArgumentError:
        return None
