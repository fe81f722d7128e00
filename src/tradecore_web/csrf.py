"""CSRF protection on every state-changing request made with a browser session.

Litestar's :class:`~litestar.middleware.csrf.CSRFMiddleware` (a signed double-submit token: a
cookie, echoed in the ``X-CSRFToken`` header or the ``_csrf_token`` form field) guards every
request except those a script makes with a bearer API token and no cookie at all: a browser
cannot be made to send such a header to another site, so there is nothing to forge.
"""

from __future__ import annotations

from litestar.config.csrf import CSRFConfig
from litestar.enums import ScopeType
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "CSRF_HEADER", "TokenAwareCSRFMiddleware", "csrf_config"]

CSRF_COOKIE = "tradecore_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"


def csrf_config(secret: str, *, secure: bool) -> CSRFConfig:
    """The CSRF settings: the token signed with ``secret`` (shared by every web server of one
    database), its cookie readable by the page's script (to send it in the header)."""
    return CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=secure,
        cookie_httponly=False,
        cookie_samesite="lax",
        exclude_from_csrf_key="exclude_from_csrf",
    )


def _bearer_without_cookie(scope: Scope) -> bool:
    has_bearer = False
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return False
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            has_bearer = True
    return has_bearer


class TokenAwareCSRFMiddleware:
    """The CSRF check, skipped for bearer-token requests that carry no cookie."""

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        self._app = app
        self._checked = CSRFMiddleware(app=app, config=config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and _bearer_without_cookie(scope):
            await self._app(scope, receive, send)
            return
        await self._checked(scope, receive, send)
