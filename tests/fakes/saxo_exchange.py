"""A fake Saxo Bank (authorization server + OpenAPI gateway) for adapter tests.

One :class:`FakeSaxo` is one app (AppKey, optional AppSecret, redirect URIs) and one client
with its accounts. Every request goes through :meth:`FakeSaxo.handle` (``httpx.Request`` →
``httpx.Response``, under one lock), reached in-process with :meth:`FakeSaxo.mock_transport`
(host ``https://saxo.test``: :data:`AUTH_BASE`, :data:`API_BASE`) or over loopback HTTP/1.1
with :meth:`FakeSaxo.serve`. Behaviour follows Saxo's public documentation (each module names
its pages): OAuth2 in ``saxo_auth``, endpoints in ``saxo_endpoints`` / ``saxo_render``, orders in
``saxo_orders``, state in ``saxo_state``. This module adds the gateway rules: Bearer tokens (401
with an empty body), ``X-Correlation`` on every answer
(https://www.developer.saxo/openapi/learn/requesting-support), per-session rate limits per service
group and for orders (https://www.developer.saxo/openapi/learn/rate-limiting), HTML 404s for
unknown URLs, the request log and scripted faults.

``python -m tests.fakes.saxo_exchange --port 0`` serves a small demo client and prints
``READY http://127.0.0.1:PORT`` (see ``saxo_server``).
"""

from __future__ import annotations

import math
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx
from tests.fakes.saxo_auth import AuthServer, pkce_challenge
from tests.fakes.saxo_endpoints import route
from tests.fakes.saxo_faults import RecordedRequest, Script, ScriptAction, outcome, refusal
from tests.fakes.saxo_orders import SaxoMarket
from tests.fakes.saxo_server import FakeSaxoTransport, serve_loopback
from tests.fakes.saxo_state import (
    DEFAULT_CLIENT_KEY,
    FakeAccount,
    FakeClosedPosition,
    FakeInstrument,
    FakeNetPosition,
    FakeOrder,
    FakePosition,
    FakeTrade,
    OrderActivity,
)
from tests.fakes.saxo_wire import HTML_TYPE, JSON_TYPE, Call, SaxoError, dumps

__all__ = [
    "API_BASE",
    "AUTH_BASE",
    "DEFAULT_CLIENT_KEY",
    "FakeAccount",
    "FakeClosedPosition",
    "FakeInstrument",
    "FakeNetPosition",
    "FakeOrder",
    "FakePosition",
    "FakeSaxo",
    "FakeTrade",
    "OrderActivity",
    "RecordedRequest",
    "ScriptAction",
    "pkce_challenge",
]

AUTH_BASE = "https://saxo.test"
API_BASE = "https://saxo.test/sim/openapi"
DEFAULT_APP_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
_NOT_FOUND = (
    b"<!DOCTYPE html><html><head><title>404 - File or directory not found.</title></head>"
    b"<body><h2>404 - File or directory not found.</h2></body></html>"
)


class FakeSaxo(SaxoMarket):
    """A fake Saxo Bank: an app's authorization server and the OpenAPI gateway of one client.

    Knobs (plain attributes): :attr:`session_limit` (requests per minute per session and
    service group), :attr:`orders_per_second` (``None`` disables), :attr:`absolute_next`
    (absolute ``__next`` links), :attr:`token_latency` (seconds before ``/token`` answers),
    :attr:`page_size` (default ``$top`` of port and cs collections).
    """

    def __init__(
        self,
        app_key: str = DEFAULT_APP_KEY,
        app_secret: str | None = None,
        *,
        redirect_uris: Sequence[str] = ("http://localhost:8080/callback",),
        now: Callable[[], datetime] | None = None,
        access_lifetime: int = 1200,
        refresh_lifetime: int = 3600,
        page_size: int = 100,
        gateway_path: str = "/sim/openapi",
    ) -> None:
        super().__init__(now=now)
        self.app_key = app_key
        self.app_secret = app_secret
        self.gateway_path = "/" + gateway_path.strip("/") if gateway_path.strip("/") else ""
        self.page_size = page_size
        self.session_limit: int | None = 120
        self.orders_per_second: int | None = 1
        self.absolute_next = False
        self.token_latency = 0.0
        self.before_token_answer: Callable[[], Awaitable[None]] | None = None
        """Awaited (in-process transport, async) after ``/token`` did its work and before its
        answer leaves: a test cuts the caller's database there."""
        self.requests: list[RecordedRequest] = []
        self.correlation_ids: list[str] = []
        """``X-Correlation`` values the gateway sent, in order."""
        self.refresh_calls = 0
        """``POST /token`` with ``grant_type=refresh_token`` received, whatever the answer."""
        self.internal_errors: list[BaseException] = []
        """Exceptions raised inside the fake (answered 500): a bug in the fake or the test."""
        self._auth = AuthServer(
            app_key=app_key,
            app_secret=app_secret,
            redirect_uris=redirect_uris,
            now=self.now,
            access_lifetime=access_lifetime,
            refresh_lifetime=refresh_lifetime,
        )
        self._scripts: deque[Script] = deque()
        self._windows: dict[tuple[str, ...], tuple[datetime, int]] = {}

    # -- test controls: auth -------------------------------------------------------------------

    @property
    def access_lifetime(self) -> int:
        """``expires_in`` of new access tokens (seconds)."""
        return self._auth.access_lifetime

    @access_lifetime.setter
    def access_lifetime(self, seconds: int) -> None:
        self._auth.access_lifetime = seconds

    @property
    def refresh_lifetime(self) -> int:
        """``refresh_token_expires_in`` of new refresh tokens (seconds)."""
        return self._auth.refresh_lifetime

    @refresh_lifetime.setter
    def refresh_lifetime(self, seconds: int) -> None:
        self._auth.refresh_lifetime = seconds

    def issue_tokens(self, session: str | None = None) -> dict[str, Any]:
        """A valid token response as if the user had just logged in (a new session), or a
        new pair for ``session``."""
        with self._lock:
            return self._auth.issue(session or self._auth.new_session())

    def session_of(self, access_token: str) -> str | None:
        """The session of a valid access token (``None`` if unknown, expired or expired early)."""
        with self._lock:
            return self._auth.session_of(f"Bearer {access_token}")

    def expire_access_tokens(self) -> None:
        """Every access token issued so far gets 401 from now on; refresh tokens still work."""
        with self._lock:
            self._auth.expire_access_tokens()

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far is dead: a refresh answers 400 invalid_grant."""
        with self._lock:
            self._auth.revoke_refresh_tokens()

    @property
    def refresh_token_reuse(self) -> int:
        """How many refreshes presented a refresh token that was already spent (each one
        revoked its session: the user must log in again)."""
        with self._lock:
            return self._auth.refresh_reuse

    def deny_next_login(
        self, error: str = "access_denied", description: str = "The user cancelled"
    ) -> None:
        """The next ``/authorize`` redirects with ``?error=&error_description=&state=``."""
        with self._lock:
            self._auth.denial = (error, description)

    # -- test controls: faults and introspection -----------------------------------------------

    def script(self, method: str, path_prefix: str, action: ScriptAction) -> None:
        """Queue a fault for the next request of ``method`` whose path starts with
        ``path_prefix`` (the full path, or the path below the gateway path: ``/trade/v2/orders``).

        Scripts are FIFO; each is used once. ``action``: ``"timeout_before_execute"``
        (``httpx.ConnectError``, nothing done), ``"timeout_after_execute"`` (done, then
        ``httpx.ReadTimeout``; on loopback the connection closes unanswered), ``("status", code,
        body_or_None)`` (that answer, nothing done), ``("rate_limited", reset_seconds)`` (429,
        nothing done), ``"trade_not_completed"`` (order placed, 200 with ``OrderId`` and
        ``ErrorInfo`` TradeNotCompleted), ``"no_order_id"`` (order placed, 200 ``{}``).
        """
        with self._lock:
            self._scripts.append(Script.make(method, path_prefix, action))

    def unused_scripts(self) -> list[tuple[str, str, ScriptAction]]:
        """Scripts not consumed yet, as ``(method, path_prefix, action)``."""
        with self._lock:
            return [(s.method, s.prefix, s.action) for s in self._scripts]

    def count(self, method: str, path_prefix: str) -> int:
        """How many ``method`` requests had a path (full or below the gateway) with that prefix."""
        probe = Script.make(method, path_prefix, "count", check=False)
        with self._lock:
            return sum(1 for r in self.requests if probe.matches(r.method, r.path, r.api_path))

    # -- request handling ----------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (its body must have been read). Raises ``httpx.ReadTimeout`` or
        ``httpx.ConnectError`` for scripted timeouts."""
        with self._lock:
            try:
                return self._handle(request)
            except httpx.TransportError:
                raise
            except Exception as exc:  # a bug in the fake: answer it visibly, keep it
                self.internal_errors.append(exc)
                body = dumps({"ErrorCode": "FakeInternalError", "Message": repr(exc)})
                return httpx.Response(500, headers={"Content-Type": JSON_TYPE}, content=body)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        method = request.method.upper()
        raw_path, _, raw_query = request.url.raw_path.decode("ascii").partition("?")
        path = unquote(raw_path)
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        body = request.content
        form: list[tuple[str, str]] = []
        if "x-www-form-urlencoded" in request.headers.get("content-type", ""):
            form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        on_gateway = path not in ("/authorize", "/token") and (
            raw_path == self.gateway_path or raw_path.startswith(self.gateway_path + "/")
        )
        api_path = path[len(self.gateway_path) :] if on_gateway else None
        now = self.now()
        self.requests.append(
            RecordedRequest(method, path, pairs + form, request.headers, body, api_path, now)
        )
        if (
            method == "POST"
            and path == "/token"
            and dict(form).get("grant_type") == "refresh_token"
        ):
            self.refresh_calls += 1
        script = next((s for s in self._scripts if s.matches(method, path, api_path)), None)
        if script is not None:
            self._scripts.remove(script)
            if not script.executes:
                correlation = self._correlation() if on_gateway else None
                return refusal(request, script, correlation, self.session_limit)
        if path == "/authorize" and method == "GET":
            response = self._auth.authorize(dict(reversed(pairs)))
        elif path == "/token" and method == "POST":
            response = self._auth.token(request.headers, dict(reversed(form)))
        elif on_gateway:
            raw_api_path = raw_path[len(self.gateway_path) :]
            response = self._gateway(request, method, raw_path, raw_api_path, pairs, now)
        else:
            response = self._html_404({})
        return outcome(request, script, response) if script else response

    def _gateway(
        self,
        request: httpx.Request,
        method: str,
        raw_path: str,
        raw_api_path: str,
        pairs: list[tuple[str, str]],
        now: datetime,
    ) -> httpx.Response:
        headers = {"X-Correlation": self._correlation()}
        segments = [unquote(part) for part in raw_api_path.split("/")[1:]]
        found = route(method, segments)
        if found is None:
            return self._html_404(headers)
        handler, args = found
        session = self._auth.session_of(request.headers.get("authorization"))
        if session is None:  # Saxo's 401 has an empty body
            return httpx.Response(401, headers=headers)
        ok = self._charge(("Session", session, segments[0]), self.session_limit, 60, now, headers)
        if ok and method == "POST" and segments == ["trade", "v2", "orders"]:
            key = ("SessionOrders", session)
            ok = self._charge(key, self.orders_per_second, 1, now, headers)
        if not ok:  # 429, back off until -Reset
            return httpx.Response(429, headers=headers)
        if request.headers.get("x-request-id"):
            headers["X-Request-ID"] = request.headers["x-request-id"]
        origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        call = Call(
            args,
            pairs,
            request.content,
            request.headers,
            session,
            now,
            raw_path,
            origin if self.absolute_next else "",
        )
        try:
            status, payload = 200, handler(self, call)
        except SaxoError as rejected:
            status, payload = rejected.status, rejected.payload
        if payload is None:
            return httpx.Response(status, headers=headers)
        headers["Content-Type"] = JSON_TYPE
        return httpx.Response(status, headers=headers, content=dumps(payload))

    def _charge(
        self,
        key: tuple[str, ...],
        limit: int | None,
        period: int,
        now: datetime,
        headers: dict[str, str],
    ) -> bool:
        # A fixed window of `period` seconds from its first request; X-RateLimit-* headers.
        if not limit:
            return True
        start, used = self._windows.get(key, (now, 0))
        if now - start >= timedelta(seconds=period):
            start, used = now, 0
        allowed = used < limit
        used += 1 if allowed else 0
        self._windows[key] = (start, used)
        remaining = max(0, limit - used) if allowed else 0
        reset = max(1, math.ceil(period - (now - start).total_seconds()))
        headers[f"X-RateLimit-{key[0]}-Limit"] = str(limit)
        headers[f"X-RateLimit-{key[0]}-Remaining"] = str(remaining)
        headers[f"X-RateLimit-{key[0]}-Reset"] = str(reset)
        return allowed

    def _correlation(self) -> str:
        value = f"{secrets.token_hex(8)}#{len(self.correlation_ids) + 1:06d}"
        self.correlation_ids.append(value)
        return value

    @staticmethod
    def _html_404(headers: dict[str, str]) -> httpx.Response:
        return httpx.Response(
            404, headers={**headers, "Content-Type": HTML_TYPE}, content=_NOT_FOUND
        )

    # -- transports ----------------------------------------------------------------------------

    def mock_transport(self) -> httpx.MockTransport:
        """An ``httpx.MockTransport`` answering in-process (for ``Client`` and ``AsyncClient``);
        use it with :data:`AUTH_BASE` and :data:`API_BASE`."""
        return FakeSaxoTransport(self)

    @contextmanager
    def serve(self, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve over loopback HTTP/1.1 in a background thread; yields ``http://host:port``
        (the auth base URL; the gateway is that plus :attr:`gateway_path`)."""
        with serve_loopback(self, host, port) as base_url:
            yield base_url


if __name__ == "__main__":
    from tests.fakes.saxo_server import main

    main()
