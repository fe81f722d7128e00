"""Browser sessions in the database: :class:`SqlWebSessions`, the SQL
:class:`~tradecore.ports.WebSessionRepository` over the ``web_sessions`` table.

Every web server on the database reads and writes the same rows, so a session made on one
opens requests on all. Each call is one statement on its own pooled connection in autocommit
mode (an upsert ``INSERT … ON CONFLICT (digest) DO UPDATE`` to save). Expiries are integer
microseconds since the epoch, compared alike on SQLite and PostgreSQL. Expired rows are never
returned and are deleted now and then (at most every ten minutes per process, at a save).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select
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

# Built once (the upsert once per dialect), run with their values as bound parameters (``b_…``,
# never a column's name): these are on the web's per-request path.
_GET = select(_c.data, _c.expires_at).where(
    _c.digest == bindparam("b_digest"), _c.expires_at > bindparam("b_now")
)
_DELETE = delete(web_sessions).where(_c.digest == bindparam("b_digest"))
_DELETE_ALL = delete(web_sessions)
_PURGE = delete(web_sessions).where(_c.expires_at <= bindparam("b_now"))


@cache
def _upsert(postgres: bool) -> Any:
    # Executed with a row (digest, data, expires_at); an existing digest takes its data and expiry.
    statement = (postgresql.insert if postgres else sqlite.insert)(web_sessions)
    return statement.on_conflict_do_update(
        index_elements=[_c.digest],
        set_={"data": statement.excluded.data, "expires_at": statement.excluded.expires_at},
    )


class SqlWebSessions:
    """Sessions in the ``web_sessions`` table (see the module docstring).

    :param engine: the repository's engine.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._upsert = _upsert(engine.dialect.name == "postgresql")
        self._purged_at: int | None = None

    async def get(self, digest: str, *, now: datetime) -> StoredWebSession | None:
        """See :meth:`tradecore.ports.WebSessionRepository.get`."""
        row = await self._run(_GET, {"b_digest": digest, "b_now": micros(now)}, first=True)
        if row is None:
            return None
        return StoredWebSession(
            digest=digest, data=bytes(row[0]), expires_at=from_micros(int(row[1]))
        )

    async def put(self, session: StoredWebSession, *, now: datetime) -> None:
        """See :meth:`tradecore.ports.WebSessionRepository.put`."""
        row = {
            "digest": session.digest,
            "data": session.data,
            "expires_at": micros(session.expires_at),
        }
        await self._run(self._upsert, row)
        at = micros(now)
        if self._purged_at is None or at - self._purged_at > _PURGE_EVERY:
            self._purged_at = at
            await self.purge(now=now)

    async def delete(self, digest: str) -> None:
        """See :meth:`tradecore.ports.WebSessionRepository.delete`."""
        await self._run(_DELETE, {"b_digest": digest})

    async def delete_all(self) -> None:
        """See :meth:`tradecore.ports.WebSessionRepository.delete_all`."""
        await self._run(_DELETE_ALL)

    async def purge(self, *, now: datetime) -> int:
        """See :meth:`tradecore.ports.WebSessionRepository.purge`."""
        result = await self._run(_PURGE, {"b_now": micros(now)})
        return int(result.rowcount or 0)

    async def _run(
        self, statement: Any, parameters: Mapping[str, Any] | None = None, *, first: bool = False
    ) -> Any:
        async with self._engine.connect() as db:
            try:
                result = await db.execute(statement, parameters)
                return result.first() if first else result
            except DBAPIError as exc:
                raise database_error(exc) from None
