"""Browser sessions in the database: :class:`SqlWebSessions`, the SQL
:class:`~tradecore.ports.WebSessionRepository` over the ``web_sessions`` table.

Every web server on the database reads and writes the same rows, so a session made on one
opens requests on all. Each call is one statement on its own pooled connection in autocommit
mode (an upsert ``INSERT … ON CONFLICT (digest) DO UPDATE`` to save). Expiries are integer
microseconds since the epoch, compared alike on SQLite and PostgreSQL. Expired rows are never
returned and are deleted now and then (at most every ten minutes per process, at a save).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tradecore.ports import StoredWebSession
from tradecore_adapters.shared_limits import from_micros, micros, span
from tradecore_adapters.sqlalchemy._unit import database_error
from tradecore_adapters.sqlalchemy.schema import web_sessions

__all__ = ["SqlWebSessions"]

_PURGE_EVERY = span(timedelta(minutes=10))
_c = web_sessions.c


class SqlWebSessions:
    """Sessions in the ``web_sessions`` table (see the module docstring).

    :param engine: the repository's engine.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._purged_at: int | None = None

    async def get(self, digest: str, *, now: datetime) -> StoredWebSession | None:
        """See :meth:`tradecore.ports.WebSessionRepository.get`."""
        statement = select(_c.data, _c.expires_at).where(
            _c.digest == digest, _c.expires_at > micros(now)
        )
        row = await self._run(statement, first=True)
        if row is None:
            return None
        return StoredWebSession(
            digest=digest, data=bytes(row[0]), expires_at=from_micros(int(row[1]))
        )

    async def put(self, session: StoredWebSession, *, now: datetime) -> None:
        """See :meth:`tradecore.ports.WebSessionRepository.put`."""
        expires = micros(session.expires_at)
        statement = (
            self._insert(web_sessions)
            .values(digest=session.digest, data=session.data, expires_at=expires)
            .on_conflict_do_update(
                index_elements=[_c.digest], set_={"data": session.data, "expires_at": expires}
            )
        )
        await self._run(statement)
        at = micros(now)
        if self._purged_at is None or at - self._purged_at > _PURGE_EVERY:
            self._purged_at = at
            await self.purge(now=now)

    async def delete(self, digest: str) -> None:
        """See :meth:`tradecore.ports.WebSessionRepository.delete`."""
        await self._run(delete(web_sessions).where(_c.digest == digest))

    async def delete_all(self) -> None:
        """See :meth:`tradecore.ports.WebSessionRepository.delete_all`."""
        await self._run(delete(web_sessions))

    async def purge(self, *, now: datetime) -> int:
        """See :meth:`tradecore.ports.WebSessionRepository.purge`."""
        result = await self._run(delete(web_sessions).where(_c.expires_at <= micros(now)))
        return int(result.rowcount or 0)

    async def _run(self, statement: Any, *, first: bool = False) -> Any:
        async with self._engine.connect() as db:
            try:
                result = await db.execute(statement)
                return result.first() if first else result
            except DBAPIError as exc:
                raise database_error(exc) from None
