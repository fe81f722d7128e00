"""A fake Binance exchange (spot ``/api/v3`` and USD-M ``/fapi``) for adapter tests and benchmarks.

One :class:`FakeBinance` is one exchange as one IP sees it. Requests go through
:meth:`FakeBinance.handle`, reached in-process with :meth:`FakeBinance.mock_transport` or over
loopback HTTP with :meth:`FakeBinance.serve`. Its rules (signing, timing, weights, errors,
payloads) follow Binance's REST API documentation,
https://developers.binance.com/docs/binance-spot-api-docs/ and, for USD-M futures,
https://developers.binance.com/docs/derivatives/usds-margined-futures/; the state lives in
``binance_state`` and the endpoints in ``binance_endpoints``.

Benchmark server::

    python -m tests.fakes.binance_exchange --port 9000 --latency-ms 50 --accounts 50 \\
        --symbols 20 --trades 500

prints ``READY http://127.0.0.1:9000`` and serves until killed.
"""

from __future__ import annotations

import asyncio
import json as _json
import math
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx
from tests.fakes.binance_endpoints import ROUTES
from tests.fakes.binance_models import Balance, BinanceError, FakeOrder, FakeSymbol
from tests.fakes.binance_requests import (
    Call,
    Route,
    check_timestamp,
    split_signature,
    verify_signature,
)
from tests.fakes.binance_server import LoopbackServer
from tests.fakes.binance_state import BinanceState, FakeAccount

__all__ = [
    "Balance",
    "BinanceError",
    "FakeAccount",
    "FakeBinance",
    "FakeOrder",
    "FakeResponse",
    "FakeSymbol",
    "RecordedRequest",
]

JSON_TYPE = "application/json;charset=UTF-8"
HTML_TYPE = "text/html; charset=utf-8"
HeadersLike = httpx.Headers | Mapping[str, str] | Sequence[tuple[str, str]]
_NOT_FOUND = (
    b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>"
)


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the fake received it (kept even when scripted or dropped)."""

    method: str
    path: str
    params: list[tuple[str, str]]
    """Decoded parameters in order: the query string's, then the body's."""
    headers: httpx.Headers
    raw_query: str
    body: bytes
    server_time_ms: int

    def param(self, name: str) -> str | None:
        """The first value of parameter ``name``, if sent."""
        return next((value for key, value in self.params if key == name), None)


@dataclass
class FakeResponse:
    """What :meth:`FakeBinance.handle` answers. ``delay`` seconds are waited before answering;
    ``drop`` means no answer at all (the transports time out or close the connection)."""

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float = 0.0
    drop: bool = False

    def json(self) -> Any:
        """The body, decoded."""
        return _json.loads(self.body)


@dataclass
class _Script:
    status: int
    body: bytes
    headers: dict[str, str] | None
    content_type: str
    remaining: int
    delay: float
    drop: bool
    execute: bool

    def response(self, weight_headers: Mapping[str, str]) -> FakeResponse:
        headers = {"Content-Type": self.content_type}
        headers.update(weight_headers if self.headers is None else self.headers)
        return FakeResponse(self.status, headers, self.body, self.delay, self.drop)


def _dumps(payload: Any) -> bytes:
    return _json.dumps(payload, separators=(",", ":")).encode("utf-8")


def _merge(query: list[tuple[str, str]], body: list[tuple[str, str]]) -> dict[str, str]:
    """Query and body params; a name in both: the query's value wins."""
    merged: dict[str, str] = {}
    for source in (body, query):
        seen: set[str] = set()
        for name, value in source:
            if name in seen:
                raise BinanceError(400, -1101, "Duplicate values for a parameter detected.")
            seen.add(name)
            merged[name] = value
    return merged


class FakeBinance(BinanceState):
    """A fake Binance: one exchange as one IP sees it, with its accounts.

    Server-wide: :attr:`symbols`, :attr:`clock_offset_ms` (server time = local time + offset),
    :attr:`weight_limit` (spot REQUEST_WEIGHT per minute, in exchangeInfo) and
    :attr:`futures_weight_limit` (``/fapi``, counted separately like Binance's separate host),
    the request log :attr:`requests` and the fault queue (:meth:`script`). ``clock_ms`` is the
    local clock in epoch ms (default ``time.time``), e.g. a test's simulated clock.

    Limits as Binance applies them to one IP: the weight of every request is counted per
    server-time minute (:attr:`weight_by_minute`, kept for every minute); past the limit the
    answer is 429 with ``Retry-After`` (the rest of the minute). A request sent while a 429's
    ``Retry-After`` runs gets the IP banned for :attr:`ban_seconds` (418, ``Retry-After``); so
    does :meth:`ban`. :meth:`rate_limit` answers the next request 429. Every request is logged in
    :attr:`requests`, and every answer's status in :attr:`answered`, whatever the answer.
    """

    def __init__(
        self,
        *,
        weight_limit: int = 6000,
        futures_weight_limit: int = 2400,
        clock_ms: Callable[[], int] | None = None,
    ) -> None:
        super().__init__(clock_ms=clock_ms)
        self.weight_limit = weight_limit
        self.futures_weight_limit = futures_weight_limit
        self.requests: list[RecordedRequest] = []
        self.internal_errors: list[BaseException] = []
        """Exceptions raised by the fake itself (answered as HTTP 500 -1000): a test bug."""
        self._weights: dict[str, tuple[int, int]] = {}
        self._scripts: dict[tuple[str, str], deque[_Script]] = {}
        self.weight_by_minute: dict[tuple[str, int], int] = {}
        """Weight counted per (``api`` or ``fapi``, server-time minute number)."""
        self.ban_seconds = 120
        """How long an IP that ignores a 429's ``Retry-After`` is banned (Binance: 2 min+)."""
        self.answered: list[tuple[int, int]] = []
        """``(server time ms, HTTP status)`` of every answer, in order."""
        self._banned_until_ms = 0
        self._retry_until_ms = 0
        self._limited_until_ms = 0

    # -- test controls -------------------------------------------------------------------------

    def script(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        json: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        delay: float = 0.0,
        drop: bool = False,
        execute: bool = False,
    ) -> None:
        """Queue a scripted answer to the next ``times`` requests of ``method path``.

        Scripts are consumed FIFO per method and path, before normal handling; the request is
        still logged and its weight still counted. ``json`` or ``body`` is the body (HTML when
        ``body`` starts with ``<``). Without ``headers`` the answer carries the weight headers;
        with ``headers`` it carries exactly those (plus Content-Type). ``delay`` seconds pass
        before answering. ``drop=True``: no answer (``httpx.ReadTimeout`` in-process; the
        loopback server closes the connection). ``execute=True``: the request is handled
        normally first (an order is placed…), then its answer is replaced or dropped.
        """
        if json is not None and body is not None:
            raise ValueError("give json or body, not both")
        if body is None:
            content, content_type = (b"" if json is None else _dumps(json)), JSON_TYPE
        else:
            html = body.lstrip().startswith(b"<")
            content, content_type = body, HTML_TYPE if html else JSON_TYPE
        entry = _Script(
            status,
            content,
            dict(headers) if headers is not None else None,
            content_type,
            times,
            delay,
            drop,
            execute,
        )
        with self._lock:
            self._scripts.setdefault((method.upper(), path), deque()).append(entry)

    def ban(self, seconds: float) -> None:
        """Ban the IP now for ``seconds``: every request until then gets 418 with
        ``Retry-After`` (and is logged)."""
        with self._lock:
            self._banned_until_ms = self.server_time_ms() + int(seconds * 1000)

    def rate_limit(self, seconds: float) -> None:
        """Answer the next request 429 with ``Retry-After: seconds`` (as Binance does when a
        limit is broken); a request sent before those seconds end gets the IP banned."""
        with self._lock:
            self._limited_until_ms = self.server_time_ms() + int(seconds * 1000)

    @property
    def banned_until_ms(self) -> int:
        """When the current ban ends (server time, epoch ms); 0 if there never was one."""
        return self._banned_until_ms

    def statuses(self) -> list[int]:
        """The HTTP status of every answer, in order."""
        with self._lock:
            return [status for _, status in self.answered]

    def unused_scripts(self) -> list[tuple[str, str, int]]:
        """``(method, path, times left)`` of scripts not consumed yet."""
        with self._lock:
            return [(m, p, s.remaining) for (m, p), q in self._scripts.items() for s in q]

    def count(self, method: str, path: str) -> int:
        """How many ``method path`` requests were received."""
        with self._lock:
            return sum(1 for r in self.requests if r.method == method.upper() and r.path == path)

    def used_weight(self, *, futures: bool = False) -> int:
        """Request weight used in the current server-time minute (spot or ``/fapi``)."""
        with self._lock:
            minute, used = self._weights.get("fapi" if futures else "api", (0, 0))
            return used if minute == self.server_time_ms() // 60_000 else 0

    # -- request handling ----------------------------------------------------------------------

    def handle(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: HeadersLike,
        body: bytes = b"",
    ) -> FakeResponse:
        """Answer one request. ``raw_query`` and ``body`` are exactly as sent (the signature is
        checked over them); header names are case-insensitive."""
        method = method.upper()
        if not raw_query and "?" in raw_path:
            raw_path, _, raw_query = raw_path.partition("?")
        try:
            with self._lock:
                answer = self._handle(
                    method, unquote(raw_path), raw_query, httpx.Headers(headers), body
                )
                self.answered.append((self.server_time_ms(), answer.status))
                return answer
        except Exception as exc:  # a bug in the fake: answer it visibly, keep it for the test
            self.internal_errors.append(exc)
            msg = {"code": -1000, "msg": f"fake Binance internal error: {exc!r}"}
            return FakeResponse(500, {"Content-Type": JSON_TYPE}, _dumps(msg))

    def _handle(
        self, method: str, path: str, raw_query: str, headers: httpx.Headers, body: bytes
    ) -> FakeResponse:
        now = self.server_time_ms()
        body_text = body.decode("utf-8", "replace") if method != "GET" else ""
        query_pairs = parse_qsl(raw_query, keep_blank_values=True)
        body_pairs = parse_qsl(body_text, keep_blank_values=True)
        self.requests.append(
            RecordedRequest(method, path, query_pairs + body_pairs, headers, raw_query, body, now)
        )
        route = ROUTES.get((method, path))
        bucket = "fapi" if path.startswith("/fapi/") else "api"
        lenient = dict(body_pairs)
        lenient.update(query_pairs)
        weight = route.weight(lenient) if route is not None else 0
        refused = self._refuse(now)
        if refused is not None:
            return refused
        script = self._next_script(method, path)
        if script is not None and not script.execute:
            return script.response(self._weight_headers(self._charge(bucket, weight, now)))
        if route is None:  # like a CDN: an HTML page, no weight headers
            response = FakeResponse(404, {"Content-Type": HTML_TYPE}, _NOT_FOUND)
        else:
            call = (raw_query, body_text, headers, query_pairs, body_pairs)
            response = self._dispatch(route, bucket, weight, now, *call)
        if script is not None:
            weight_headers = {k: v for k, v in response.headers.items() if k.startswith("x-mbx")}
            return script.response(weight_headers)
        return response

    def _dispatch(
        self,
        route: Route,
        bucket: str,
        weight: int,
        now: int,
        raw_query: str,
        body_text: str,
        headers: httpx.Headers,
        query_pairs: list[tuple[str, str]],
        body_pairs: list[tuple[str, str]],
    ) -> FakeResponse:
        used = self._charge(bucket, weight, now)
        limit = self.futures_weight_limit if bucket == "fapi" else self.weight_limit
        weight_headers = self._weight_headers(used)
        if used > limit:  # 429 + Retry-After (seconds); the weight still counts
            retry_after = max(1, math.ceil((60_000 - now % 60_000) / 1000))
            self._retry_until_ms = max(self._retry_until_ms, now + retry_after * 1000)
            msg = (
                f"Too much request weight used; current limit is {limit} request weight per 1 "
                "MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
            )
            extra = {**weight_headers, "Retry-After": str(retry_after)}
            return self._json(429, {"code": -1003, "msg": msg}, extra)
        try:
            params = _merge(query_pairs, body_pairs)
            account = None
            if route.signed:
                account = self._authenticate(headers, raw_query, body_text, params, now)
            unread = [name for name in params if name not in route.params]
            if unread:
                read = len(params) - len(unread)
                msg = f"Not all sent parameters were read; read '{read}' parameter(s) but was sent '{len(params)}'."
                raise BinanceError(400, -1104, msg)
            payload = route.handler(self, Call(params, now, account, limit))
        except BinanceError as error:
            return self._json(error.status, {"code": error.code, "msg": error.msg}, weight_headers)
        return self._json(200, payload, weight_headers)

    def _authenticate(
        self,
        headers: httpx.Headers,
        raw_query: str,
        body_text: str,
        params: Mapping[str, str],
        now: int,
    ) -> FakeAccount:
        # -2015 (HTTP 401); then the signature (last, over query + body); then the timing.
        account = self.accounts.get(headers.get("x-mbx-apikey", ""))
        if account is None:
            raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        payload, signature = split_signature(raw_query, body_text)
        verify_signature(account, payload, signature)
        check_timestamp(params, now)
        return account

    def _charge(self, bucket: str, weight: int, now: int) -> int:
        minute = now // 60_000
        start, used = self._weights.get(bucket, (minute, 0))
        used = (used if start == minute else 0) + weight
        self._weights[bucket] = (minute, used)
        self.weight_by_minute[(bucket, minute)] = used
        return used

    def _refuse(self, now: int) -> FakeResponse | None:
        # A ban in force: 418. A request inside a 429's Retry-After: banned now. A rate limit
        # in force: 429. Nothing is handled, no weight is counted.
        if now < self._retry_until_ms and now >= self._banned_until_ms:
            self._banned_until_ms = now + self.ban_seconds * 1000
        if now < self._banned_until_ms:
            seconds = max(1, math.ceil((self._banned_until_ms - now) / 1000))
            msg = (
                f"Way too much request weight used; IP banned until {self._banned_until_ms}. "
                "Please use WebSocket Streams for live updates to avoid bans."
            )
            return self._json(418, {"code": -1003, "msg": msg}, {"Retry-After": str(seconds)})
        if now < self._limited_until_ms:
            seconds = max(1, math.ceil((self._limited_until_ms - now) / 1000))
            self._retry_until_ms = max(self._retry_until_ms, now + seconds * 1000)
            self._limited_until_ms = 0  # the next request inside Retry-After is banned
            msg = "Too many requests; current limit is 6000 request weight per 1 MINUTE."
            return self._json(429, {"code": -1003, "msg": msg}, {"Retry-After": str(seconds)})
        return None

    @staticmethod
    def _weight_headers(used: int) -> dict[str, str]:
        # Lowercase names, as real responses send them.
        return {"x-mbx-used-weight": str(used), "x-mbx-used-weight-1m": str(used)}

    @staticmethod
    def _json(status: int, payload: Any, headers: Mapping[str, str]) -> FakeResponse:
        return FakeResponse(status, {"Content-Type": JSON_TYPE, **headers}, _dumps(payload))

    def _next_script(self, method: str, path: str) -> _Script | None:
        queue = self._scripts.get((method, path))
        if not queue:
            return None
        entry = queue[0]
        entry.remaining -= 1
        if entry.remaining <= 0:
            queue.popleft()
        return entry

    # -- transports ----------------------------------------------------------------------------

    def mock_transport(self) -> httpx.MockTransport:
        """An ``httpx.MockTransport`` for ``httpx.AsyncClient`` that answers in-process."""

        async def handler(request: httpx.Request) -> httpx.Response:
            body = await request.aread()
            raw_path, _, raw_query = request.url.raw_path.decode("ascii").partition("?")
            answer = self.handle(request.method, raw_path, raw_query, request.headers, body)
            if answer.delay:
                await asyncio.sleep(answer.delay)
            if answer.drop:
                raise httpx.ReadTimeout("fake Binance dropped the request", request=request)
            return httpx.Response(answer.status, headers=answer.headers, content=answer.body)

        return httpx.MockTransport(handler)

    @contextmanager
    def serve(
        self, latency: float = 0.0, *, host: str = "127.0.0.1", port: int = 0
    ) -> Iterator[str]:
        """Serve over loopback HTTP/1.1 (keep-alive) in a background thread; yields the base URL.

        ``latency`` seconds are slept per request in its handler thread.
        """
        server = LoopbackServer((host, port), self, latency)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield f"http://{host}:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.close_connections()
            server.server_close()
            thread.join(timeout=5)


if __name__ == "__main__":
    from tests.fakes.binance_server import main

    main()
