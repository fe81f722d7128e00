"""The web sessions port: browser sessions kept in the deployment's store, so that several web
servers on one database share them (log in on one, go on with the next request on another; log
out on one and the session ends on all).

The store never sees a session id: only its SHA-256 digest (hex), the session's data (opaque
bytes, what the web front end serialised) and when it expires. A leaked table therefore opens
no session. Every time comes from the caller's :class:`~tradecore.ports.Clock`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from attrs import frozen

__all__ = ["StoredWebSession", "WebSessionRepository"]


@frozen(kw_only=True)
class StoredWebSession:
    """One browser session as stored.

    :param digest: the SHA-256 digest (64 hex digits) of the session id, never the id.
    :param data: the session's data, opaque to the store.
    :param expires_at: when it ends (UTC); it is never returned after that.
    """

    digest: str
    data: bytes
    expires_at: datetime


@runtime_checkable
class WebSessionRepository(Protocol):
    """Where browser sessions are kept; each call is atomic on its own (no unit of work)."""

    async def get(self, digest: str, *, now: datetime) -> StoredWebSession | None:
        """The session with this digest, or ``None`` when there is none or it expired by
        ``now``."""
        ...

    async def put(self, session: StoredWebSession, *, now: datetime) -> None:
        """Store ``session``, replacing the one with its digest; now and then (the store
        decides) also delete every session expired by ``now``."""
        ...

    async def delete(self, digest: str) -> None:
        """Delete the session with this digest; nothing when there is none."""
        ...

    async def delete_all(self) -> None:
        """Delete every session (every browser must log in again)."""
        ...

    async def purge(self, *, now: datetime) -> int:
        """Delete every session expired by ``now``; returns how many."""
        ...
