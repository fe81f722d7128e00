"""Recorded HTTP exchanges replayed to an httpx-based broker adapter, for its tests.

:func:`replay_recorded_responses` reads a recording (a JSON file, or the same data in Python)
and returns a :class:`RecordedResponses`: an ``httpx.MockTransport`` handler that answers each
request with the first recorded exchange it matches, raises :class:`UnexpectedRequest` for a
request no exchange matches, and can check at the end that every exchange was used
(:meth:`RecordedResponses.assert_all_used`). The recording format is in docs/plugins/testing.md.

httpx is imported only when a request is answered or a transport is built, so
``tradecore.testing`` stays importable without it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from attrs import define, frozen

if TYPE_CHECKING:
    import httpx

__all__ = ["RecordedResponses", "UnexpectedRequest", "replay_recorded_responses"]

Recording = str | os.PathLike[str] | Mapping[str, Any] | Iterable[Mapping[str, Any]]

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_SHOWN = 60  # characters of a query value shown in a message


class UnexpectedRequest(AssertionError):
    """A request that no recorded exchange matches (or one whose exchanges were all used).

    An ``AssertionError``, so pytest reports it as a failed expectation; it is also kept in
    :attr:`RecordedResponses.unexpected`, so :meth:`RecordedResponses.assert_all_used` fails
    even when the code under test caught it.
    """


@frozen
class _Exchange:
    index: int
    method: str
    path: str
    host: str | None
    query: Mapping[str, str | list[str] | None]
    body_json: Mapping[str, Any] | None
    status: int
    headers: Mapping[str, str]
    content: bytes
    times: int | None  # None: any number of times (at least once)

    def describe(self) -> str:
        query = "&".join(f"{key}={_short(value)}" for key, value in self.query.items())
        host = self.host or ""
        return f"#{self.index} {self.method} {host}{self.path}{'?' + query if query else ''}"


@define
class _Use:
    exchange: _Exchange
    used: int = 0

    @property
    def available(self) -> bool:
        return self.exchange.times is None or self.used < self.exchange.times


class RecordedResponses:
    """The handler :func:`replay_recorded_responses` returns.

    Call it with an ``httpx.Request`` (``httpx.MockTransport`` does), or build a transport with
    :meth:`transport`. Exchanges are tried in the recording's order; the first one that matches
    and is not used up answers.

    :param exchanges: the parsed recording.
    :param name: where the recording came from, for messages.
    """

    def __init__(self, exchanges: Iterable[_Exchange], *, name: str) -> None:
        self._uses = [_Use(exchange) for exchange in exchanges]
        self.name = name
        self.answered: list[str] = []
        """Each request answered, as ``METHOD URL`` with the exchange's number, in order."""
        self.unexpected: list[str] = []
        """Each request no exchange matched, as ``METHOD URL``, in order."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` from the recording.

        :raises UnexpectedRequest: no unused exchange matches it.
        """
        import httpx

        for use in self._uses:
            if use.available and _matches(use.exchange, request):
                use.used += 1
                exchange = use.exchange
                self.answered.append(f"#{exchange.index} {_describe(request)}")
                return httpx.Response(
                    exchange.status, headers=dict(exchange.headers), content=exchange.content
                )
        described = _describe(request)
        self.unexpected.append(described)
        left = [use.exchange.describe() for use in self._uses if use.available]
        raise UnexpectedRequest(
            f"{self.name}: unexpected request {described}; no unused recorded exchange matches "
            f"it. Unused: {'; '.join(left) if left else 'none'}"
        )

    def transport(self) -> httpx.MockTransport:
        """An ``httpx.MockTransport`` answering with this recording."""
        import httpx

        return httpx.MockTransport(self)

    @property
    def unused(self) -> list[str]:
        """The exchanges not used as often as recorded (``repeat`` ones: never used)."""
        return [
            use.exchange.describe()
            for use in self._uses
            if (use.exchange.times is None and use.used == 0)
            or (use.exchange.times is not None and use.used < use.exchange.times)
        ]

    def assert_all_used(self) -> None:
        """Check every exchange was used as recorded and no request was unexpected.

        :raises AssertionError: naming the unused exchanges and the unexpected requests.
        """
        problems = []
        if self.unused:
            problems.append(f"never requested: {'; '.join(self.unused)}")
        if self.unexpected:
            problems.append(f"unexpected requests: {'; '.join(self.unexpected)}")
        if problems:
            raise AssertionError(f"{self.name}: {' / '.join(problems)}")


def replay_recorded_responses(recording: Recording) -> RecordedResponses:
    """Read ``recording`` and return a handler that replays it.

    :param recording: a JSON file's path, or its parsed content: an object with an
        ``"exchanges"`` list, or the list itself.
    :raises ValueError: the recording is not in the documented format (the message names the
        exchange and the field).
    """
    name = "recording"
    data: Any
    if isinstance(recording, str | os.PathLike):
        path = Path(recording)
        name = path.name
        data = json.loads(path.read_text(encoding="utf-8"))
    else:
        data = recording
    if isinstance(data, Mapping):
        data = data.get("exchanges")
    if isinstance(data, str | bytes) or not isinstance(data, Iterable):
        raise ValueError(f"{name}: expected a list of exchanges or an object with 'exchanges'")
    exchanges = [_exchange(item, index, name) for index, item in enumerate(data, start=1)]
    return RecordedResponses(exchanges, name=name)


# -- reading a recording ---------------------------------------------------------------------------


def _exchange(item: Any, index: int, name: str) -> _Exchange:
    where = f"{name}: exchange #{index}"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where} is not an object")
    request, response = item.get("request"), item.get("response")
    if not isinstance(request, Mapping) or not isinstance(response, Mapping):
        raise ValueError(f"{where} needs a 'request' and a 'response' object")
    method = str(request.get("method", "")).upper()
    if method not in _METHODS:
        raise ValueError(f"{where}: request.method {request.get('method')!r} is not an HTTP method")
    path = request.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"{where}: request.path must be a string starting with '/'")
    query = request.get("query", {})
    if not isinstance(query, Mapping) or not all(
        value is None or isinstance(value, str) or _strings(value) for value in query.values()
    ):
        raise ValueError(f"{where}: request.query maps names to a string, a list or null")
    body_json = request.get("json")
    if body_json is not None and not isinstance(body_json, Mapping):
        raise ValueError(f"{where}: request.json must be an object")
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"{where}: response.status must be an HTTP status code")
    headers = response.get("headers", {})
    if not isinstance(headers, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in headers.items()
    ):
        raise ValueError(f"{where}: response.headers maps names to strings")
    headers, content = _body(response, dict(headers), where)
    return _Exchange(
        index=index,
        method=method,
        path=path,
        host=_optional_str(request.get("host"), f"{where}: request.host"),
        query=dict(query),
        body_json=body_json,
        status=status,
        headers=headers,
        content=content,
        times=_times(item, where),
    )


def _body(response: Mapping[str, Any], headers: dict[str, str], where: str) -> Any:
    if "json" in response and "text" in response:
        raise ValueError(f"{where}: give response.json or response.text, not both")
    if "json" in response:
        if not any(key.lower() == "content-type" for key in headers):
            headers["Content-Type"] = "application/json"
        return headers, json.dumps(response["json"]).encode()
    text = response.get("text", "")
    if not isinstance(text, str):
        raise ValueError(f"{where}: response.text must be a string")
    return headers, text.encode()


def _times(item: Mapping[str, Any], where: str) -> int | None:
    if item.get("repeat") is True:
        return None
    times = item.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise ValueError(f"{where}: times must be a whole number of at least 1")
    return times


def _optional_str(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{where} must be a string")
    return value


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# -- matching --------------------------------------------------------------------------------------


def _matches(exchange: _Exchange, request: httpx.Request) -> bool:
    url = request.url
    if request.method != exchange.method or url.path != exchange.path:
        return False
    if exchange.host is not None and url.host != exchange.host:
        return False
    sent = parse_qs(url.query.decode("ascii"), keep_blank_values=True)
    for key, wanted in exchange.query.items():
        values = sent.get(key)
        if values is None:
            return False
        if isinstance(wanted, str) and values != [wanted]:
            return False
        if isinstance(wanted, list) and values != wanted:
            return False
    if exchange.body_json is not None:
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            return False
        if not isinstance(body, dict):
            return False
        return all(key in body and body[key] == value for key, value in exchange.body_json.items())
    return True


def _describe(request: httpx.Request) -> str:
    url = request.url
    query = parse_qs(url.query.decode("ascii"), keep_blank_values=True)
    shown = "&".join(f"{key}={_short(value)}" for key, values in query.items() for value in values)
    return f"{request.method} {url.host}{url.path}{'?' + shown if shown else ''}"


def _short(value: object) -> str:
    text = "*" if value is None else str(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
