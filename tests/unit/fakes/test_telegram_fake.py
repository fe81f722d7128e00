"""The fake Telegram Bot API over loopback HTTP/1.1, driven by python-telegram-bot's ``Bot`` (as
the notifier will) and by raw httpx: tokens, Telegram's HTML rules and error texts, the UTF-16
length limit, flood control, scripted faults, and what the fake records."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.request import HTTPXRequest
from tests.fakes.telegram_html import parse_html
from tests.fakes.telegram_server import (
    MAX_TEXT_LENGTH,
    FakeTelegram,
    bad_request,
    chat_migrated,
    delay,
    disconnect,
    forbidden,
    retry_after,
    server_error,
    unauthorized,
)

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CHAT = "42"
GROUP = "-1001234567890"


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (PTBDeprecationWarning) whenever RetryAfter.retry_after is read, its own
    # constructor included, unless PTB_TIMEDELTA opts in: under filterwarnings=error the warning
    # would replace the RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram(tokens={TOKEN}, chats={CHAT: "private", GROUP: "supergroup"})


_TLS = ssl.create_default_context()


@asynccontextmanager
async def bot_on(fake: FakeTelegram, token: str = TOKEN) -> AsyncIterator[Bot]:
    """A served fake and a ``Bot`` on it. Its two clients share one TLS context (unused over
    plain HTTP): building one per client costs ~40 ms, most of this module's time."""
    with fake.serve() as url:
        requests = [HTTPXRequest(httpx_kwargs={"verify": _TLS}) for _ in range(2)]
        async with Bot(
            token, base_url=f"{url}/bot", request=requests[0], get_updates_request=requests[1]
        ) as bot:
            yield bot


def seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else value


async def test_get_me_and_messages_are_answered_and_recorded(fake: FakeTelegram) -> None:
    with fake.serve() as url:
        bot = Bot(TOKEN, base_url=f"{url}/bot")  # as the notifier builds it
        async with bot:
            me = bot.bot
            first = await bot.send_message(
                int(CHAT),
                "<b>BUY</b> 1 BTC &amp; more",
                parse_mode="HTML",
                disable_notification=True,
            )
            second = await bot.send_message(
                CHAT, "plain <b> & stays", disable_web_page_preview=True
            )

    assert (me.id, me.username, me.is_bot) == (123456, "tradecore_test_bot", True)

    assert (first.message_id, first.chat.id, first.chat.type) == (1, 42, "private")
    assert first.text == "BUY 1 BTC & more"
    assert [(e.type, e.offset, e.length) for e in first.entities] == [("bold", 0, 3)]
    assert second.message_id == 2
    one, two = fake.messages(CHAT)
    assert (one.chat_id, one.text, one.plain_text) == (
        CHAT,
        "<b>BUY</b> 1 BTC &amp; more",
        first.text,
    )
    assert (one.parse_mode, one.disable_notification, one.link_preview_disabled) == (
        "HTML",
        True,
        False,
    )
    assert (two.plain_text, two.parse_mode, two.disable_notification) == (
        "plain <b> & stays",
        None,
        False,
    )
    assert two.link_preview_disabled
    assert one.received_at <= two.received_at
    assert fake.messages(GROUP) == []
    assert [r.method for r in fake.requests] == ["getMe", "sendMessage", "sendMessage"]
    assert {(r.token, r.http_method, r.status) for r in fake.requests} == {(TOKEN, "POST", 200)}
    assert fake.count("getme") == 1
    assert fake.count("sendMessage", status=200) == 2
    assert TOKEN not in repr(fake.requests[0])


async def test_an_unknown_token_is_unauthorized(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken, match="rejected by the server") as refused:
        async with bot_on(fake, "654321:WRONGtokenWRONGtokenWRONGtoken"):
            pass
    assert str(refused.value.__cause__) == "Unauthorized"
    assert [(r.method, r.status) for r in fake.requests] == [("getMe", 401)]


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("price < 100", 'Unsupported start tag "" at byte offset 6'),
        ("é <br>", 'Unsupported start tag "br" at byte offset 3'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ('<a href="x', "Unclosed start tag at byte offset 0"),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<tg-emoji emoji-id="x">y</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
async def test_malformed_html_cannot_be_parsed(fake: FakeTelegram, html: str, reason: str) -> None:
    async with bot_on(fake) as bot:
        with pytest.raises(BadRequest) as refused:
            await bot.send_message(CHAT, html, parse_mode="HTML")
    assert str(refused.value).startswith("Can't parse entities: ")  # PTB re-capitalises it
    assert fake.requests[-1].description == f"Bad Request: can't parse entities: {reason}"
    assert fake.messages() == []
    assert fake.count("sendMessage", status=400) == 1


async def test_nested_html_with_entities_and_emoji(fake: FakeTelegram) -> None:
    html = (
        '🚀 <b>Filled <i>BUY</i></b> &lt;AAPL&gt; &#8364;5 &#x1F600; <a href="https://x.io/o?a=1&amp;b=2">'
        "order</a> <code>id&quot;7</code> <tg-spoiler>s</tg-spoiler> "
        '<span class="tg-spoiler">p</span> <pre><code class="language-py">q</code></pre> '
        "<blockquote expandable>z</blockquote> Tom & Jerry"
    )
    async with bot_on(fake) as bot:
        message = await bot.send_message(CHAT, html, parse_mode="HTML")

    plain = '🚀 Filled BUY <AAPL> €5 😀 order id"7 s p q z Tom & Jerry'
    assert message.text == fake.messages()[0].plain_text == plain
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 3, 10),
        ("italic", 10, 3),
        ("text_link", 27, 5),
        ("code", 33, 4),
        ("spoiler", 38, 1),
        ("spoiler", 40, 1),
        ("pre", 42, 1),
        ("expandable_blockquote", 44, 1),
    ]
    assert message.entities[2].url == "https://x.io/o?a=1&b=2"
    assert message.entities[6].language == "py"
    assert message.parse_entity(message.entities[0]) == "Filled BUY"  # UTF-16 offsets agree


async def test_length_is_counted_in_utf16_code_units_after_parsing(fake: FakeTelegram) -> None:
    emoji = "😀" * (MAX_TEXT_LENGTH // 2)
    async with bot_on(fake) as bot:
        await bot.send_message(CHAT, "a" * MAX_TEXT_LENGTH)
        await bot.send_message(CHAT, emoji)
        await bot.send_message(CHAT, f"<b>{'&amp;' * MAX_TEXT_LENGTH}</b>", parse_mode="HTML")
        for too_long in ("a" * (MAX_TEXT_LENGTH + 1), emoji + "a"):
            with pytest.raises(BadRequest, match="Message is too long"):
                await bot.send_message(CHAT, too_long)
    assert [len(m.plain_text) for m in fake.messages()] == [4096, 2048, 4096]


async def test_empty_text_is_refused(fake: FakeTelegram) -> None:
    async with bot_on(fake) as bot:
        for text, mode in (("<b></b>", "HTML"), ("   ", None)):
            with pytest.raises(BadRequest, match="Message text is empty"):
                await bot.send_message(CHAT, text, parse_mode=mode)


async def test_scripted_faults_answer_in_order(fake: FakeTelegram) -> None:
    fake.script("sendMessage", retry_after(3), forbidden(), bad_request("boom"), server_error(502))
    fake.script("sendMessage", chat_migrated(-1009876), unauthorized())
    async with bot_on(fake) as bot:
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(CHAT, "x")
        assert seconds(flood.value.retry_after) == 3
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(CHAT, "x")
        with pytest.raises(BadRequest, match="Boom"):
            await bot.send_message(CHAT, "x")
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(CHAT, "x")
        with pytest.raises(ChatMigrated) as migrated:
            await bot.send_message(CHAT, "x")
        assert migrated.value.new_chat_id == -1009876
        with pytest.raises(InvalidToken):
            await bot.send_message(CHAT, "x")
        assert fake.scripts_left("sendMessage") == 0
        await bot.send_message(CHAT, "finally")
    assert [m.plain_text for m in fake.messages()] == ["finally"]
    assert [r.status for r in fake.requests][1:] == [429, 403, 400, 502, 400, 401, 200]


async def test_a_delayed_answer_still_delivers_and_a_dropped_one_says_nothing(
    fake: FakeTelegram,
) -> None:
    # Answers 1 s late to a client that waits 0.05 s: late by a margin no load takes away.
    fake.script("sendMessage", delay(1.0), delay(1.0, then=retry_after(1)), disconnect())
    fake.script("sendMessage", disconnect(handled=True))
    async with bot_on(fake) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "late", read_timeout=0.05)
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "refused late", read_timeout=0.05)
        with pytest.raises(NetworkError):
            await bot.send_message(CHAT, "lost")
        with pytest.raises(NetworkError):
            await bot.send_message(CHAT, "delivered, unanswered")
    assert [m.plain_text for m in fake.messages()] == ["late", "delivered, unanswered"]
    assert [r.status for r in fake.requests][1:] == [200, 429, None, None]


async def test_blocked_chats_and_unknown_chats(fake: FakeTelegram) -> None:
    fake.block(CHAT)
    async with bot_on(fake) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(CHAT, "x")
        with pytest.raises(Forbidden):
            await bot.get_chat(CHAT)
        fake.unblock(CHAT)
        chat = await bot.get_chat(CHAT)
        group = await bot.get_chat(GROUP)
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.get_chat(7)
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(7, "x")
    assert (chat.id, chat.type, chat.first_name) == (42, "private", "Test User")
    assert (group.id, group.type) == (int(GROUP), "supergroup")


async def test_min_interval_is_flood_control_per_chat() -> None:
    now = [100.0]
    fake = FakeTelegram(
        {TOKEN}, {CHAT: "private", GROUP: "group"}, min_interval=3, clock=lambda: now[0]
    )
    async with bot_on(fake) as bot:
        await bot.send_message(CHAT, "one")
        await bot.send_message(GROUP, "other chat")
        now[0] += 0.5
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(CHAT, "too soon")
        assert seconds(flood.value.retry_after) == 3  # 2.5 s rounded up
        now[0] += 2.5
        await bot.send_message(CHAT, "two")
    assert [m.plain_text for m in fake.messages(CHAT)] == ["one", "two"]
    assert [m.received_at for m in fake.messages()] == [100.0, 100.0, 103.0]


async def test_raw_http_json_form_multipart_and_get(fake: FakeTelegram) -> None:
    with fake.serve() as url:
        async with httpx.AsyncClient(base_url=f"{url}/bot{TOKEN}") as http:
            as_json = await http.post(
                "/sendMessage",
                json={
                    "chat_id": 42,
                    "text": "<i>j</i>",
                    "parse_mode": "HTML",
                    "disable_notification": True,
                },
            )
            as_form = await http.post(
                "/sendMessage",
                data={
                    "chat_id": CHAT,
                    "text": "f",
                    "link_preview_options": '{"is_disabled": true}',
                },
            )
            multipart = await http.post(
                "/sendMessage", data={"chat_id": CHAT, "text": "m"}, files={"doc": ("a.txt", b"x")}
            )
            got = await http.get("/getMe")
            unknown = await http.post("/sendPhoto", data={"chat_id": CHAT})
            no_text = await http.post("/sendMessage", data={"chat_id": CHAT})
        async with httpx.AsyncClient() as http:
            off_api = await http.get(f"{url}/favicon.ico")

    assert as_json.status_code == 200
    assert as_json.json()["result"]["text"] == "j"
    assert as_json.json()["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 1}]
    assert as_form.status_code == multipart.status_code == got.status_code == 200
    assert got.json()["result"]["first_name"] == "Tradecore Test"
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert no_text.json()["description"] == "Bad Request: message text is empty"
    assert off_api.status_code == 404
    assert fake.internal_errors == []
    j, f, m = fake.messages()
    assert (j.chat_id, j.disable_notification, f.link_preview_disabled, m.plain_text) == (
        CHAT,
        True,
        True,
        "m",
    )


async def test_strict_ampersand_is_opt_in() -> None:
    assert parse_html("AT&T &copy; x&lt3")[0] == "AT&T &copy; x<3"  # what Telegram does
    fake = FakeTelegram({TOKEN}, {CHAT: "private"}, strict_ampersand=True)
    async with bot_on(fake) as bot:
        with pytest.raises(BadRequest, match="character entity expected at byte offset 2"):
            await bot.send_message(CHAT, "AT&T", parse_mode="HTML")
        await bot.send_message(CHAT, "AT&amp;T", parse_mode="HTML")


async def test_the_fake_logs_nothing(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    fakes_dir = str(Path(__file__).resolve().parents[2] / "fakes")
    with caplog.at_level(logging.DEBUG):
        async with bot_on(fake) as bot:
            await bot.send_message(CHAT, "x")
        async with httpx.AsyncClient() as http:
            with fake.serve() as url:
                for token in (TOKEN, "999:WRONG"):
                    await http.post(
                        f"{url}/bot{token}/sendMessage",
                        content=b"not json",
                        headers={"Content-Type": "application/json"},
                    )
    assert [r for r in caplog.records if r.pathname.startswith(fakes_dir)] == []
    err = capfd.readouterr().err
    assert TOKEN not in err
    assert "/sendMessage" not in err  # no http.server request log
    assert [(r.status, r.description) for r in fake.requests[-2:]] == [
        (400, "Bad Request: can't parse request parameters"),
        (401, "Unauthorized"),
    ]
    assert fake.internal_errors == []
