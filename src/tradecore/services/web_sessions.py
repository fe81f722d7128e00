"""Browser sessions kept in the deployment's store: :class:`WebSessions`.

Several web servers on one database share them: a session made at the login on one server
opens the next request on another, and a logout on one ends it on all. The store keeps only a
SHA-256 digest of each session id (a copy of the table opens nothing), the session's data and
its expiry.

A session's expiry slides with its use, but the store is written only when the data changed or
the expiry is due for renewal (:data:`RENEW_AFTER` since the last write): most requests read
their session and write nothing.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from attrs import frozen

from tradecore.errors import DomainError
from tradecore.ports import Clock, StoredWebSession, WebSessionRepository

__all__ = ["RENEW_AFTER", "WebSessions", "session_digest"]

RENEW_AFTER = timedelta(minutes=5)
"""How long a session's expiry may lag behind its use before it is written again."""


def session_digest(session_id: str) -> str:
    """The SHA-256 digest (hex) under which the session ``session_id`` is stored."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@frozen
class WebSessions:
    """Load, save and end browser sessions by their id (the cookie's value).

    :param repository: where they are kept (the database's ``web_sessions`` table, or memory).
    :param clock: the application's clock.
    """

    repository: WebSessionRepository
    clock: Clock

    async def load(self, session_id: str) -> StoredWebSession | None:
        """The session ``session_id``, or ``None`` when there is none or it expired."""
        return await self.repository.get(session_digest(session_id), now=self.clock.now())

    async def save(
        self,
        session_id: str,
        data: bytes,
        *,
        lifetime: timedelta,
        previous: StoredWebSession | None = None,
    ) -> StoredWebSession:
        """Keep ``data`` as the session ``session_id`` for ``lifetime`` from now, and return
        the session as stored.

        :param previous: the session as this caller last loaded or saved it; when its data is
            ``data`` and its expiry lags less than :data:`RENEW_AFTER` behind ``lifetime``
            from now, nothing is written and ``previous`` is returned.
        :raises DomainError: ``lifetime`` is not positive.
        """
        if lifetime <= timedelta(0):
            raise DomainError("a session's lifetime must be positive")
        now = self.clock.now()
        digest = session_digest(session_id)
        if (
            previous is not None
            and previous.digest == digest
            and previous.data == data
            and previous.expires_at > now
            and previous.expires_at >= now + lifetime - RENEW_AFTER
        ):
            return previous
        session = StoredWebSession(digest=digest, data=data, expires_at=now + lifetime)
        await self.repository.put(session, now=now)
        return session

    async def end(self, session_id: str) -> None:
        """End the session ``session_id`` (on every server); nothing when there is none."""
        await self.repository.delete(session_digest(session_id))

    async def end_all(self) -> None:
        """End every session: everyone must log in again."""
        await self.repository.delete_all()

    async def purge(self) -> int:
        """Delete the sessions that expired; returns how many."""
        return await self.repository.purge(now=self.clock.now())
