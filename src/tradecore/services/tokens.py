"""Keep a connection's OAuth tokens alive: one refresh at a time, rotated tokens committed before
use, and a dead refresh token turned into "log in again" instead of a retry loop.

:class:`RepositoryTokenStore` is the :class:`~tradecore.ports.TokenStore` tradecore gives every
broker adapter (``BrokerContext.tokens``); :func:`save_login` stores the tokens of a new login.

Why the care (docs/brokers/saxo.md, "Staying logged in"): a refresh token is single-use. Two
refreshers presenting the same one make the second fail, and a broker that detects the reuse may
end the whole session. So a refresh takes the connection's row lock first
(``ConnectionRepository.get_for_update``: a row lock on PostgreSQL, the write lock on SQLite),
reads the tokens again under it, and only calls the token endpoint when they still need renewing;
the new tokens are written and committed in that same transaction before anyone uses them. A crash
between the broker's answer and the commit leaves the old, now spent, refresh token stored: the
next refresh is refused, and the connection is marked as needing a login, once, instead of retrying
forever.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from attrs import evolve

from tradecore.domain import TOKEN_REFRESH_MARGIN, BrokerConnection, OAuthTokens
from tradecore.errors import ReauthorizationRequired
from tradecore.ports import Clock, RepositoryPort, TokenExchange, UnitOfWork

__all__ = ["RepositoryTokenStore", "login_hint", "save_login"]


def login_hint(connection_name: str, reason: str) -> str:
    """The message of a connection that needs a person to log in again."""
    return (
        f"connection {connection_name!r} must log in again ({reason}); "
        f"run: tradecore broker login {connection_name}"
    )


class RepositoryTokenStore:
    """The :class:`~tradecore.ports.TokenStore` of one connection, kept in ``repository``.

    :param connection: the connection as loaded; its tokens are the starting point.
    :param margin: tokens expiring within this margin are due for renewal.
    """

    def __init__(
        self,
        repository: RepositoryPort,
        connection: BrokerConnection,
        clock: Clock,
        *,
        margin: timedelta = TOKEN_REFRESH_MARGIN,
    ) -> None:
        self._repository = repository
        self._user_id = connection.user_id
        self._connection_id = connection.id
        self._name = connection.name
        self._clock = clock
        self._margin = margin
        self._tokens = connection.tokens
        self._lock = asyncio.Lock()  # the tasks of this adapter; the row lock does the rest

    def current(self) -> OAuthTokens | None:
        """The tokens as last read or rotated by this store."""
        return self._tokens

    async def refresh(
        self,
        exchange: TokenExchange,
        *,
        stale: OAuthTokens | None = None,
        force: bool = False,
    ) -> OAuthTokens:
        """See :meth:`tradecore.ports.TokenStore.refresh`."""
        seen = stale if stale is not None else self._tokens
        async with self._lock:
            mine = self._tokens
            if mine is not None and seen is not None and self._replaced(mine, seen):
                return mine  # another task of this adapter rotated them while we waited
            async with self._repository.unit_of_work() as uow:
                connection = await uow.connections.get_for_update(
                    self._user_id, self._connection_id
                )
                stored = connection.tokens
                self._tokens = stored
                if stored is None:
                    raise ReauthorizationRequired(login_hint(self._name, "it has never logged in"))
                if stored.login_required is not None:
                    raise ReauthorizationRequired(login_hint(self._name, stored.login_required))
                if seen is not None and self._replaced(stored, seen):
                    return stored  # another process rotated them while we waited
                if stale is None and not force and not self._due(stored):
                    return stored
                now = self._clock.now()
                if stored.refresh_expired(now):
                    expiry = stored.refresh_expires_at
                    reason = (
                        "there is no refresh token"
                        if stored.refresh_token is None or expiry is None
                        else f"its refresh token expired at {expiry:%Y-%m-%d %H:%M} UTC"
                    )
                    await self._mark(uow, connection, stored, reason)
                    raise ReauthorizationRequired(login_hint(self._name, reason))
                try:
                    fresh = await exchange(stored)
                except ReauthorizationRequired as exc:
                    reason = str(exc)
                    await self._mark(uow, connection, stored, reason)
                    raise ReauthorizationRequired(
                        login_hint(self._name, reason), broker=exc.broker, code=exc.code
                    ) from exc
                fresh = evolve(fresh, version=stored.version + 1, login_required=None)
                connection.tokens = fresh
                await uow.connections.update(connection)
                await uow.commit()
                self._tokens = fresh
                return fresh

    def _due(self, tokens: OAuthTokens) -> bool:
        return tokens.needs_refresh(self._clock.now(), margin=self._margin)

    def _replaced(self, tokens: OAuthTokens, seen: OAuthTokens) -> bool:
        # Rotated since `seen` by someone else, and good to use.
        return (
            tokens.version != seen.version
            and tokens.login_required is None
            and not self._due(tokens)
        )

    async def _mark(
        self, uow: UnitOfWork, connection: BrokerConnection, stored: OAuthTokens, reason: str
    ) -> None:
        # Remember that a person must log in: no later refresh calls the broker again.
        marked = evolve(stored, login_required=reason)
        connection.tokens = marked
        await uow.connections.update(connection)
        await uow.commit()
        self._tokens = marked


async def save_login(
    repository: RepositoryPort, connection: BrokerConnection, tokens: OAuthTokens
) -> OAuthTokens:
    """Store the tokens of a new login for ``connection`` (under its row lock) and return them
    as stored: their version follows the previous tokens' and any "log in again" mark is gone.

    :raises NotFound: the connection was removed meanwhile.
    """
    async with repository.unit_of_work() as uow:
        stored = await uow.connections.get_for_update(connection.user_id, connection.id)
        previous = stored.tokens
        version = 0 if previous is None else previous.version
        saved = evolve(tokens, version=version + 1, login_required=None)
        stored.tokens = saved
        await uow.connections.update(stored)
        await uow.commit()
    return saved
