"""The SQL :class:`~tradecore.ports.RepositoryPort`: :class:`SqlRepository`."""

from __future__ import annotations

from pathlib import Path

from attrs import frozen
from sqlalchemy import select, update
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from tradecore.errors import ConfigurationError, RepositoryError
from tradecore_adapters.encryption import DecryptionFailed, KeyRing
from tradecore_adapters.sqlalchemy._directory import SecretsUnreadable
from tradecore_adapters.sqlalchemy._engine import create_engine, database_url, is_sqlite
from tradecore_adapters.sqlalchemy._unit import SqlUnitOfWork
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
        rotated = 0
        table = broker_connections
        while True:
            async with self._engine.connect() as db:
                if self._engine.dialect.name == "sqlite":
                    await db.exec_driver_sql("BEGIN IMMEDIATE")
                rows = (
                    (
                        await db.execute(
                            select(table)
                            .where(table.c.key_id != ring.primary_id)
                            .order_by(table.c.id)
                            .limit(batch_size)
                        )
                    )
                    .mappings()
                    .all()
                )
                if not rows:
                    await _finish(db, self._engine, commit=False)
                    return RotationReport(rotated=rotated)
                try:
                    for row in rows:
                        uid, cid = row["user_id"], row["id"]
                        values = {
                            "secrets_enc": ring.rotate(
                                row["secrets_enc"],
                                context=f"broker_connections:{uid}:{cid}:secrets",
                            ),
                            "tokens_enc": None
                            if row["tokens_enc"] is None
                            else ring.rotate(
                                row["tokens_enc"],
                                context=f"broker_connections:{uid}:{cid}:tokens",
                            ),
                            "key_id": ring.primary_id,
                        }
                        await db.execute(
                            update(table)
                            .where(table.c.id == cid, table.c.key_id == row["key_id"])
                            .values(values)
                        )
                except DecryptionFailed:
                    await _finish(db, self._engine, commit=False)
                    raise SecretsUnreadable(
                        f"cannot decrypt the secrets of connection {row['name']!r} "
                        f"(broker {row['broker']}, id {row['id']}) with any of the keys given; "
                        "nothing in its batch was changed. Keep every old key in "
                        "TRADECORE_SECRET_KEY (newest first) until the rotation completes"
                    ) from None
                await _finish(db, self._engine, commit=True)
                rotated += len(rows)


async def _finish(db: object, engine: AsyncEngine, *, commit: bool) -> None:
    from sqlalchemy.ext.asyncio import AsyncConnection

    assert isinstance(db, AsyncConnection)
    if engine.dialect.name == "sqlite":
        await db.exec_driver_sql("COMMIT" if commit else "ROLLBACK")
    elif commit:
        await db.commit()
    else:
        await db.rollback()
