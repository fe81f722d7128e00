"""Keep a connection's OAuth tokens alive: one refresh at a time, a refresh recorded before the
broker is called, rotated tokens never held only in memory, and a spent refresh token never
presented again.

:class:`RepositoryTokenStore` is the :class:`~tradecore.ports.TokenStore` tradecore gives every
broker adapter (``BrokerContext.tokens``); :func:`save_login` stores the tokens of a new login.

Why the care (docs/brokers/saxo.md, "Staying logged in"): a refresh token is single-use. Saxo
answers a refresh with a new pair and the old refresh token is dead; presenting it again can end
the whole grant, and then a person must log in again in a browser. So a refresh:

1. takes the connection's row lock (``ConnectionRepository.get_for_update``: a row lock on
   PostgreSQL, the write lock on SQLite), reads the tokens again under it, and goes on only when
   they still need renewing;
2. commits a marker first (``OAuthTokens.rotating_since``): "a refresh of these tokens started at
   T". If that commit fails, the broker is not called: nothing is spent;
3. takes the row lock again, checks the marker is still its own, calls the token endpoint, and
   writes and commits the new tokens, which clears the marker;
4. if that commit fails, keeps the new tokens in this process (:mod:`.unsaved_tokens`), tries
   again on a fresh unit of work a few times (waiting on the injected clock), and, when the
   database still refuses, goes on using them and saves them at the next use or refresh.

A refresh that finds another's marker without new tokens does not present the refresh token.
When the marker's process (``OAuthTokens.rotating_by``) is this one, or ran on this host and has
stopped, the tokens are lost: the connection is marked as needing a login at once. Otherwise,
for :data:`ROTATION_TIMEOUT` it says the refresh is still under way (try again), then it marks
the connection as needing a login; a holder that saves its tokens later replaces that mark. The rule for a token call without an answer (a network error, a
5xx): the refresh token is treated as not spent and the marker is cleared, so the next refresh
presents it again; if Saxo had in fact rotated it, the new tokens were lost with the answer and
the login is lost either way, which Saxo's refusal then says.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import NoReturn

from attrs import evolve

from tradecore.domain import TOKEN_REFRESH_MARGIN, BrokerConnection, OAuthTokens
from tradecore.errors import (
    AuthenticationFailed,
    BrokerUnavailable,
    MalformedResponse,
    NotFound,
    ReauthorizationRequired,
    RepositoryError,
)
from tradecore.ports import Clock, RepositoryPort, TokenExchange, UnitOfWork
from tradecore.services.unsaved_tokens import HeldTokens, UnsavedTokens, process_tokens

__all__ = [
    "ROTATION_TIMEOUT",
    "SAVE_RETRY_DELAYS",
    "RepositoryTokenStore",
    "login_hint",
    "save_login",
]

ROTATION_TIMEOUT = timedelta(minutes=2)
"""How long a refresh recorded as started by another process may go without saving its new
tokens before they count as lost (the token call times out after seconds, a save is retried for
seconds)."""

SAVE_RETRY_DELAYS = (0.5, 1.0, 2.0)
"""Seconds waited (on the clock) before each further attempt to save rotated tokens whose
commit failed; the first retry, on a fresh unit of work, is immediate."""

_log = logging.getLogger("tradecore.tokens")

_SAVED, _SUPERSEDED, _FAILED = "saved", "superseded", "failed"


def login_hint(connection_name: str, reason: str) -> str:
    """The message of a connection that needs a person to log in again."""
    return (
        f"connection {connection_name!r} must log in again ({reason}); "
        f"run: tradecore broker login {connection_name}"
    )


class RepositoryTokenStore:
    """The :class:`~tradecore.ports.TokenStore` of one connection, kept in ``repository``.

    :param connection: the connection as loaded; its tokens are the starting point (or the
        tokens this process holds for the database, when it could not save them).
    :param margin: tokens expiring within this margin are due for renewal.
    :param unsaved: what this process knows that the database may not
        (:func:`~tradecore.services.unsaved_tokens.process_tokens` by default; a test passes its
        own to play a restarted process).
    """

    def __init__(
        self,
        repository: RepositoryPort,
        connection: BrokerConnection,
        clock: Clock,
        *,
        margin: timedelta = TOKEN_REFRESH_MARGIN,
        unsaved: UnsavedTokens | None = None,
    ) -> None:
        self._repository = repository
        self._user_id = connection.user_id
        self._connection_id = connection.id
        self._name = connection.name
        self._broker = connection.broker
        self._clock = clock
        self._margin = margin
        self._unsaved = process_tokens() if unsaved is None else unsaved
        tokens = connection.tokens
        held = self._unsaved.held(connection.id)
        if held is not None and tokens is not None and tokens.version == held.base:
            tokens = held.tokens  # rotated by this process; the database has the spent ones
        self._tokens = tokens
        # One refresh of this connection at a time in this process; the row lock does the rest.
        self._lock = self._unsaved.lock(connection.id)
        self._save_error = ""

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
        """See :meth:`tradecore.ports.TokenStore.refresh`.

        When the database cannot save the rotated tokens, they are returned all the same and
        kept in this process (a warning says so), and saved at the next use or refresh.

        :raises BrokerUnavailable: the token endpoint did not answer (nothing is lost: the next
            refresh presents the same refresh token), or another refresh of this connection is
            under way and has not saved its tokens yet (try again).
        :raises RepositoryError: the refresh could not be recorded as started; the broker was not
            called and the login is intact.
        """
        seen = stale if stale is not None else self._tokens
        async with self._lock:
            mine = self._tokens
            if mine is not None and seen is not None and self._replaced(mine, seen):
                return mine  # another task of this process rotated them while we waited
            held = self._unsaved.held(self._connection_id)
            if held is not None:
                kept = await self._from_held(held, exchange, seen, stale)
                if kept is not None:
                    return kept
            return await self._from_database(exchange, seen, stale, force)

    # -- tokens the database has not saved -------------------------------------------------------

    async def _from_held(
        self,
        held: HeldTokens,
        exchange: TokenExchange,
        seen: OAuthTokens | None,
        stale: OAuthTokens | None,
    ) -> OAuthTokens | None:
        # Save them first. A new login replaced them: the database's tokens count.
        state = await self._keep(held)
        if state == _SUPERSEDED:
            return None
        tokens = held.tokens
        self._tokens = tokens
        # Renew them only when due or refused: a caller forcing a renewal judged by the
        # database's older tokens, which this process has already replaced.
        if not self._wanted(tokens, seen, stale, force=False):
            return tokens
        if state == _SAVED:
            return None  # the usual path renews them, recorded first
        if tokens.refresh_expired(self._clock.now()):
            self._unsaved.saved(self._connection_id)
            raise ReauthorizationRequired(
                login_hint(
                    self._name,
                    "its refresh token expired before the database could save it "
                    f"(the database said: {self._save_error})",
                ),
                broker=self._broker,
            )
        # Only this process knows this refresh token (the database still refuses it), so no
        # other can present it: renew it here, without a marker.
        try:
            fresh = await exchange(tokens)
        except ReauthorizationRequired as exc:
            self._unsaved.saved(self._connection_id)
            raise ReauthorizationRequired(
                login_hint(self._name, str(exc)), broker=exc.broker, code=exc.code
            ) from exc
        except MalformedResponse as exc:
            self._unsaved.spend(self._connection_id, tokens)
            self._unsaved.saved(self._connection_id)
            raise ReauthorizationRequired(
                login_hint(self._name, _unreadable_answer(exc)), broker=exc.broker
            ) from exc
        self._unsaved.spend(self._connection_id, tokens)
        fresh = _settled(fresh, tokens.version + 1)
        renewed = HeldTokens(base=held.base, tokens=fresh)
        self._unsaved.hold(self._connection_id, renewed)
        self._tokens = fresh
        if await self._save_held(renewed) == _FAILED:
            self._warn_unsaved()
        return fresh

    async def _save_held(self, held: HeldTokens) -> str:
        # One attempt, on a fresh unit of work: saved, superseded by a new login, or failed.
        try:
            async with self._repository.unit_of_work() as uow:
                connection = await uow.connections.get_for_update(
                    self._user_id, self._connection_id
                )
                stored = connection.tokens
                ours = stored is not None and (
                    stored.version == held.base or self._unsaved.spent(self._connection_id, stored)
                )
                if ours:
                    connection.tokens = held.tokens
                    await uow.connections.update(connection)
                    await uow.commit()
        except NotFound:
            self._unsaved.saved(self._connection_id)
            raise
        except Exception as exc:
            self._save_error = str(exc) or type(exc).__name__
            return _FAILED
        self._unsaved.saved(self._connection_id)
        return _SAVED if ours else _SUPERSEDED

    async def _keep(self, held: HeldTokens) -> str:
        # Save on fresh units of work: at once (a new connection often suffices), then after
        # each delay; warn when the database still refuses.
        state = await self._save_held(held)
        for delay in SAVE_RETRY_DELAYS:
            if state != _FAILED:
                return state
            await self._clock.sleep(delay)
            state = await self._save_held(held)
        if state == _FAILED:
            self._warn_unsaved()
        return state

    def _warn_unsaved(self) -> None:
        _log.warning(
            "connection %r: the database did not save its renewed OAuth tokens (%s); this "
            "process keeps them and saves them at the next use. If it stops before then, the "
            "login is lost: run tradecore broker login %s",
            self._name,
            self._save_error,
            self._name,
        )

    # -- the database's tokens -------------------------------------------------------------------

    async def _from_database(
        self,
        exchange: TokenExchange,
        seen: OAuthTokens | None,
        stale: OAuthTokens | None,
        force: bool,
    ) -> OAuthTokens:
        started = await self._record_start(seen, stale, force)
        if not isinstance(started, _Started):
            return started
        marked = started.tokens
        answer: OAuthTokens | None = None
        failure: Exception | None = None
        try:
            async with self._repository.unit_of_work() as uow:
                connection = await uow.connections.get_for_update(
                    self._user_id, self._connection_id
                )
                stored = self._still_marked(connection.tokens, marked)
                self._unsaved.forget_marker(self._connection_id)  # spent, unless no answer
                try:
                    answer = await exchange(stored)
                except Exception as exc:
                    failure = exc
                if failure is not None:
                    await self._record_failure(uow, connection, stored, failure)
                else:
                    assert answer is not None
                    self._unsaved.spend(self._connection_id, stored)
                    answer = _settled(answer, stored.version + 1)
                    self._unsaved.hold(
                        self._connection_id, HeldTokens(base=stored.version, tokens=answer)
                    )
                    self._tokens = answer
                    connection.tokens = answer
                    await uow.connections.update(connection)
                    await uow.commit()
                    self._unsaved.saved(self._connection_id)
                    return answer
        except Exception as exc:
            if failure is None and answer is None:
                raise  # before the call: the marker stays this process's, unspent
            self._save_error = str(exc) or type(exc).__name__
        if failure is not None:
            raise self._failure_error(failure) from failure
        assert answer is not None
        held = self._unsaved.held(self._connection_id)
        if held is not None:
            await self._keep(held)
        return answer

    async def _record_start(
        self, seen: OAuthTokens | None, stale: OAuthTokens | None, force: bool
    ) -> _Started | OAuthTokens:
        # Under the row lock: the tokens to use as they are, or the marker committed.
        recording = False
        try:
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
                if not self._wanted(stored, seen, stale, force):
                    return stored
                now = self._clock.now()
                since = stored.rotating_since
                if since is not None and not self._unsaved.unspent(
                    self._connection_id, stored.version, since
                ):
                    await self._refuse_marked(uow, connection, stored)
                if stored.refresh_expired(now):
                    expiry = stored.refresh_expires_at
                    reason = (
                        "there is no refresh token"
                        if stored.refresh_token is None or expiry is None
                        else f"its refresh token expired at {expiry:%Y-%m-%d %H:%M} UTC"
                    )
                    await self._mark(uow, connection, stored, reason)
                    raise ReauthorizationRequired(login_hint(self._name, reason))
                if self._unsaved.spent(self._connection_id, stored):
                    reason = "its refresh token was spent by a refresh whose new tokens were lost"
                    await self._mark(uow, connection, stored, reason)
                    raise ReauthorizationRequired(login_hint(self._name, reason))
                marked = evolve(stored, rotating_since=now, rotating_by=self._unsaved.owner or None)
                connection.tokens = marked
                await uow.connections.update(connection)
                recording = True
                await uow.commit()
        except Exception as exc:
            if not recording:
                raise
            raise RepositoryError(
                f"connection {self._name!r}: the token refresh could not be recorded before "
                f"calling the broker, so the broker was not called and the login is intact "
                f"({exc})"
            ) from exc
        self._unsaved.mark_unspent(self._connection_id, marked.version, now)
        return _Started(marked)

    def _still_marked(self, stored: OAuthTokens | None, marked: OAuthTokens) -> OAuthTokens:
        # Between the two units someone may have logged in or declared the refresh lost.
        if (
            stored is None
            or stored.version != marked.version
            or stored.rotating_since != marked.rotating_since
            or stored.rotating_by != marked.rotating_by
            or stored.login_required is not None
        ):
            self._unsaved.forget_marker(self._connection_id)
            raise BrokerUnavailable(
                f"connection {self._name!r}: its tokens changed while a refresh started; try again",
                broker=self._broker,
            )
        return stored

    async def _refuse_marked(
        self, uow: UnitOfWork, connection: BrokerConnection, stored: OAuthTokens
    ) -> NoReturn:
        # Another refresh (another process, or this one before a restart) recorded its start
        # and has not saved new tokens: its refresh token may be spent. Never present it.
        since = stored.rotating_since
        assert since is not None
        by = stored.rotating_by
        if by is not None and (by == self._unsaved.owner or self._unsaved.is_gone(by)):
            # Recorded by this process, which holds no tokens for it, or by a process of this
            # host that has stopped: the new tokens are lost for sure.
            reason = (
                f"the token refresh started at {since:%Y-%m-%d %H:%M} UTC by process {by} "
                "stopped before saving its new tokens, and the refresh token it presented "
                "cannot be used again"
            )
            await self._mark(uow, connection, stored, reason)
            raise ReauthorizationRequired(login_hint(self._name, reason), broker=self._broker)
        if self._clock.now() - since < ROTATION_TIMEOUT:
            raise BrokerUnavailable(
                f"connection {self._name!r}: a token refresh started at {since:%H:%M:%S} UTC "
                "(by another process, or by this one before it restarted) has not saved its new "
                "tokens yet; try again in a few minutes",
                broker=self._broker,
            )
        reason = (
            f"a token refresh started at {since:%Y-%m-%d %H:%M} UTC never saved its new tokens, "
            "and the refresh token it presented cannot be used again"
        )
        await self._mark(uow, connection, stored, reason)
        raise ReauthorizationRequired(login_hint(self._name, reason), broker=self._broker)

    async def _record_failure(
        self, uow: UnitOfWork, connection: BrokerConnection, stored: OAuthTokens, exc: Exception
    ) -> None:
        # What the broker's refusal or silence means for the stored tokens.
        if isinstance(exc, ReauthorizationRequired):
            await self._mark(uow, connection, stored, str(exc))
        elif isinstance(exc, MalformedResponse):
            self._unsaved.spend(self._connection_id, stored)
            await self._mark(uow, connection, stored, _unreadable_answer(exc))
        elif isinstance(exc, (BrokerUnavailable, AuthenticationFailed)):
            # No answer, a 5xx, or the app refused: not known spent; present it again later.
            assert stored.rotating_since is not None
            self._unsaved.mark_unspent(self._connection_id, stored.version, stored.rotating_since)
            cleared = evolve(stored, rotating_since=None, rotating_by=None)
            connection.tokens = cleared
            await uow.connections.update(connection)
            await uow.commit()
            self._unsaved.forget_marker(self._connection_id)
            self._tokens = cleared
        # Anything else (a bug, a cancelled call): the marker stays; the refresh token counts
        # as possibly spent.

    def _failure_error(self, exc: Exception) -> Exception:
        if isinstance(exc, ReauthorizationRequired):
            return ReauthorizationRequired(
                login_hint(self._name, str(exc)), broker=exc.broker, code=exc.code
            )
        if isinstance(exc, MalformedResponse):
            return ReauthorizationRequired(
                login_hint(self._name, _unreadable_answer(exc)), broker=exc.broker
            )
        return exc

    # -- rules -----------------------------------------------------------------------------------

    def _wanted(
        self,
        tokens: OAuthTokens,
        seen: OAuthTokens | None,
        stale: OAuthTokens | None,
        force: bool,
    ) -> bool:
        if seen is not None and self._replaced(tokens, seen):
            return False  # another refresh rotated them while we waited
        return stale is not None or force or self._due(tokens)

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
        marked = evolve(stored, login_required=reason, rotating_since=None, rotating_by=None)
        connection.tokens = marked
        await uow.connections.update(connection)
        await uow.commit()
        self._unsaved.forget_marker(self._connection_id)
        self._tokens = marked


class _Started:
    # The marker this refresh committed (its tokens carry rotating_since).
    __slots__ = ("tokens",)

    def __init__(self, tokens: OAuthTokens) -> None:
        self.tokens = tokens


def _settled(tokens: OAuthTokens, version: int) -> OAuthTokens:
    # New tokens as stored: their version, no "log in again" mark, no refresh under way.
    return evolve(
        tokens, version=version, login_required=None, rotating_since=None, rotating_by=None
    )


def _unreadable_answer(exc: BaseException) -> str:
    return (
        f"the answer to the token refresh could not be used ({exc}), and the refresh token "
        "it replaced cannot be used again"
    )


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
        saved = _settled(tokens, version + 1)
        stored.tokens = saved
        await uow.connections.update(stored)
        await uow.commit()
    return saved
