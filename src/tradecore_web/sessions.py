"""Browser sessions: kept on the server, the cookie holds only a random id, rotated at login.

A new id at every login (and the old one deleted) means an id planted before the login, or
seen before it, is worth nothing after it. Logging out deletes the session on the server, so a
copied cookie dies with it.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection, Request
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession

from tradecore_web.auth import SESSION_USER

__all__ = ["COOKIE", "RotatingSessionConfig", "log_in_session", "log_out_session"]

COOKIE = "tradecore_session"
"""The session cookie's name."""

_ROTATE = "tradecore.rotate_session"
_NEW_ID = "tradecore.new_session_id"


def _state(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
    state: dict[str, Any] = connection.scope.setdefault("state", {})
    return state


class RotatingSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side sessions, with a fresh id when :func:`log_in_session` asked."""

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        state = _state(connection)
        if state.get(_ROTATE):
            new_id: str | None = state.get(_NEW_ID)
            if new_id is None:
                new_id = state[_NEW_ID] = self.generate_session_id()
            return new_id
        return super().get_session_id(connection)

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        old = connection.cookies.get(self.config.key)
        if _state(connection).get(_ROTATE) and old:
            await self.delete(old, store=self.config.get_store_from_app(connection.scope["app"]))
        if not scope_session and not old:
            return  # no session, none before: no cookie, nothing stored for anonymous visits
        await super().store_in_message(scope_session or Empty, message, connection)


class RotatingSessionConfig(ServerSideSessionConfig):
    """:class:`ServerSideSessionConfig` with the rotating backend."""

    _backend_class = RotatingSessionBackend


def log_in_session(request: Request[Any, Any, Any], user_id: str) -> None:
    """Make the request's session the login of ``user_id``, under a new session id."""
    _state(request)[_ROTATE] = True
    request.clear_session()
    request.set_session({SESSION_USER: user_id})


def log_out_session(request: Request[Any, Any, Any]) -> None:
    """End the session: deleted on the server, the cookie emptied."""
    request.clear_session()
