"""Who a request acts for: a user, through a browser session or an API token, with scopes."""

from __future__ import annotations

from enum import StrEnum

from attrs import frozen

from tradecore.domain import Scope, User

__all__ = ["ALL_SCOPES", "Principal", "Via"]

ALL_SCOPES = frozenset({Scope.READ, Scope.WRITE, Scope.EXECUTE})
"""What a browser session may do on its own user's data."""


class Via(StrEnum):
    """How the request proved who it is."""

    SESSION = "session"
    TOKEN = "token"


@frozen(kw_only=True)
class Principal:
    """The user a request acts for and what it may do.

    :param scopes: a session has all three; a token has those it was made with.
    """

    user: User
    scopes: frozenset[Scope]
    via: Via

    def may(self, scope: Scope) -> bool:
        """Whether this request may do what ``scope`` covers."""
        return scope in self.scopes
