"""The session store of the web front end: Litestar's :class:`~litestar.stores.base.Store`
over the application's :class:`~tradecore.services.WebSessions`, so that every web server on
one database shares the browser sessions (the database keeps only a digest of each id).

Litestar's server-side sessions save the session at the end of every request that has one;
this store writes only when the data changed or the expiry is due for renewal (see
:meth:`~tradecore.services.WebSessions.save`): it remembers, per session, what it last read or
wrote, and hands that over as ``previous``.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta

from litestar.stores.base import Store

from tradecore.ports import StoredWebSession
from tradecore.services import WebSessions

__all__ = ["DatabaseSessionStore"]

_REMEMBERED = 10_000
"""How many sessions' last known rows a store remembers (the oldest are forgotten first)."""


def _duration(value: int | timedelta) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


class DatabaseSessionStore(Store):
    """Sessions in the application's store (the database for the SQL repository).

    :param sessions: the application's :attr:`~tradecore_adapters.bootstrap.Application.web_sessions`.
    :param default_lifetime: a session's lifetime when Litestar gives none.
    """

    __slots__ = ("_default", "_seen", "_sessions")

    def __init__(self, sessions: WebSessions, *, default_lifetime: timedelta) -> None:
        self._sessions = sessions
        self._default = default_lifetime
        self._seen: OrderedDict[str, StoredWebSession] = OrderedDict()

    def _remember(self, key: str, session: StoredWebSession | None) -> None:
        if session is None:
            self._seen.pop(key, None)
            return
        self._seen[key] = session
        self._seen.move_to_end(key)
        while len(self._seen) > _REMEMBERED:
            self._seen.popitem(last=False)

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        """Save the session ``key`` (written only when it changed or its expiry is due)."""
        data = value.encode("utf-8") if isinstance(value, str) else value
        lifetime = self._default if expires_in is None else _duration(expires_in)
        saved = await self._sessions.save(
            key, data, lifetime=lifetime, previous=self._seen.get(key)
        )
        self._remember(key, saved)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        """The session ``key``'s data, or ``None`` (none, ended on any server, or expired)."""
        session = await self._sessions.load(key)
        if session is not None and renew_for is not None:
            session = await self._sessions.save(
                key, session.data, lifetime=_duration(renew_for), previous=session
            )
        self._remember(key, session)
        return None if session is None else session.data

    async def delete(self, key: str) -> None:
        """End the session ``key`` on every server."""
        self._remember(key, None)
        await self._sessions.end(key)

    async def delete_all(self) -> None:
        """End every session."""
        self._seen.clear()
        await self._sessions.end_all()

    async def exists(self, key: str) -> bool:
        """Whether the session ``key`` is open."""
        return await self._sessions.load(key) is not None

    async def expires_in(self, key: str) -> int | None:
        """Seconds until the session ``key`` ends, or ``None`` when there is none."""
        session = await self._sessions.load(key)
        if session is None:
            return None
        return int((session.expires_at - self._sessions.clock.now()).total_seconds())
