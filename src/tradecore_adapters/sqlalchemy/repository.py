"""The SQL :class:`~tradecore.ports.RepositoryPort`: :class:`SqlRepository`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from attrs import frozen
from sqlalchemy import Table, select, update
from sqlalchemy.engine import URL, RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from tradecore.errors import ConfigurationError, RepositoryError
from tradecore_adapters.encryption import DecryptionFailed, KeyRing
from tradecore_adapters.sqlalchemy._directory import (
    SecretsUnreadable,
    secret_context,
    unreadable_secrets,
)
from tradecore_adapters.sqlalchemy._engine import create_engine, database_url, is_sqlite
from tradecore_adapters.sqlalchemy._limits import SqlSharedLimits
from tradecore_adapters.sqlalchemy._targets import (
    target_secret_context,
    unreadable_target_secrets,
)
from tradecore_adapters.sqlalchemy._unit import Transaction
from tradecore_adapters.sqlalchemy._unit_of_work import SqlUnitOfWork
from tradecore_adapters.sqlalchemy._web_sessions import SqlWebSessions
from tradecore_adapters.sqlalchemy.schema import broker_connections, notification_targets

__all__ = ["RotationReport", "SqlRepository"]


@frozen
class RotationReport:
    """What :meth:`SqlRepository.rotate_secrets` did.

    :param rotated: connections re-encrypted under the newest key by this call (the others
        already were).
    :param rotated_targets: notification targets re-encrypted under the newest key by this call.
    """

    rotated: int
    rotated_targets: int


@frozen
class _Sealed:
    # A table whose rows hold ciphertexts: the fields encrypted (column `<field>_enc`, NULL
    # allowed), the context each is bound to, and the error naming a row no key opens.
    table: Table
    fields: tuple[str, ...]
    context: Callable[[str, str, str], str]
    unreadable: Callable[[RowMapping], SecretsUnreadable]


_CONNECTIONS = _Sealed(
    broker_connections, ("secrets", "tokens"), secret_context, unreadable_secrets
)
_TARGETS = _Sealed(
    notification_targets, ("secrets",), target_secret_context, unreadable_target_secrets
)


class SqlRepository:
    """Users, connections, notification targets, positions, trades, orders, strategies, runs, risk
    limits, the kill switch, the leases of users' cycles (with their audit) and the registry of
    running schedulers in SQLite or PostgreSQL.

    Broker secrets, OAuth tokens and notification targets' secrets are encrypted with
    ``key_ring`` before they reach the database and decrypted when read. Open one with
    :meth:`open`, which refuses a database whose schema is not at the newest migration.

    :param engine: an engine from :func:`tradecore_adapters.sqlalchemy.create_engine`.
    :param key_ring: the keys that encrypt (the newest) and decrypt (all) stored secrets.
    """

    def __init__(self, engine: AsyncEngine, *, key_ring: KeyRing) -> None:
        self._engine = engine
        self._key_ring = key_ring
        self._limits = SqlSharedLimits(engine)
        self._sessions = SqlWebSessions(engine)
        self._closed = False

    @classmethod
    async def open(cls, url: str | URL, *, key_ring: KeyRing) -> SqlRepository:
        """Connect to the database at ``url`` and check it is at the newest migration.

        :raises ConfigurationError: the URL is invalid, the SQLite file does not exist, or the
            schema is not at head (the message says what to run).
        :raises RepositoryError: the database cannot be reached.
        """
        from tradecore_adapters.sqlalchemy.schema_version import ensure_at_head

        checked = database_url(url)
        if is_sqlite(checked) and not Path(checked.database or "").exists():
            raise ConfigurationError(
                f"there is no database at {checked.database}; run `tradecore init` to create it"
            )
        engine = create_engine(checked)
        try:
            await ensure_at_head(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, key_ring=key_ring)

    @property
    def key_id(self) -> str:
        """The id of the newest key (the one that encrypts); never the key itself."""
        return self._key_ring.primary_id

    @property
    def engine(self) -> AsyncEngine:
        """The engine (for tools that need plain SQL)."""
        return self._engine

    def shared_limits(self) -> SqlSharedLimits:
        """The limits every process on this database obeys together (a ban, a pause, Binance's
        weight per minute…); see :class:`~tradecore.ports.SharedLimits`."""
        return self._limits

    def web_sessions(self) -> SqlWebSessions:
        """The browser sessions every web server on this database shares; see
        :class:`~tradecore.ports.WebSessionRepository`."""
        return self._sessions

    def unit_of_work(self) -> SqlUnitOfWork:
        """Start a new unit of work (enter it with ``async with``)."""
        if self._closed:
            raise RepositoryError("the repository is closed")
        return SqlUnitOfWork(self._engine, self._key_ring)

    async def aclose(self) -> None:
        """Close every pooled connection. Safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._engine.dispose()

    async def rotate_secrets(self, *, batch_size: int = 100) -> RotationReport:
        """Re-encrypt every connection's and notification target's secrets under the newest key,
        ``batch_size`` rows per transaction (connections first, then targets).

        Rows already under the newest key are skipped, so running it again does nothing and an
        interrupted rotation resumes where it stopped. A row no key can open stops the rotation
        with :class:`SecretsUnreadable` naming its connection or target; that row and the rest
        of its batch are left exactly as they were.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        connections = await self._rotate(_CONNECTIONS, batch_size)
        targets = await self._rotate(_TARGETS, batch_size)
        return RotationReport(rotated=connections, rotated_targets=targets)

    async def _rotate(self, sealed: _Sealed, batch_size: int) -> int:
        """Re-encrypt the rows of one table not under the newest key; return how many."""
        ring = self._key_ring
        table = sealed.table
        rotated = 0
        while True:
            tx = Transaction(self._engine)
            tx.begin()
            try:
                db = await tx.write()
                query = select(table).where(table.c.key_id != ring.primary_id)
                rows = (
                    (await db.execute(query.order_by(table.c.id).limit(batch_size)))
                    .mappings()
                    .all()
                )
                if not rows:
                    return rotated
                for row in rows:
                    uid, rid = row["user_id"], row["id"]
                    try:
                        values: dict[str, str | None] = {
                            f"{field}_enc": None
                            if row[f"{field}_enc"] is None
                            else ring.rotate(
                                row[f"{field}_enc"], context=sealed.context(uid, rid, field)
                            )
                            for field in sealed.fields
                        }
                    except DecryptionFailed:
                        raise sealed.unreadable(row) from None
                    values["key_id"] = ring.primary_id
                    await db.execute(
                        update(table)
                        .where(table.c.id == rid, table.c.key_id == row["key_id"])
                        .values(values)
                    )
                await tx.commit()
                rotated += len(rows)
            finally:
                await tx.end()  # rolls back a batch that did not commit
