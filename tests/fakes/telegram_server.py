"""A fake Telegram Bot API server on loopback, for tests of the Telegram notifier.

``FakeTelegram(tokens={TOKEN}, chats={"42": "private"})``; ``with fake.serve() as url:`` runs
it on ``127.0.0.1`` (a free port) in a background thread. In process, a python-telegram-bot
``telegram.Bot(TOKEN, base_url=f"{url}/bot")``; a child process gets ``f"{url}/bot"`` through
its environment. Requests are ``POST {url}/bot{token}/{method}`` (any prefix before ``/bot``
is accepted; GET with a query string too); parameters come as a query string, a form
(``application/x-www-form-urlencoded``, what python-telegram-bot sends when there is no file:
every value a string, non-strings JSON-encoded, e.g. ``disable_notification=true``),
``multipart/form-data`` or a JSON object.

Answers are the Bot API's: ``{"ok":true,"result":…}`` or ``{"ok":false,"error_code":N,
"description":…[,"parameters":…]}``. Methods: ``getMe``, ``getChat`` and ``sendMessage`` (HTML
checked as Telegram does, see ``telegram_html``); any other method answers 404 "Not Found", an
unknown token 401 "Unauthorized". Scripted faults (``fake.script("sendMessage", retry_after(3))``)
are consumed in order per method, after the token check. Nothing is logged (no ``logging``, the
http.server request log silenced): tests assert that no bot token reaches a log record.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from tests.fakes.loopback import TrackingServer
from tests.fakes.telegram_faults import (
    BLOCKED,
    Fault,
    RecordedRequest,
    SentMessage,
    bad_request,
    chat_migrated,
    delay,
    disconnect,
    forbidden,
    retry_after,
    server_error,
    unauthorized,
)
from tests.fakes.telegram_html import Entity, EntityParseError, parse_html, utf16_length
from tests.fakes.telegram_wire import (
    BadParameters,
    error,
    flag,
    json_object,
    ok,
    parse_params,
)

__all__ = [
    "MAX_TEXT_LENGTH",
    "Entity",
    "FakeTelegram",
    "Fault",
    "RecordedRequest",
    "SentMessage",
    "bad_request",
    "chat_migrated",
    "delay",
    "disconnect",
    "forbidden",
    "retry_after",
    "server_error",
    "unauthorized",
]

MAX_TEXT_LENGTH = 4096
"""The longest ``sendMessage`` text, in UTF-16 code units after entity parsing."""
CHAT_TYPES = ("private", "group", "supergroup", "channel")
_PATH = re.compile(r"/bot([^/]*)/([A-Za-z]+)/?$")


@dataclass(frozen=True)
class Answer:
    """What the HTTP handler sends: ``body`` with ``status`` after ``delay`` s, or nothing."""

    status: int
    body: bytes
    delay: float = 0.0
    drop: bool = False


class FakeTelegram:
    """The fake Bot API. ``tokens``: the valid bot tokens (the bot id is the digits before
    ``:``). ``chats``: chat id → type (``private``, ``group``, ``supergroup``, ``channel``).
    ``min_interval``: seconds required between two accepted messages to one chat (0: no flood
    control), else 429 with ``retry_after``. ``strict_ampersand``: refuse a bare ``&`` (not
    Telegram, which keeps it). Thread-safe; every public method may run while serving."""

    def __init__(
        self,
        tokens: Iterable[str],
        chats: Mapping[str | int, str] | None = None,
        *,
        min_interval: float = 0.0,
        strict_ampersand: bool = False,
        first_name: str = "Tradecore Test",
        username: str = "tradecore_test_bot",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tokens = frozenset(tokens)
        self.min_interval = min_interval
        self.strict_ampersand = strict_ampersand
        self.first_name = first_name
        self.username = username
        self.clock = clock
        self._lock = threading.Lock()
        self._chats: dict[str, str] = {}
        self._blocked: set[str] = set()
        self._scripts: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self._messages: list[SentMessage] = []
        self._requests: list[RecordedRequest] = []
        self._last_sent: dict[str, float] = {}
        self.internal_errors: list[Exception] = []
        for chat_id, kind in (chats or {}).items():
            self.add_chat(chat_id, kind)

    # -- set-up and scripting ------------------------------------------------------------------

    def add_chat(self, chat_id: str | int, kind: str = "private") -> None:
        """Make ``chat_id`` (numeric) known, of type ``kind``."""
        if kind not in CHAT_TYPES or not str(chat_id).lstrip("-").isdigit():
            raise ValueError(f"bad chat {chat_id!r} of type {kind!r}")
        with self._lock:
            self._chats[str(chat_id)] = kind

    def block(self, chat_id: str | int) -> None:
        """The user blocked the bot: 403 on ``sendMessage`` and ``getChat``."""
        with self._lock:
            self._blocked.add(str(chat_id))

    def unblock(self, chat_id: str | int) -> None:
        with self._lock:
            self._blocked.discard(str(chat_id))

    def script(self, method: str, *faults: Fault) -> None:
        """Queue ``faults`` for the next requests of ``method`` (case-insensitive), in order."""
        with self._lock:
            self._scripts[method.lower()].extend(faults)

    def scripts_left(self, method: str) -> int:
        with self._lock:
            return len(self._scripts[method.lower()])

    # -- observation ---------------------------------------------------------------------------

    def messages(self, chat_id: str | int | None = None) -> list[SentMessage]:
        """The accepted messages in order (to ``chat_id`` only, if given)."""
        with self._lock:
            return [m for m in self._messages if chat_id is None or m.chat_id == str(chat_id)]

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request in order of receipt (refused and scripted ones too)."""
        with self._lock:
            return list(self._requests)

    def count(self, method: str, *, status: int | None = None) -> int:
        """Requests of ``method`` (case-insensitive), those answered ``status`` if given."""
        wanted = method.lower()
        return sum(
            1
            for r in self.requests
            if r.method.lower() == wanted and (status is None or r.status == status)
        )

    # -- handling ------------------------------------------------------------------------------

    def handle(
        self, http_method: str, target: str, content_type: str | None, body: bytes = b""
    ) -> Answer:
        """Answer one request (``target``: path and query as sent)."""
        path, _, query = target.partition("?")
        match = _PATH.search(unquote(path))
        token, method = match.groups() if match else ("", "")
        params: dict[str, Any] = {}
        fault: Fault | None = None
        with self._lock:
            now = self.clock()
            try:
                if not match:
                    status, payload = error(404, "Not Found")
                elif token not in self.tokens:
                    status, payload = error(401, "Unauthorized")
                else:
                    params = parse_params(query, content_type, body)
                    scripts = self._scripts[method.lower()]
                    fault = scripts.popleft() if scripts else None
                    if fault is None or fault.handle:
                        status, payload = self._dispatch(method.lower(), token, params, now)
                    else:
                        status, payload = error(fault.status, fault.description, fault.parameters)
            except BadParameters:
                status, payload = error(400, "Bad Request: can't parse request parameters")
            except Exception as exc:  # a bug in the fake: answer it visibly, keep it for the test
                self.internal_errors.append(exc)
                status, payload = error(500, f"fake Telegram internal error: {exc!r}")
            drop = fault is not None and fault.drop
            self._requests.append(
                RecordedRequest(
                    method,
                    token,
                    http_method.upper(),
                    params,
                    None if drop else status,
                    None if drop else payload.get("description"),
                    now,
                )
            )
        data = json.dumps(payload, ensure_ascii=False).encode()
        if fault is not None and not fault.handle and fault.body is not None:
            data = fault.body.encode()
        return Answer(status, data, fault.delay if fault else 0.0, drop)

    def _dispatch(
        self, method: str, token: str, params: dict[str, Any], now: float
    ) -> tuple[int, dict[str, Any]]:
        if method == "getme":
            return ok(self._bot_user(token))
        if method == "getchat":
            chat_id = str(params.get("chat_id", ""))
            if chat_id not in self._chats:
                return error(400, "Bad Request: chat not found")
            if chat_id in self._blocked:
                return error(403, BLOCKED)
            return ok(self._chat(chat_id, full=True))
        if method == "sendmessage":
            return self._send_message(token, params, now)
        return error(404, "Not Found")

    def _send_message(
        self, token: str, params: dict[str, Any], now: float
    ) -> tuple[int, dict[str, Any]]:
        chat_id = str(params.get("chat_id", ""))
        if not chat_id:
            return error(400, "Bad Request: chat_id is empty")
        if chat_id not in self._chats:
            return error(400, "Bad Request: chat not found")
        if chat_id in self._blocked:
            return error(403, BLOCKED)
        text = str(params.get("text", ""))
        parse_mode = params.get("parse_mode") or None
        plain, entities = text, list[Entity]()
        if parse_mode is not None:
            if str(parse_mode).lower() != "html":
                return error(
                    400, f"Bad Request: the fake supports parse_mode HTML only, not {parse_mode}"
                )
            try:
                plain, entities = parse_html(text, strict_ampersand=self.strict_ampersand)
            except EntityParseError as exc:
                return error(400, f"Bad Request: can't parse entities: {exc}")
        if not plain.strip():
            return error(400, "Bad Request: message text is empty")
        if utf16_length(plain) > MAX_TEXT_LENGTH:
            return error(400, "Bad Request: message is too long")
        last = self._last_sent.get(chat_id)
        if self.min_interval and last is not None and now - last < self.min_interval:
            wait = max(1, math.ceil(self.min_interval - (now - last)))
            return error(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        self._last_sent[chat_id] = now
        preview = json_object(params.get("link_preview_options"))
        message = SentMessage(
            message_id=len(self._messages) + 1,
            chat_id=chat_id,
            text=text,
            plain_text=plain,
            parse_mode=parse_mode,
            entities=tuple(entities),
            disable_notification=flag(params.get("disable_notification")),
            link_preview_disabled=flag(preview.get("is_disabled"))
            or flag(params.get("disable_web_page_preview")),
            received_at=now,
        )
        self._messages.append(message)
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self._bot_user(token),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": plain,
        }
        if entities:
            result["entities"] = [e.to_json() for e in entities]
        return ok(result)

    def _bot_user(self, token: str) -> dict[str, Any]:
        bot_id = token.partition(":")[0]
        return {
            "id": int(bot_id) if bot_id.isdigit() else 123456,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _chat(self, chat_id: str, *, full: bool = False) -> dict[str, Any]:
        kind = self._chats[chat_id]
        chat: dict[str, Any] = {"id": int(chat_id), "type": kind}
        if kind == "private":
            chat["first_name"] = "Test User"
        else:
            chat["title"] = f"Test {kind}"
        if full:  # ChatFullInfo's required fields
            gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
            chat["accent_color_id"] = 0
            chat["max_reaction_count"] = 11
            chat["accepted_gift_types"] = dict.fromkeys((*gifts, "gifts_from_channels"), False)
        return chat

    # -- transport -----------------------------------------------------------------------------

    @contextmanager
    def serve(self, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve over loopback HTTP/1.1 in a background thread; yield the base URL
        (``http://127.0.0.1:PORT``; the Bot API base for clients is that plus ``/bot``)."""
        server = _LoopbackServer((host, port), self)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        thread.start()
        try:
            yield f"http://{host}:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.close_connections()
            server.server_close()
            thread.join(timeout=5)


class _LoopbackServer(TrackingServer):
    def __init__(self, address: tuple[str, int], fake: FakeTelegram) -> None:
        super().__init__(address, _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _LoopbackServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = self.server.fake.handle(
            self.command, self.path, self.headers.get("Content-Type"), body
        )
        if answer.delay:
            time.sleep(answer.delay)
        if answer.drop:
            self.close_connection = True
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request line holds the bot token."""
