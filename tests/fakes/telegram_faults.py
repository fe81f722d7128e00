"""The fake Telegram Bot API's records (accepted messages, every request) and scripted faults
(``FakeTelegram.script``): consumed in order per method after the token check; each helper
names the python-telegram-bot exception it provokes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any

from tests.fakes.telegram_html import Entity

BLOCKED = "Forbidden: bot was blocked by the user"


@dataclass(frozen=True)
class SentMessage:
    """An accepted ``sendMessage``."""

    message_id: int
    chat_id: str
    text: str
    """As sent (with its HTML)."""
    plain_text: str
    """As Telegram shows it: tags removed, entities decoded (``text`` without parse_mode)."""
    parse_mode: str | None
    entities: tuple[Entity, ...]
    disable_notification: bool
    link_preview_disabled: bool
    received_at: float
    """``time.monotonic()`` (or the fake's ``clock``) on receipt."""


@dataclass(frozen=True)
class RecordedRequest:
    """Any request, as received and answered (``status`` ``None``: dropped unanswered)."""

    method: str
    """The API method as sent (``sendMessage``); ``""`` off the ``/bot<token>/<method>`` form."""
    token: str = field(repr=False)
    http_method: str
    params: Mapping[str, Any]
    status: int | None
    description: str | None
    received_at: float


@dataclass(frozen=True)
class Fault:
    """A scripted answer for the next request of a method (see the helpers below).

    ``handle=False``: the request is not acted on, ``status``/``description``/``parameters``
    answer it. ``handle=True``: the fake does the normal work (a message is accepted and
    recorded) on receipt and answers normally. Then ``delay`` seconds pass (outside the lock)
    before the answer leaves, or, with ``drop``, the connection is closed without one.
    """

    status: int = 200
    description: str = ""
    parameters: Mapping[str, int] | None = None
    handle: bool = False
    delay: float = 0.0
    drop: bool = False
    body: str | None = None
    """Answer this text instead of Telegram's JSON (an HTML page from a proxy in the way)."""


def retry_after(seconds: int) -> Fault:
    """429 flood control: python-telegram-bot raises ``RetryAfter``."""
    params = {"retry_after": seconds}
    return Fault(429, f"Too Many Requests: retry after {seconds}", params)


def forbidden(description: str = BLOCKED) -> Fault:
    """403: ``Forbidden``."""
    return Fault(403, description)


def bad_request(description: str) -> Fault:
    """400 (``Bad Request: `` prefixed unless given): ``BadRequest``."""
    if not description.startswith("Bad Request"):
        description = f"Bad Request: {description}"
    return Fault(400, description)


def unauthorized() -> Fault:
    """401 as for a revoked token: ``InvalidToken``."""
    return Fault(401, "Unauthorized")


def server_error(status: int = 502, description: str | None = None) -> Fault:
    """A 5xx (default 502 Bad Gateway): ``NetworkError``."""
    return Fault(status, description or HTTPStatus(status).phrase)


PROXY_502_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def proxy_error(status: int = 502, page: str = PROXY_502_PAGE) -> Fault:
    """A 5xx answered by a proxy in front of the Bot API: an HTML page, not JSON."""
    return Fault(status, HTTPStatus(status).phrase, body=page)


def chat_migrated(new_chat_id: int) -> Fault:
    """400 with ``parameters.migrate_to_chat_id`` (a group became a supergroup):
    ``ChatMigrated``."""
    text = "Bad Request: group chat was upgraded to a supergroup chat"
    return Fault(400, text, {"migrate_to_chat_id": new_chat_id})


def delay(seconds: float, then: Fault | None = None) -> Fault:
    """Answer after ``seconds``. Without ``then`` the request is handled on receipt (the
    message is recorded even if the client times out first: delivered, outcome unknown to the
    client); with ``then`` that fault answers late and nothing is done."""
    return replace(then or Fault(handle=True), delay=seconds)


def disconnect(*, handled: bool = False) -> Fault:
    """Close the connection without an answer (``NetworkError`` in python-telegram-bot);
    ``handled=True``: the message was accepted and recorded first."""
    return Fault(handle=handled, drop=True)
