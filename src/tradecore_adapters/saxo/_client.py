"""HTTP to Saxo's gateway for one connection: bearer tokens, refresh, limits, retries, paging.

- Every request carries ``Authorization: Bearer`` with the connection's current access token;
  a token about to expire is renewed first through the connection's token store (one refresh per
  connection at a time, across processes; see :mod:`tradecore.services.tokens`).
- A 401 on a read renews the token once (telling the store which token was refused) and retries
  the read once; a second 401 is an error (docs/brokers/saxo.md, "Staying logged in").
- Reads and cancels (idempotent) go through tenacity: network errors, 5xx and 429 only, at most
  :data:`READ_ATTEMPTS` attempts and :data:`MAX_RETRY_WAIT` seconds; a 429 waits for the reset
  Saxo named (https://www.developer.saxo/openapi/learn/rate-limiting). An order placement is
  sent exactly once (docs/brokers/saxo.md, "Orders").
- Collections follow ``__next`` (relative or absolute) until it is absent
  (https://www.developer.saxo/openapi/learn/openapi-request-response); a link to another host is
  refused, so the bearer token never leaves Saxo's gateway.
- ``X-Correlation`` is logged with every error and put in its message, for Saxo's support
  (https://www.developer.saxo/openapi/learn/requesting-support).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx
from attrs import define
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
)

from tradecore.domain import OAuthTokens
from tradecore.errors import (
    AuthenticationFailed,
    BrokerError,
    BrokerUnavailable,
    ConfigurationError,
    MalformedResponse,
    OrderOutcomeUnknown,
    OrderRejected,
    ReauthorizationRequired,
)
from tradecore.ports import Clock, SharedLimits, TokenStore
from tradecore_adapters._http import describe, retry_wait, stop_after, tls_context
from tradecore_adapters.saxo._auth import TokenEndpoint
from tradecore_adapters.saxo._errors import BROKER, order_error, read_error, with_correlation
from tradecore_adapters.saxo._json import items, next_link, parse_json
from tradecore_adapters.saxo._limits import (
    MAX_RATE_WAIT,
    RateLimiter,
    SessionLimits,
    service_group,
)
from tradecore_adapters.saxo._mapping import error_from
from tradecore_adapters.saxo.config import SaxoConfig
from tradecore_adapters.shared_limits import LocalLimits

__all__ = ["MAX_PAGES", "MAX_RETRY_WAIT", "READ_ATTEMPTS", "ApiFigures", "Params", "SaxoClient"]

Params = Sequence[tuple[str, str]]

READ_ATTEMPTS = 4
"""Attempts of one read, the first included."""

MAX_RETRY_WAIT = 90.0
"""Seconds one read may spend waiting between attempts (a rate-limit reset can be 60 s)."""

_STOP = stop_after(READ_ATTEMPTS, MAX_RETRY_WAIT)

MAX_PAGES = 1000
"""A collection longer than this many pages is refused rather than followed forever."""


TIMEOUT = httpx.Timeout(10.0, read=30.0)

_log = logging.getLogger("tradecore_adapters.saxo")


@define
class ApiFigures:
    """What Saxo's API said during one adapter's life, for the digest."""

    requests: int = 0
    retries: int = 0
    token_refreshes: int = 0
    throttled_seconds: float = 0.0

    def as_text(self, limiter: RateLimiter) -> dict[str, str]:
        """Short text figures: ``requests``, ``rate_limit_left``, ``retries``…"""
        figures = {"requests": str(self.requests)}
        left = limiter.remaining_text()
        if left:
            figures["rate_limit_left"] = left
        if self.retries:
            figures["retries"] = str(self.retries)
        if self.token_refreshes:
            figures["token_refreshes"] = str(self.token_refreshes)
        if self.throttled_seconds:
            figures["throttled_s"] = f"{self.throttled_seconds:.1f}"
        return figures


class SaxoClient:
    """REST calls to Saxo's gateway for one connection, over one connection pool.

    :param tokens: the connection's token store (from ``BrokerContext.tokens``).
    :param http: the ``httpx.AsyncClient`` to use; when ``None`` the client makes its own and
        closes it in :meth:`aclose`.
    :param limits: the limits shared by every process (``BrokerContext.limits``): the
        session's order slots and 429 pauses; ``None`` keeps them in this client.
    :param session: the name of the session in ``limits`` (the connection's id).
    """

    def __init__(
        self,
        *,
        config: SaxoConfig,
        clock: Clock,
        tokens: TokenStore | None,
        http: object | None = None,
        limits: SharedLimits | None = None,
        session: str = "",
    ) -> None:
        if http is not None and not isinstance(http, httpx.AsyncClient):
            raise ConfigurationError("saxo: the HTTP client must be an httpx.AsyncClient")
        self._config = config
        self._clock = clock
        self._tokens = tokens
        self._owns_http = http is None
        self._http = http if http is not None else new_http_client()
        self.endpoint = TokenEndpoint(config, self._http, clock)
        self.limiter = RateLimiter()
        self.session = SessionLimits(limits if limits is not None else LocalLimits(), session)
        self.figures = ApiFigures()

    # -- public calls ----------------------------------------------------------------------------

    async def get(self, path: str, params: Params = (), *, what: str | None = None) -> Any:
        """GET one resource: retried on transient failures, one token renewal on 401."""
        return await self._read("GET", self._url(path, params), what or f"GET {path}")

    async def get_all(
        self, path: str, params: Params = (), *, what: str | None = None
    ) -> list[Any]:
        """GET every item of a collection, following ``__next`` to the end."""
        label = what or f"GET {path}"
        url = self._url(path, params)
        collected: list[Any] = []
        seen: set[str] = set()
        for page in range(MAX_PAGES):
            payload = await self._read(
                "GET", url, label if page == 0 else f"{label} page {page + 1}"
            )
            collected.extend(items(payload, what=label))
            link = next_link(payload)
            if not link:
                return collected
            url = self._follow(link, label)
            if url in seen:
                raise MalformedResponse(f"{label}: Saxo's next link repeats a page", broker=BROKER)
            seen.add(url)
        raise MalformedResponse(f"{label}: more than {MAX_PAGES} pages", broker=BROKER)

    async def delete(self, path: str, params: Params, *, what: str) -> Any:
        """DELETE (cancel): idempotent, so retried like a read."""
        return await self._read("DELETE", self._url(path, params), what)

    async def place(self, path: str, body: bytes, *, request_id: str, client_order_id: str) -> Any:
        """POST an order exactly once, with ``X-Request-ID``, at most one per second.

        :raises OrderRejected: Saxo refused it, or it provably never left this machine.
        :raises OrderExists: Saxo's duplicate guard answered 409: it holds this order.
        :raises OrderOutcomeUnknown: anything else after it may have been sent.
        """
        what = f"POST {path}"
        group = service_group(path)
        await self._pace(group, order=True)
        tokens = await self._usable_tokens()
        headers = {
            "Authorization": f"Bearer {tokens.access_token.reveal()}",
            "Content-Type": "application/json",
            "X-Request-ID": request_id,
        }
        self.limiter.note_order(self._clock.now())
        self.figures.requests += 1
        try:
            response = await self._http.post(self._url(path, ()), content=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise OrderRejected(
                f"{what} was not sent: Saxo could not be reached ({type(exc).__name__})",
                broker=BROKER,
            ) from None
        except httpx.HTTPError as exc:
            raise OrderOutcomeUnknown(
                f"{what} got no answer ({type(exc).__name__}); the order may have been placed: "
                f"it will be looked up by its client id {client_order_id}, never sent again",
                broker=BROKER,
                client_order_id=client_order_id,
            ) from None
        self.limiter.observe(group, response.headers, self._clock.now())
        correlation = response.headers.get("x-correlation")
        status = response.status_code
        if status == 429:
            now = self._clock.now()
            seconds = self.limiter.throttled(group, response.headers, now, order=True)
            await self.session.throttled(group, seconds, now, order=True)
        if 200 <= status < 300:
            try:
                return parse_json(response.content, what=what)
            except MalformedResponse:
                raise OrderOutcomeUnknown(
                    with_correlation(
                        f"{what}: Saxo's answer is not JSON; the order may have been placed: it "
                        f"will be looked up by its client id {client_order_id}",
                        correlation,
                    ),
                    broker=BROKER,
                    client_order_id=client_order_id,
                ) from None
        error = order_error(
            what,
            error_from(status, response.content),
            client_order_id=client_order_id,
            correlation=correlation,
        )
        _log.warning("saxo: %s -> HTTP %s, X-Correlation %s", what, status, correlation)
        raise error

    async def refresh(self, *, force: bool) -> OAuthTokens:
        """Renew the connection's tokens through its store (see :meth:`TokenStore.refresh`)."""
        store = self._store()
        before = store.current()
        tokens = await store.refresh(self.endpoint.refresh, force=force)
        if before is None or tokens.version != before.version:
            self.figures.token_refreshes += 1
        return tokens

    async def aclose(self) -> None:
        """Close the connection pool, when this client made it."""
        if self._owns_http:
            await self._http.aclose()

    # -- machinery -------------------------------------------------------------------------------

    def _url(self, path: str, params: Params) -> str:
        url = self._config.api_base_url + path
        return f"{url}?{urlencode(list(params))}" if params else url

    def _follow(self, link: str, label: str) -> str:
        base = urlsplit(self._config.api_base_url)
        url = urljoin(f"{base.scheme}://{base.netloc}/", link)
        target = urlsplit(url)
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            raise MalformedResponse(
                f"{label}: Saxo's next link points to another host ({target.netloc}); not followed",
                broker=BROKER,
            )
        return url

    def _group(self, url: str) -> str:
        gateway = urlsplit(self._config.api_base_url).path
        return service_group(urlsplit(url).path.removeprefix(gateway))

    def _store(self) -> TokenStore:
        if self._tokens is None:
            raise ConfigurationError(
                "saxo: this adapter was built without a token store; build it through "
                "tradecore (create_broker) so its OAuth tokens can be kept"
            )
        return self._tokens

    async def _usable_tokens(self) -> OAuthTokens:
        store = self._store()
        tokens = store.current()
        if tokens is None or tokens.refresh_due(self._clock.now()):
            tokens = await self.refresh(force=False)
        return tokens

    async def _read(self, method: str, url: str, what: str) -> Any:
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
                return await self._authorized(method, url, what)
        raise AssertionError("unreachable: tenacity returns or re-raises")  # pragma: no cover

    async def _authorized(self, method: str, url: str, what: str) -> Any:
        tokens = await self._usable_tokens()
        try:
            return await self._once(method, url, what, tokens)
        except _Unauthorized:
            store = self._store()
            renewed = await store.refresh(self.endpoint.refresh, stale=tokens)
            if renewed.version != tokens.version:
                self.figures.token_refreshes += 1
            try:
                return await self._once(method, url, what, renewed)
            except _Unauthorized as again:
                raise AuthenticationFailed(
                    with_correlation(
                        f"{what}: Saxo refused the access token again after renewing it "
                        "(HTTP 401); the session may have been ended at Saxo",
                        again.correlation,
                    ),
                    broker=BROKER,
                    code="HTTP 401",
                ) from None

    async def _once(self, method: str, url: str, what: str, tokens: OAuthTokens) -> Any:
        group = self._group(url)
        await self._pace(group)
        headers = {"Authorization": f"Bearer {tokens.access_token.reveal()}"}
        self.figures.requests += 1
        try:
            response = await self._http.request(method, url, headers=headers)
        except httpx.HTTPError as exc:
            raise BrokerUnavailable(
                f"{what}: Saxo did not answer ({type(exc).__name__})", broker=BROKER
            ) from None
        now = self._clock.now()
        self.limiter.observe(group, response.headers, now)
        status = response.status_code
        correlation = response.headers.get("x-correlation")
        if 200 <= status < 300:
            if not response.content.strip():
                return {}
            return parse_json(response.content, what=what)
        _log.warning("saxo: %s -> HTTP %s, X-Correlation %s", what, status, correlation)
        if status == 401:
            raise _Unauthorized(what, correlation)
        retry_after = None
        if status == 429:
            retry_after = self.limiter.throttled(group, response.headers, now)
            await self.session.throttled(group, retry_after, now, order=False)
        raise read_error(
            what,
            error_from(status, response.content),
            correlation=correlation,
            retry_after=retry_after,
        )

    async def _pace(self, group: str, *, order: bool = False) -> None:
        now = self._clock.now()
        wait = max(
            self.limiter.wait_before(group, now, order=order),
            await self.session.wait_before(group, now, order=order),
        )
        if wait > 0:
            wait = min(wait, MAX_RATE_WAIT)
            self.figures.throttled_seconds += wait
            _log.info("saxo: waiting %.1f s for the %s rate limit", wait, group)
            await self._clock.sleep(wait)

    def _before_retry(self, state: RetryCallState) -> None:
        self.figures.retries += 1
        exc = state.outcome.exception() if state.outcome is not None else None
        _log.warning("saxo: retrying in %.1f s after: %s", state.upcoming_sleep, describe(exc))


class _Unauthorized(BrokerError):
    # A 401 on a read: renew the token and try once more.
    def __init__(self, what: str, correlation: str | None) -> None:
        super().__init__(f"{what}: HTTP 401", broker=BROKER, code="HTTP 401")
        self.correlation = correlation


def new_http_client() -> httpx.AsyncClient:
    """The connection pool of one Saxo connection (gzip is httpx's default encoding)."""
    return httpx.AsyncClient(
        verify=tls_context(),
        timeout=TIMEOUT,
        limits=httpx.Limits(max_connections=10, max_keepalive_connections=10),
        headers={"User-Agent": "tradecore", "Accept": "application/json"},
    )


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, BrokerUnavailable) and not isinstance(exc, ReauthorizationRequired)
