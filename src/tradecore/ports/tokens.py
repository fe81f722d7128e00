"""How an OAuth broker adapter keeps its connection's tokens: the :class:`TokenStore`.

tradecore hands every adapter a store (``BrokerContext.tokens``). The adapter reads the current
tokens from it, and when they must be renewed (near expiry, or the broker answered 401) it asks
the store to :meth:`~TokenStore.refresh` them with a function that calls the broker's token
endpoint. The store makes that call happen once per connection at a time, across tasks and
processes, and commits the rotated tokens before anyone uses them (or, when the database
refuses them, keeps them for the process until it can).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from tradecore.domain import OAuthTokens

__all__ = ["TokenExchange", "TokenStore"]

TokenExchange = Callable[[OAuthTokens], Awaitable[OAuthTokens]]
"""Call the broker's token endpoint with the refresh token of the tokens given, once, and return
the new tokens. Raise :class:`~tradecore.errors.ReauthorizationRequired` when the broker refuses
the refresh token (OAuth ``invalid_grant``)."""


class TokenStore(Protocol):
    """The OAuth tokens of one connection."""

    def current(self) -> OAuthTokens | None:
        """The tokens as this adapter last saw them (``None``: the connection never logged in)."""
        ...

    async def refresh(
        self,
        exchange: TokenExchange,
        *,
        stale: OAuthTokens | None = None,
        force: bool = False,
    ) -> OAuthTokens:
        """Renew the tokens and return the ones to use from now on.

        Only one refresh of a connection runs at a time. Whoever waited for it reads the stored
        tokens again afterwards and uses the ones just rotated instead of refreshing twice: a
        refresh token is single-use, and presenting a spent one can end the whole session.
        ``exchange`` is called only when the stored tokens still need renewing, after the
        refresh was recorded as started, and the tokens it returns are committed before this
        returns; when the database refuses them, they are returned all the same, kept by the
        process and saved at its next use (a spent refresh token is never presented again).

        :param stale: the tokens the caller used when the broker refused them (401); they are
            renewed even if their expiry time says they are still good, unless another refresh
            replaced them meanwhile.
        :param force: renew even tokens that are not due (``tradecore refresh-tokens``), unless
            another refresh replaced them meanwhile.
        :raises ReauthorizationRequired: the connection never logged in, its refresh token
            expired or was refused; a person must log in again. Once refused, the connection is
            marked and ``exchange`` is not called again until the next login.
        """
        ...
