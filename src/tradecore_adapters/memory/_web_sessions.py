"""Browser sessions in process memory: :class:`MemoryWebSessions`, the in-memory
:class:`~tradecore.ports.WebSessionRepository` (one web server alone: the memory repository's,
and the fallback for any other store)."""

from __future__ import annotations

from datetime import datetime

from tradecore.ports import StoredWebSession

__all__ = ["MemoryWebSessions"]


class MemoryWebSessions:
    """Sessions by digest in a dict; expired ones are dropped at each :meth:`put`."""

    def __init__(self) -> None:
        self._rows: dict[str, StoredWebSession] = {}

    async def get(self, digest: str, *, now: datetime) -> StoredWebSession | None:
        """See :meth:`tradecore.ports.WebSessionRepository.get`."""
        session = self._rows.get(digest)
        if session is None or session.expires_at <= now:
            return None
        return session

    async def put(self, session: StoredWebSession, *, now: datetime) -> None:
        """See :meth:`tradecore.ports.WebSessionRepository.put`."""
        await self.purge(now=now)
        self._rows[session.digest] = session

    async def delete(self, digest: str) -> None:
        """See :meth:`tradecore.ports.WebSessionRepository.delete`."""
        self._rows.pop(digest, None)

    async def delete_all(self) -> None:
        """See :meth:`tradecore.ports.WebSessionRepository.delete_all`."""
        self._rows.clear()

    async def purge(self, *, now: datetime) -> int:
        """See :meth:`tradecore.ports.WebSessionRepository.purge`."""
        expired = [digest for digest, row in self._rows.items() if row.expires_at <= now]
        for digest in expired:
            del self._rows[digest]
        return len(expired)
