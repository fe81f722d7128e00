"""The SQL :class:`~tradecore.ports.RepositoryPort`: :class:`SqlRepository`."""

from __future__ import annotations

from pathlib import Path

from attrs import frozen
from sqlalchemy import select, update
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from tradecore.errors import ConfigurationError, RepositoryError
from tradecore_adapters.encryption import DecryptionFailed, KeyRing
from tradecore_adapters.sqlalchemy._directory import secret_context, unreadable_secrets
from tradecore_adapters.sqlalchemy._engine import create_engine, database_url, is_sqlite
from tradecore_adapters.sqlalchemy._unit import SqlUnitOfWork, Transaction
from tradecore_adapters.sqlalchemy.schema import broker_connections

__all__ = ["RotationReport", "SqlRepository"]


@frozen
class RotationReport:
    """What :meth:`SqlRepository.rotate_secrets` did.

    :param rotated: connections re-encrypted under the newest key by this call (the others
        already were).
    """

    rotated: int


class SqlRepository:
    """Users, connections, positions, trades, orders, strategies and runs in SQLite or PostgreSQL.

    Broker secrets and OAuth tokens are encrypted with ``key_ring`` before they reach the
    database and decrypted when read. Open one with :meth:`open`, which refuses a database whose
    schema is not at the newest migration.

    :param engine: an engine from :func:`tradecore_adapters.sqlalchemy.create_engine`.
    :param key_ring: the keys that encrypt (the newest) and decrypt (all) stored secrets.
    """

    def __init__(self, engine: AsyncEngine, *, key_ring: KeyRing) -> None:
        self._engine = engine
        self._key_ring = key_ring
        self._closed = False

    @classmethod
    async def open(cls, url: str | URL, *, key_ring: KeyRing) -> SqlRepository:
        """Connect to the database at ``url`` and check it is at the newest migration.

        :raises ConfigurationError: the URL is invalid, the SQLite file does not exist, or the
            schema is not at head (the message says what to run).
        :raises RepositoryError: the database cannot be reached.
        """
        from tradecore_adapters.sqlalchemy.migrate import ensure_at_head

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
        """Re-encrypt every connection's secrets under the newest key, ``batch_size`` rows per
        transaction.

        Rows already under the newest key are skipped, so running it again does nothing and an
        interrupted rotation resumes where it stopped. A row no key can open stops the rotation
        with :class:`SecretsUnreadable` naming its connection; that row and the rest of its batch
        are left exactly as they were.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        ring = self._key_ring
        table = broker_connections
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
                    return RotationReport(rotated=rotated)
                for row in rows:
                    uid, cid = row["user_id"], row["id"]
                    try:
                        values = {
                            "secrets_enc": ring.rotate(
                                row["secrets_enc"], context=secret_context(uid, cid, "secrets")
                            ),
                            "tokens_enc": None
                            if row["tokens_enc"] is None
                            else ring.rotate(
                                row["tokens_enc"], context=secret_context(uid, cid, "tokens")
                            ),
                            "key_id": ring.primary_id,
                        }
                    except DecryptionFailed:
                        raise unreadable_secrets(row) from None
                    await db.execute(
                        update(table)
                        .where(table.c.id == cid, table.c.key_id == row["key_id"])
                        .values(values)
                    )
                await tx.commit()
                rotated += len(rows)
            finally:
                await tx.end()  # rolls back a batch that did not commit
