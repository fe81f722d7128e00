"""The fake Saxo Bank's request log and scripted faults (``FakeSaxo.script``).

A script answers the next matching request in place of the fake (timeouts, 5xx, 401, 429:
nothing is done) or after it (the order is placed, then the answer is lost or degraded). The
degraded answers are the ones Saxo's clients must survive (docs/brokers/saxo.md, "Orders" and
"Limits, retries and errors"): a timeout of unknown outcome, 429 with ``X-RateLimit-*``, a 2xx
without ``OrderId`` or with ``ErrorInfo``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from tests.fakes.saxo_wire import HTML_TYPE, JSON_TYPE, dumps, loads

ScriptAction = str | tuple[Any, ...]
"""``"timeout_before_execute"``, ``"timeout_after_execute"``, ``("status", code[, body])``,
``("rate_limited", reset_seconds)``, ``"trade_not_completed"`` or ``"no_order_id"``."""
_EXECUTING = ("timeout_after_execute", "trade_not_completed", "no_order_id")


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the fake received it (kept also when scripted or refused)."""

    method: str
    path: str
    """The full path, percent-decoded (e.g. ``/sim/openapi/port/v1/netpositions``, ``/token``)."""
    params: list[tuple[str, str]]
    """Decoded query parameters in order, then a form body's (``/token``)."""
    headers: httpx.Headers
    body: bytes
    api_path: str | None
    """The path below the gateway path (``/port/v1/netpositions``); ``None`` off the gateway."""
    at: datetime

    def param(self, name: str) -> str | None:
        """The first value of parameter ``name``, if sent."""
        return next((value for key, value in self.params if key == name), None)

    def json(self) -> Any:
        """The body as JSON (non-integral numbers as ``Decimal``)."""
        return loads(self.body)


@dataclass(frozen=True)
class Script:
    """One queued fault: ``action`` for the next ``method`` request under ``prefix``."""

    method: str
    prefix: str
    action: ScriptAction

    @classmethod
    def make(cls, method: str, prefix: str, action: ScriptAction, *, check: bool = True) -> Script:
        """Normalise (upper-case method, leading ``/``) and validate ``action``."""
        if check and not _valid(action):
            raise ValueError(f"unknown script action {action!r}")
        return cls(method.upper(), prefix if prefix.startswith("/") else "/" + prefix, action)

    @property
    def kind(self) -> str:
        """The action's name."""
        return self.action if isinstance(self.action, str) else str(self.action[0])

    @property
    def executes(self) -> bool:
        """Whether the fake does the work before the scripted outcome."""
        return self.kind in _EXECUTING

    def matches(self, method: str, path: str, api_path: str | None) -> bool:
        """``method`` equal, and the full path or the path below the gateway under ``prefix``."""
        if method != self.method:
            return False
        return path.startswith(self.prefix) or (
            api_path is not None and api_path.startswith(self.prefix)
        )


def _valid(action: Any) -> bool:
    if isinstance(action, str):
        return action in ("timeout_before_execute", *_EXECUTING)
    if not isinstance(action, tuple) or not action:
        return False
    if action[0] == "status":
        return len(action) in (2, 3) and isinstance(action[1], int)
    return action[0] == "rate_limited" and len(action) == 2


def refusal(
    request: httpx.Request, script: Script, correlation: str | None, session_limit: int | None
) -> httpx.Response:
    """The answer of a non-executing script (nothing was done)."""
    if script.kind == "timeout_before_execute":
        raise httpx.ConnectError("fake Saxo: scripted connect failure", request=request)
    headers = {"X-Correlation": correlation} if correlation else {}
    if script.kind == "rate_limited":
        headers["X-RateLimit-Session-Limit"] = str(session_limit or 120)
        headers["X-RateLimit-Session-Remaining"] = "0"
        headers["X-RateLimit-Session-Reset"] = str(script.action[1])
        return httpx.Response(429, headers=headers)
    body: bytes | None = script.action[2] if len(script.action) > 2 else None
    if body:
        headers["Content-Type"] = HTML_TYPE if body.lstrip()[:1] == b"<" else JSON_TYPE
    return httpx.Response(int(script.action[1]), headers=headers, content=body or b"")


def outcome(request: httpx.Request, script: Script, response: httpx.Response) -> httpx.Response:
    """What an executing script makes of the fake's real ``response``."""
    if script.kind == "timeout_after_execute":
        raise httpx.ReadTimeout("fake Saxo: scripted read timeout", request=request)
    if response.status_code != 200:
        return response
    if script.kind == "no_order_id":
        content = b"{}"
    else:
        payload = loads(response.content) if response.content else None
        if not (isinstance(payload, dict) and "OrderId" in payload):
            return response
        info = {"ErrorCode": "TradeNotCompleted", "Message": "Trade not completed"}
        content = dumps({"OrderId": payload["OrderId"], "ErrorInfo": info})
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return httpx.Response(200, headers=headers, content=content)
