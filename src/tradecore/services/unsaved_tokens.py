"""What a process knows about its connections' token refreshes that the database may not.

A refresh token is single-use: once the broker has answered a refresh, the new tokens exist
nowhere else. When the database cannot save them (the connection was cut, the disk refused the
write), :class:`UnsavedTokens` keeps them for the rest of the process, so every later use and
refresh of that connection in this process starts from them (never from the spent ones the
database still holds), and every later refresh tries to save them again.

It remembers (as digests) the refresh tokens this process has spent, and never lets one be
presented again. It also remembers the refreshes this process recorded as started (the marker committed before
the token endpoint is called, ``OAuthTokens.rotating_since``) whose call was never made or got no
answer: their refresh token is not known to be spent, so this process may present it again
although the database still shows the marker.

One instance lives for the whole process (:func:`process_tokens`); tests build their own to
play a restarted process. All of it is in memory only: the database is the durable record.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import datetime

from attrs import frozen

from tradecore.domain import OAuthTokens

__all__ = ["HeldTokens", "UnsavedTokens", "process_tokens"]


@frozen(kw_only=True)
class HeldTokens:
    """Rotated tokens the database has not saved.

    :param base: the version of the stored tokens they replace: they are saved only while the
        database still holds that version (a new login since then wins).
    :param tokens: the tokens to use (and to save).
    """

    base: int
    tokens: OAuthTokens


class UnsavedTokens:
    """Per connection: tokens held for the database, markers of this process whose refresh
    token is not spent, and the lock that makes this process refresh one connection at a time."""

    def __init__(self) -> None:
        self.owner = ""
        """This process's name in the markers it records (``host:pid:tag``; empty: unnamed)."""
        self._is_gone: Callable[[str], bool] = lambda owner: False
        self._held: dict[str, HeldTokens] = {}
        self._unspent: dict[str, tuple[int, datetime]] = {}
        self._spent: dict[str, set[str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def identify(self, owner: str, is_gone: Callable[[str], bool]) -> None:
        """Name this process (once: later calls change nothing) and say how to tell whether
        the process that recorded a marker has stopped (``tradecore_adapters.bootstrap`` does
        this with its scheduler names)."""
        if not self.owner:
            self.owner = owner
            self._is_gone = is_gone

    def is_gone(self, owner: str) -> bool:
        """Whether the process named ``owner`` is known to have stopped: this one never is;
        another only when it ran on this host and no longer exists."""
        return owner != self.owner and self._is_gone(owner)

    def lock(self, connection_id: str) -> asyncio.Lock:
        """The lock every refresh of ``connection_id`` in this process holds."""
        return self._locks.setdefault(connection_id, asyncio.Lock())

    def held(self, connection_id: str) -> HeldTokens | None:
        """The tokens kept for the database, if any."""
        return self._held.get(connection_id)

    def hold(self, connection_id: str, held: HeldTokens) -> None:
        """Keep ``held`` until :meth:`saved` (replacing older held tokens)."""
        self._held[connection_id] = held

    def saved(self, connection_id: str) -> None:
        """The database has the held tokens (or a newer login): forget them."""
        self._held.pop(connection_id, None)

    def mark_unspent(self, connection_id: str, version: int, since: datetime) -> None:
        """The marker ``(version, since)`` is this process's, and its refresh token was not
        spent: the call was not made, or got no answer."""
        self._unspent[connection_id] = (version, since)

    def unspent(self, connection_id: str, version: int, since: datetime) -> bool:
        """Whether the marker ``(version, since)`` is one :meth:`mark_unspent` recorded."""
        return self._unspent.get(connection_id) == (version, since)

    def forget_marker(self, connection_id: str) -> None:
        """Nothing is known of this process's marker any more (the call was made)."""
        self._unspent.pop(connection_id, None)

    def spend(self, connection_id: str, tokens: OAuthTokens) -> None:
        """The broker answered a refresh with the refresh token of ``tokens``: it is spent."""
        if tokens.refresh_token is not None:
            self._spent.setdefault(connection_id, set()).add(_digest(tokens))

    def spent(self, connection_id: str, tokens: OAuthTokens) -> bool:
        """Whether this process spent the refresh token of ``tokens``."""
        return tokens.refresh_token is not None and _digest(tokens) in self._spent.get(
            connection_id, ()
        )


def _digest(tokens: OAuthTokens) -> str:
    # Only a digest is kept: a spent token is worthless, but no copy of a secret lingers.
    assert tokens.refresh_token is not None
    return hashlib.sha256(tokens.refresh_token.reveal().encode()).hexdigest()


_PROCESS = UnsavedTokens()


def process_tokens() -> UnsavedTokens:
    """The instance of this process (what every token store uses unless given another)."""
    return _PROCESS
