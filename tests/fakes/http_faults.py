"""An ``httpx`` transport that puts :class:`tradecore.testing.ScriptedFaults` between a broker
and its (fake) venue: the wiring docs/plugins/writing.md shows plugin authors, used by our own
brokers' contract tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from tradecore.testing import HTML_ERROR_PAGE, MALFORMED_BODY, FaultKind, ScriptedFaults

RateLimitAnswer = Callable[[int], tuple[Mapping[str, str], bytes]]
"""Headers and body of the venue's rate-limit answer (HTTP 429) asking to wait N seconds."""


def retry_after_header(seconds: int) -> tuple[Mapping[str, str], bytes]:
    """The common shape: ``Retry-After: N`` and a small JSON body."""
    return {"Retry-After": str(seconds), "Content-Type": "application/json"}, b"{}"


class FaultyTransport(httpx.AsyncBaseTransport):
    """Pass every request to ``inner`` unless ``faults`` has armed a fault for it.

    :param is_placement: whether a request places an order (counted; loses its answer when
        armed); every other request meets the read faults.
    :param rate_limit_answer: how the venue says "wait N seconds".
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        faults: ScriptedFaults,
        *,
        is_placement: Callable[[httpx.Request], bool],
        rate_limit_answer: RateLimitAnswer = retry_after_header,
    ) -> None:
        self._inner = inner
        self._faults = faults
        self._is_placement = is_placement
        self._rate_limit_answer = rate_limit_answer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fault = self._faults.on_request(placement=self._is_placement(request))
        if fault is None:
            return await self._inner.handle_async_request(request)
        if fault.kind is FaultKind.LOSE_ANSWER:  # executed by the venue, the answer lost
            response = await self._inner.handle_async_request(request)
            await response.aread()
            raise httpx.RemoteProtocolError("connection closed before the answer", request=request)
        if fault.kind is FaultKind.TIMEOUT:
            raise httpx.ReadTimeout("timed out waiting for the answer", request=request)
        if fault.kind is FaultKind.MALFORMED:
            headers = {"Content-Type": "application/json"}
            return httpx.Response(200, headers=headers, content=MALFORMED_BODY, request=request)
        if fault.kind is FaultKind.HTML_ERROR_PAGE:
            headers = {"Content-Type": "text/html"}
            return httpx.Response(502, headers=headers, content=HTML_ERROR_PAGE, request=request)
        assert fault.retry_after is not None
        headers, body = self._rate_limit_answer(fault.retry_after)
        return httpx.Response(429, headers=dict(headers), content=body, request=request)

    async def aclose(self) -> None:
        await self._inner.aclose()
