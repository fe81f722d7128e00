"""Authentication and permissions: every route needs a login unless it says it is public.

A request proves who it is with a bearer API token (``Authorization: Bearer tc_…``, scopes as
made) or with the browser session set at login (all three scopes on the user's own data). Each
route handler names the scope it needs in its ``opt`` (``read``, ``write`` or ``execute``) and
may ask for an administrator; :func:`check_route_options` refuses to build an application
with a handler that names neither a scope nor ``public``, so no route is open by omission.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from tradecore.domain import Scope, User
from tradecore.errors import LoginRefused, NotFound
from tradecore_web.i18n import speak_users_choice
from tradecore_web.principal import ALL_SCOPES, Principal, Via
from tradecore_web.state import application_of

__all__ = [
    "PUBLIC",
    "SESSION_USER",
    "TokenOrSessionAuth",
    "check_route_options",
    "principal_of",
    "scope_guard",
    "session_user",
]

SESSION_USER = "user_id"
"""The session key holding the logged-in user's id."""

PUBLIC = "public"
"""The ``opt`` key of a route that needs no login (the login page, static files, /healthz)."""

_BEARER = "bearer "


async def session_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The user the browser session is logged in as; ``None`` when it is not (or the user was
    removed since the login, which also empties the session)."""
    session = connection.scope.get("session") or {}
    user_id = session.get(SESSION_USER) if isinstance(session, dict) else None
    if not isinstance(user_id, str):
        return None
    try:
        return await application_of(connection).users.get(user_id)
    except NotFound:  # removed since the login
        connection.scope["session"] = {}
        return None


class TokenOrSessionAuth(AbstractAuthenticationMiddleware):
    """Sets ``request.user`` to the :class:`Principal`, or refuses with 401 (the exception
    handlers turn that into a redirect to the login page for a page, problem+json for the
    API). The request is then answered in the language the user stored, if any."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        principal = await self._principal(connection)
        speak_users_choice(connection, principal.user.language)
        return AuthenticationResult(user=principal, auth=None)

    async def _principal(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
        header = connection.headers.get("authorization", "")
        if header[: len(_BEARER)].lower() == _BEARER:
            try:
                use = await application_of(connection).api_tokens.authenticate(
                    header[len(_BEARER) :].strip()
                )
            except LoginRefused as exc:
                raise NotAuthorizedException(str(exc)) from None
            return Principal(user=use.user, scopes=use.scopes, via=Via.TOKEN)
        user = await session_user(connection)
        if user is None:
            raise NotAuthorizedException("log in first")
        return Principal(user=user, scopes=ALL_SCOPES, via=Via.SESSION)


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal the authentication middleware put on ``connection``."""
    user = connection.scope.get("user")
    if not isinstance(user, Principal):  # pragma: no cover - only on a public route
        raise NotAuthorizedException("log in first")
    return user


def scope_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Refuse a request whose principal lacks the handler's scope, or is not an administrator
    on an administrators' route (403 in both cases). Litestar's own ``OPTIONS`` answers (the
    methods a route allows, nothing else) need no login."""
    if handler.opt.get(PUBLIC) or _only_options(handler):
        return
    principal = principal_of(connection)
    needed = Scope(handler.opt.get("scope", Scope.READ))  # Litestar's own OPTIONS handlers
    if not principal.may(needed):
        raise PermissionDeniedException(
            f"this API token may not {needed.value}: it was made with the scopes "
            f"{', '.join(sorted(s.value for s in principal.scopes))}"
        )
    if handler.opt.get("admin") and not principal.user.is_admin:
        raise PermissionDeniedException("only an administrator may open this page")


def _only_options(handler: BaseRouteHandler) -> bool:
    return set(getattr(handler, "http_methods", ())) == {"OPTIONS"}


def check_route_options(handlers: list[BaseRouteHandler]) -> None:
    """Refuse handlers that name neither a scope (``read``, ``write``, ``execute``) nor
    ``public`` in their ``opt``: a forgotten permission must not leave a route open."""
    for handler in handlers:
        if handler.opt.get(PUBLIC) or _only_options(handler):
            continue
        scope = handler.opt.get("scope")
        if scope not in {each.value for each in Scope}:
            raise RuntimeError(
                f"route handler {handler.handler_name!r} names no scope (opt scope=read, "
                "write or execute, or public=True)"
            )
