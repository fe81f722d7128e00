"""The Litestar application of the web front end, built over an opened
:class:`~tradecore_adapters.bootstrap.Application`.

Litestar (not FastAPI) because it has CSRF protection, server-side sessions and an OpenAPI 3.1
schema built in, and understands attrs classes: no hand-written security code.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from attrs import frozen
from litestar import Litestar, Router
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.attrs import AttrsSchemaPlugin
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tradecore_adapters.bootstrap import Application, derived_secret
from tradecore_web.auth import TokenOrSessionAuth, check_route_options, scope_guard
from tradecore_web.csrf import TokenAwareCSRFMiddleware, csrf_config
from tradecore_web.headers import add_security_headers
from tradecore_web.i18n import request_language, speaking
from tradecore_web.problems import document_problems, exception_handlers
from tradecore_web.routes import (
    automation,
    connections,
    metrics,
    operator,
    orders,
    portfolio,
    settings,
)
from tradecore_web.routes.accounts import language, login, login_page, logout
from tradecore_web.routes.brokers import brokers_page, home
from tradecore_web.routes.health import healthz
from tradecore_web.session_store import DatabaseSessionStore
from tradecore_web.sessions import COOKIE, RotatingSessionConfig
from tradecore_web.state import APPLICATION
from tradecore_web.templating import template_config

__all__ = ["MAX_BODY_BYTES", "SESSION_HOURS", "WebOptions", "create_app"]

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 256 * 1024
"""The largest request body accepted (a form or an API body is far smaller)."""
SESSION_HOURS = 12
"""How long a browser session lasts without a new login."""

_PATH_TYPES = re.compile(r":[^}]*}")  # "{file_path:path}" is "{file_path}" in a path template
_PUBLIC_PATHS = ["^/login$", "^/language$", "^/static/", "^/healthz$", "^/metrics$"]


@frozen(kw_only=True)
class WebOptions:
    """How the web front end is served.

    :param secure_cookies: mark cookies ``Secure`` (the server is reached over HTTPS, behind a
        TLS reverse proxy).
    :param wake_scheduler: set when a user asks for a run now, so that the scheduler of this
        process (``tradecore web`` without ``--no-scheduler``) starts it at once.
    :param session_store: where sessions are kept; by default in the application's store
        (:class:`~tradecore_web.session_store.DatabaseSessionStore`: the database, shared by
        every web server on it).
    :param metrics_from_loopback: ``/metrics`` needs no token from a loopback client (not so
        behind a reverse proxy on this host).
    """

    secure_cookies: bool = False
    wake_scheduler: asyncio.Event | None = None
    session_store: Store | None = None
    metrics_from_loopback: bool = True
    debug: bool = False


class _LanguageMiddleware:
    """Sets the language of the request's pages before authentication (the language switch's
    cookie, else Accept-Language); authentication then puts the user's stored choice first."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        with speaking(request_language(ASGIConnection(scope))):
            await self._app(scope, receive, send)


def route_handlers() -> list[Any]:
    """Every route handler of the web front end."""
    return [
        login_page,
        login,
        logout,
        language,
        healthz,
        home,
        brokers_page,
        *connections.ROUTES,
        *orders.ROUTES,
        *automation.ROUTES,
        *operator.ROUTES,
        *portfolio.ROUTES,
        *settings.ROUTES,
        *metrics.ROUTES,
    ]


def _allow_header(app: Litestar) -> Any:
    """A ``before_send`` hook giving Litestar's ``OPTIONS`` answers the ``Allow`` header of the
    whole route: Litestar builds it from the first handler of a path only (``GET`` and ``POST``
    of one path in two handlers answered ``Allow: GET, OPTIONS``)."""
    allowed = {
        _PATH_TYPES.sub("}", route.path): ", ".join(sorted(route.methods))
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }

    async def fix(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        methods = allowed.get(scope.get("path_template", ""))
        headers = MutableScopeHeaders.from_message(message)
        if methods is not None and "allow" in headers:
            headers["allow"] = methods

    return fix


def _database_store(application: Application) -> Store:
    return DatabaseSessionStore(
        application.web_sessions, default_lifetime=timedelta(hours=SESSION_HOURS)
    )


def create_app(application: Application, options: WebOptions | None = None) -> Litestar:
    """The web front end over ``application`` (opened by the caller, who closes it)."""
    options = options or WebOptions()
    secret = derived_secret(application.settings, "web csrf")
    sessions = RotatingSessionConfig(
        key=COOKIE,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        secure=options.secure_cookies,
        samesite="lax",
        store="sessions",
        # /healthz and the static files never need a session: they answer when the
        # database (where sessions are kept) is down.
        exclude=["^/healthz$", "^/static/"],
    )
    auth = DefineMiddleware(
        TokenOrSessionAuth, exclude=_PUBLIC_PATHS, exclude_from_auth_key="public"
    )
    static = create_static_files_router(
        path="/static", directories=[STATIC], opt={"public": True}, include_in_schema=False
    )
    openapi = OpenAPIConfig(
        title="tradecore",
        version="1",
        path="/api",
        render_plugins=[JsonRenderPlugin()],
        openapi_router=Router(
            path="/api", route_handlers=[], opt={"scope": "read"}, include_in_schema=False
        ),
        use_handler_docstrings=True,
    )
    app = Litestar(
        route_handlers=[*route_handlers(), static],
        middleware=[
            _LanguageMiddleware,
            sessions.middleware,
            DefineMiddleware(
                TokenAwareCSRFMiddleware, config=csrf_config(secret, secure=options.secure_cookies)
            ),
            auth,
        ],
        guards=[scope_guard],
        before_send=[add_security_headers],
        template_config=template_config(),
        openapi_config=openapi,
        plugins=[AttrsSchemaPlugin()],
        exception_handlers=exception_handlers(),
        stores={"sessions": options.session_store or _database_store(application)},
        request_max_body_size=MAX_BODY_BYTES,
        debug=options.debug,
    )
    app.state[APPLICATION] = application
    app.state["wake_scheduler"] = options.wake_scheduler
    app.state["metrics_from_loopback"] = options.metrics_from_loopback
    app.before_send.append(_allow_header(app))
    handlers = [handler for route in app.routes for handler in getattr(route, "route_handlers", ())]
    check_route_options(handlers)
    for handler in handlers:
        if handler.resolve_include_in_schema():
            document_problems(handler)
    return app
