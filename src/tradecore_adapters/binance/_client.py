"""HTTP to Binance for one connection: signing, clock offset, weight budget, retries of reads.

- Reads (and cancels, which are idempotent) go through tenacity: transient failures only
  (network, 5xx, 429), exponential backoff with jitter, the server's ``Retry-After`` honoured,
  at most :data:`READ_ATTEMPTS` attempts and :data:`MAX_RETRY_WAIT` seconds of waiting.
- A -1021 (timestamp outside ``recvWindow``) resyncs the clock offset from the server's time
  and retries the read once.
- An order placement is sent exactly once: no tenacity, no resync-and-retry.
- A 418 bans the host, and a 429 pauses it, for every connection of every process sharing the
  deployment's database until ``Retry-After`` has passed; request weight and order counts are
  reserved in the shared limits before each request (see :mod:`._throttle`).

Nothing here logs or raises a query string: it carries the signature.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from attrs import define, field
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
)

from tradecore.errors import (
    BrokerError,
    BrokerUnavailable,
    ConfigurationError,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
)
from tradecore.ports import Clock, SharedLimits
from tradecore_adapters._http import describe, retry_wait, stop_after, tls_context
from tradecore_adapters.binance._errors import (
    BROKER,
    BinanceAnswer,
    IpBanned,
    TimestampRejected,
    order_error,
    read_error,
    transport_error,
)
from tradecore_adapters.binance._limits import BinanceHost, BinanceHosts, account_tag
from tradecore_adapters.binance._mapping import error_body, server_time_ms
from tradecore_adapters.binance._signing import encode_params, signed
from tradecore_adapters.binance._throttle import MAX_THROTTLE_WAIT, Throttle
from tradecore_adapters.binance.config import BinanceConfig

__all__ = [
    "MAX_RETRY_WAIT",
    "MAX_THROTTLE_WAIT",
    "READ_ATTEMPTS",
    "ApiFigures",
    "BinanceClient",
    "Params",
]

Params = Sequence[tuple[str, str]]

READ_ATTEMPTS = 4
"""Attempts of one read, the first included."""

MAX_RETRY_WAIT = 30.0
"""Seconds one read may spend waiting between attempts; a longer ``Retry-After`` gives up."""

_STOP = stop_after(READ_ATTEMPTS, MAX_RETRY_WAIT)

TIMEOUT = httpx.Timeout(10.0, read=15.0)
"""Binance gives up on the backend after 10 s (-1007); a read waits a little longer."""

_log = logging.getLogger("tradecore_adapters.binance")
_USED_WEIGHT = "x-mbx-used-weight-1m"
_TIME_PATHS = ("/api/v3/time", "/fapi/v1/time")


@define
class ApiFigures:
    """What Binance's API said during one adapter's life, for the digest."""

    requests: int = 0
    retries: int = 0
    resyncs: int = 0
    throttled_seconds: float = 0.0
    used_weight: dict[str, int] = field(factory=dict)
    weight_limit: dict[str, int] = field(factory=dict)
    clock_offset_ms: dict[str, int] = field(factory=dict)

    def as_text(self) -> dict[str, str]:
        """Short text figures (``requests``, ``used_weight``, ``clock_offset_ms``…)."""
        figures = {"requests": str(self.requests)}
        for label, host in (("", "spot"), ("futures_", "futures")):
            if host in self.used_weight:
                limit = self.weight_limit.get(host)
                used = str(self.used_weight[host])
                figures[f"{label}used_weight"] = f"{used}/{limit}" if limit else used
            if host in self.clock_offset_ms:
                figures[f"{label}clock_offset_ms"] = str(self.clock_offset_ms[host])
        if self.retries:
            figures["retries"] = str(self.retries)
        if self.resyncs:
            figures["clock_resyncs"] = str(self.resyncs)
        if self.throttled_seconds:
            figures["throttled_s"] = f"{self.throttled_seconds:.1f}"
        return figures


@define
class _Exchange:
    """When the last answered request of a retried call was sent and answered (epoch ms)."""

    sent_ms: int | None = None
    received_ms: int | None = None

    def midpoint_ms(self) -> int:
        if self.sent_ms is None or self.received_ms is None:  # pragma: no cover
            raise AssertionError("no request was answered")
        return (self.sent_ms + self.received_ms) // 2


class BinanceClient:
    """REST calls to Binance for one connection, over one connection pool.

    :param http: the ``httpx.AsyncClient`` to use; when ``None`` the client makes its own and
        closes it in :meth:`aclose`.
    :param limits: the limits shared by every process (``BrokerContext.limits``); when ``None``,
        those of ``hosts`` (this process only).
    """

    def __init__(
        self,
        *,
        config: BinanceConfig,
        hosts: BinanceHosts,
        clock: Clock,
        http: object | None = None,
        limits: SharedLimits | None = None,
    ) -> None:
        if http is not None and not isinstance(http, httpx.AsyncClient):
            raise ConfigurationError("binance: the HTTP client must be an httpx.AsyncClient")
        self._config = config
        self._hosts = hosts
        self._clock = clock
        self._owns_http = http is None
        self._http = http if http is not None else _new_http_client()
        self._offsets: dict[str, int] = {}
        self.figures = ApiFigures()
        self._throttle = Throttle(
            limits=limits if limits is not None else hosts.local,
            clock=clock,
            server_ms=self._server_ms,
            account=account_tag(config.api_key.reveal()),
            on_wait=self._note_wait,
        )

    # -- public calls ----------------------------------------------------------------------------

    async def public(self, base: str, path: str, params: Params = (), *, weight: int) -> Any:
        """GET a public endpoint, retried on transient failures."""
        return await self._read("GET", base, path, params, weight=weight, signed=False)

    async def signed_get(
        self,
        base: str,
        path: str,
        params: Params = (),
        *,
        weight: int,
        decode: Callable[[bytes], Any] = json.loads,
    ) -> Any:
        """GET a signed endpoint: retried on transient failures, resynced once on -1021.

        :param decode: turns a 2xx body into the result; raises ``ValueError`` when the body is
            not JSON (the default: ``json.loads``).
        """
        return await self._read(
            "GET", base, path, params, weight=weight, signed=True, decode=decode
        )

    async def signed_delete(self, base: str, path: str, params: Params, *, weight: int) -> Any:
        """DELETE (cancel) an order: idempotent, so retried like a read."""
        return await self._read("DELETE", base, path, params, weight=weight, signed=True)

    async def place(self, base: str, path: str, params: Params, *, client_order_id: str) -> Any:
        """POST an order exactly once.

        :raises OrderRejected: Binance refused it, or it provably never left this machine.
        :raises OrderExists: an open order already has this client id.
        :raises OrderOutcomeUnknown: anything else after it may have been sent.
        """
        await self._ensure_offset(base)
        await self._throttle.before_order(base)
        return await self._once(
            "POST", base, path, params, weight=1, signed=True, client_order_id=client_order_id
        )

    async def sync_clock(self, base: str) -> int:
        """Measure the offset between Binance's clock and ours: the server's time minus the
        midpoint of the one exchange that answered (its own send and receive times), never
        across a retry or budget wait before it."""
        path = _TIME_PATHS[1] if base == self._config.futures_url else _TIME_PATHS[0]
        timing = _Exchange()
        payload = await self._retrying("GET", base, path, (), weight=1, signed=False, timing=timing)
        offset = server_time_ms(payload, "GET " + path) - timing.midpoint_ms()
        self._offsets[base] = offset
        self.figures.clock_offset_ms[self._label(base)] = offset
        return offset

    def note_weight_limit(self, base: str, limit: int) -> None:
        """Use ``limit`` (from ``exchangeInfo``) as the host's REQUEST_WEIGHT per minute."""
        self._hosts[base].weight_limit = limit
        self.figures.weight_limit[self._label(base)] = limit

    def host(self, base: str) -> BinanceHost:
        """The shared state of ``base``."""
        return self._hosts[base]

    async def aclose(self) -> None:
        """Close the connection pool, when this client made it."""
        if self._owns_http:
            await self._http.aclose()

    # -- machinery -------------------------------------------------------------------------------

    async def _read(
        self,
        method: str,
        base: str,
        path: str,
        params: Params,
        *,
        weight: int,
        signed: bool,
        decode: Callable[[bytes], Any] = json.loads,
    ) -> Any:
        if signed:
            await self._ensure_offset(base)
        try:
            return await self._retrying(
                method, base, path, params, weight=weight, signed=signed, decode=decode
            )
        except TimestampRejected:
            if not signed:
                raise
            await self.sync_clock(base)
            self.figures.resyncs += 1
            return await self._retrying(
                method, base, path, params, weight=weight, signed=signed, decode=decode
            )

    async def _retrying(
        self,
        method: str,
        base: str,
        path: str,
        params: Params,
        *,
        weight: int,
        signed: bool,
        timing: _Exchange | None = None,
        decode: Callable[[bytes], Any] = json.loads,
    ) -> Any:
        retrying = AsyncRetrying(
            retry=retry_if_exception(_transient),
            wait=retry_wait,
            stop=_STOP,
            sleep=self._clock.sleep,
            before_sleep=self._before_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(
                    method,
                    base,
                    path,
                    params,
                    weight=weight,
                    signed=signed,
                    timing=timing,
                    decode=decode,
                )
        raise AssertionError(
            "unreachable: tenacity either returns or re-raises"
        )  # pragma: no cover

    def _before_retry(self, state: RetryCallState) -> None:
        self.figures.retries += 1
        exc = state.outcome.exception() if state.outcome is not None else None
        _log.warning("binance: retrying in %.1f s after: %s", state.upcoming_sleep, describe(exc))

    async def _once(
        self,
        method: str,
        base: str,
        path: str,
        params: Params,
        *,
        weight: int,
        signed: bool,
        client_order_id: str | None = None,
        timing: _Exchange | None = None,
        decode: Callable[[bytes], Any] = json.loads,
    ) -> Any:
        what = f"{method} {path}"
        await self._throttle.before(self._hosts[base], weight, what)
        url = base + path
        headers: dict[str, str] = {}
        if signed:
            query = signed_query(self._config, params, self._now_ms() + self._offsets.get(base, 0))
            headers["X-MBX-APIKEY"] = self._config.api_key.reveal()
        else:
            query = encode_params(params)
        if query:
            url = f"{url}?{query}"
        self.figures.requests += 1
        sent_ms = self._now_ms()
        try:
            response = await self._http.request(method, url, headers=headers)
        except httpx.HTTPError as exc:
            raise _transport(what, exc, client_order_id) from None
        if timing is not None:
            timing.sent_ms, timing.received_ms = sent_ms, self._now_ms()
        used = _int_header(response.headers.get(_USED_WEIGHT))
        await self._throttle.after(base, used, response.headers)
        if used is not None:
            self.figures.used_weight[self._label(base)] = used
        _log.debug("binance: %s -> HTTP %s (weight %s)", what, response.status_code, used)
        content = response.content
        if 200 <= response.status_code < 300:
            try:
                return decode(content)
            except ValueError:
                answer = BinanceAnswer(
                    what=what, status=response.status_code, message="the body is not JSON"
                )
                raise self._error(answer, client_order_id) from None
        code, message = error_body(content)
        answer = BinanceAnswer(
            what=what,
            status=response.status_code,
            code=code,
            message=message if code is not None else _html_title(content),
            retry_after=_float_header(response.headers.get("retry-after")),
        )
        error = self._error(answer, client_order_id)
        if isinstance(error, IpBanned):
            await self._throttle.banned(base, error.retry_after or 120.0)
        elif isinstance(error, RateLimited) or response.status_code == 429:
            await self._throttle.paused(base, answer.retry_after or 1.0)
        raise error

    def _error(self, answer: BinanceAnswer, client_order_id: str | None) -> BrokerError:
        now = self._clock.now()
        if client_order_id is not None:
            return order_error(answer, client_order_id=client_order_id, now=now)
        return read_error(answer, now=now)

    def _note_wait(self, seconds: float) -> None:
        self.figures.throttled_seconds += seconds

    async def _ensure_offset(self, base: str) -> None:
        if base not in self._offsets:
            await self.sync_clock(base)

    def _now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    def _server_ms(self, base: str) -> int:
        return self._now_ms() + self._offsets.get(base, 0)

    def _label(self, base: str) -> str:
        return "futures" if base == self._config.futures_url else "spot"


def signed_query(config: BinanceConfig, params: Params, timestamp_ms: int) -> str:
    """The signed query string of ``params``: ``recvWindow`` and ``timestamp`` added, then the
    signature last."""
    full = [*params, ("recvWindow", str(config.recv_window_ms)), ("timestamp", str(timestamp_ms))]
    return signed(full, config.signer)


def _new_http_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=tls_context(),
        timeout=TIMEOUT,
        limits=httpx.Limits(max_connections=10, max_keepalive_connections=10),
        headers={"User-Agent": "tradecore"},
    )


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, BrokerUnavailable) and not isinstance(exc, IpBanned | TimestampRejected)


def _transport(what: str, exc: httpx.HTTPError, client_order_id: str | None) -> BrokerError:
    if client_order_id is None:
        return transport_error(what, exc)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        # The request provably never left: no connection was made.
        return OrderRejected(
            f"{what} was not sent: Binance could not be reached ({type(exc).__name__})",
            broker=BROKER,
        )
    return OrderOutcomeUnknown(
        f"{what} got no answer ({type(exc).__name__}); the order may have been placed: it will "
        f"be looked up by its client id {client_order_id}, never sent again",
        broker=BROKER,
        client_order_id=client_order_id,
    )


def _int_header(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _float_header(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 and seconds == seconds else None


def _html_title(content: bytes) -> str | None:
    # A CDN or proxy error page: say what it is without quoting the page.
    text = content[:2048].decode("utf-8", "replace")
    lower = text.lower()
    start = lower.find("<title>")
    if start >= 0:
        end = lower.find("</title>", start)
        if end > start:
            return "HTML page: " + " ".join(text[start + 7 : end].split())[:120]
    if lower.lstrip().startswith("<"):
        return "an HTML page instead of JSON"
    return "a body that is not Binance's JSON" if content.strip() else "an empty body"
