"""The Telegram notifier against a fake Bot API server on loopback.

Delivery rules (docs/notifications/telegram.md, "Delivery"): HTML with every value
escaped; parts below ``MessageLimit.MAX_TEXT_LENGTH``; ≤ 1 message a second per chat
(``FloodLimit.MESSAGES_PER_SECOND_PER_CHAT``); ``RetryAfter`` waits ``retry_after``; ``TimedOut``
and other ``NetworkError`` are retried, ``BadRequest`` never (resent once as plain text);
``Forbidden`` means the chat is unreachable.
"""

from __future__ import annotations

import itertools
import socket
from datetime import timedelta

import pytest
from tests.fakes.telegram_server import (
    FakeTelegram,
    bad_request,
    chat_migrated,
    delay,
    disconnect,
    retry_after,
    server_error,
)
from tests.integration.adapters.telegram.conftest import (
    CHAT,
    TOKEN,
    MakeNotifier,
    RecordingSleep,
    VirtualTime,
)

from tradecore.domain import Digest, Secret, TaskStatus
from tradecore.errors import NotificationError
from tradecore.testing.builders import DEFAULT_TIME, make_run, make_task_result
from tradecore_adapters.telegram._split import MAX_MESSAGE_LENGTH, utf16_length
from tradecore_adapters.telegram.config import TelegramConfig
from tradecore_adapters.telegram.notifier import TelegramNotifier

pytestmark = pytest.mark.asyncio

NASTY = "<b>bold?</b> a < b && c > d _x_ *y* [z](http://e) `q` 🚀👨‍👩‍👧 é "


def _digest(*, error: str | None = "BrokerUnavailable: Binance answered 503") -> Digest:
    steps = [
        make_task_result(
            subject="binance-main",
            counts={"positions": 3, "trades_new": 2},
            api={"requests": "7", "clock_offset_ms": "-3"},
        )
    ]
    if error is not None:
        steps.append(make_task_result(subject="saxo-sim", status=TaskStatus.FAILURE, error=error))
    run = make_run(started_at=DEFAULT_TIME)
    run.finish(DEFAULT_TIME + timedelta(seconds=3), steps)
    return Digest.from_run(run, user_name="alice")


async def test_the_three_messages_arrive_in_order_and_paced(
    fake: FakeTelegram, make_notifier: MakeNotifier
) -> None:
    await make_notifier().send(_digest())

    messages = fake.messages(CHAT)
    assert [m.plain_text.split("\n")[0] for m in messages] == [
        "⚠️ Summary — alice",
        "API responses — alice",
        "❌ Errors — alice",
    ]
    assert all(m.parse_mode == "HTML" and m.link_preview_disabled for m in messages)
    assert [m.disable_notification for m in messages] == [False, True, False]  # API: silent
    assert "✅ binance-main · sync: positions 3, new trades 2" in messages[0].plain_text
    assert "requests 7, clock offset (ms) -3" in messages[1].plain_text
    assert (
        "saxo-sim · sync (failed): BrokerUnavailable: Binance answered 503"
        in messages[2].plain_text
    )
    gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(messages)]
    assert gaps == pytest.approx([1.0, 1.0])  # one a second on the notifier's clock, no slower
    assert fake.count("sendMessage", status=429) == 0  # paced, never refused


async def test_no_errors_message_without_errors_and_off_means_off(
    fake: FakeTelegram, make_notifier: MakeNotifier
) -> None:
    await make_notifier(api="off", summary="silent").send(_digest(error=None))
    messages = fake.messages(CHAT)
    assert len(messages) == 1
    assert messages[0].plain_text.startswith("✅ Summary — alice")
    assert messages[0].disable_notification


async def test_any_text_and_a_ten_thousand_character_error_arrive_intact(
    fake: FakeTelegram, make_notifier: MakeNotifier
) -> None:
    error = (NASTY * 200)[:10_000]
    await make_notifier(api="off").send(_digest(error=error))

    summary, *errors = fake.messages(CHAT)
    # Measured on the markup (conservative: "&lt;" counts 4), so more parts than the plain
    # length alone would need, and never one too long.
    assert len(errors) >= 3
    for message in (summary, *errors):
        assert message.parse_mode == "HTML"  # valid HTML every time: no plain-text fallback
        assert utf16_length(message.plain_text) <= MAX_MESSAGE_LENGTH
    assert error in "".join(message.plain_text for message in errors)


async def test_retry_after_waits_what_telegram_asks(
    fake: FakeTelegram, make_notifier: MakeNotifier, virtual_time: VirtualTime
) -> None:
    fake.script("sendMessage", retry_after(2))
    sleep = RecordingSleep(virtual_time)
    await make_notifier(sleep=sleep, api="off").send(_digest(error=None))

    assert any(seconds >= 2 for seconds in sleep.calls)
    refused, accepted = (r for r in fake.requests if r.method == "sendMessage")
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.received_at - refused.received_at >= 2
    assert len(fake.messages(CHAT)) == 1


async def test_flood_control_longer_than_allowed_fails_the_message(
    fake: FakeTelegram, make_notifier: MakeNotifier
) -> None:
    fake.script("sendMessage", retry_after(600))
    with pytest.raises(NotificationError, match="asked chat 42 to wait 600s more") as raised:
        await make_notifier(sleep=RecordingSleep(), max_wait=60).send(_digest())
    assert "(0 of 3 messages delivered)" in str(raised.value)
    assert fake.messages(CHAT) == []


async def test_a_blocked_bot_is_a_clear_failure_and_stops_the_rest(
    fake: FakeTelegram, make_notifier: MakeNotifier
) -> None:
    fake.block(CHAT)
    with pytest.raises(NotificationError) as raised:
        await make_notifier().send(_digest())
    text = str(raised.value)
    assert "Telegram refused to deliver to chat 42: Forbidden: bot was blocked by the user" in text
    assert "(0 of 3 messages delivered)" in text
    assert fake.count("sendMessage") == 1  # not retried, nothing after it


async def test_a_refused_text_is_sent_once_more_as_plain_text(
    fake: FakeTelegram, make_notifier: MakeNotifier
) -> None:
    fake.script("sendMessage", bad_request("can't parse entities: something"))
    await make_notifier(api="off").send(_digest(error=None))
    (message,) = fake.messages(CHAT)
    assert message.parse_mode is None
    assert message.text.startswith("✅ Summary — alice\nRun ")  # the plain text, no tags
    assert "<b>" not in message.text
    assert fake.count("sendMessage") == 2


async def test_a_text_refused_twice_fails_without_a_third_try(
    fake: FakeTelegram, make_notifier: MakeNotifier
) -> None:
    fake.script(
        "sendMessage", bad_request("message is too long"), bad_request("message is too long")
    )
    with pytest.raises(
        NotificationError, match="refused the message for chat 42: Message is too long"
    ):
        await make_notifier().send(_digest())
    assert fake.count("sendMessage") == 2


async def test_an_unknown_chat_fails_at_once(
    fake: FakeTelegram, make_notifier: MakeNotifier
) -> None:
    with pytest.raises(NotificationError, match="does not know chat 777 \\(chat not found\\)"):
        await make_notifier(chat_id="777").send(_digest())
    assert fake.count("sendMessage") == 1


async def test_network_errors_are_retried_a_bounded_number_of_times(
    fake: FakeTelegram, make_notifier: MakeNotifier
) -> None:
    fake.script("sendMessage", server_error(502), disconnect())
    sleep = RecordingSleep()
    await make_notifier(sleep=sleep, api="off").send(_digest(error=None))
    assert len(fake.messages(CHAT)) == 1
    assert fake.count("sendMessage") == 3

    fake.script("sendMessage", server_error(502), server_error(502), server_error(502))
    with pytest.raises(NotificationError, match="after 3 attempts"):
        await make_notifier(sleep=sleep, api="off").send(_digest(error=None))
    assert fake.count("sendMessage") == 6


async def test_a_timeout_is_retried(fake: FakeTelegram, make_notifier: MakeNotifier) -> None:
    # The first answer comes too late: the message did arrive, and the retry shows it again
    # (documented: a duplicate notice is better than a lost one).
    fake.script("sendMessage", delay(2.0))
    await make_notifier(timeout=0.5, api="off").send(_digest(error=None))
    assert fake.count("sendMessage") == 2
    assert len(fake.messages(CHAT)) == 2


async def test_a_refused_token_is_named_but_never_shown(
    fake: FakeTelegram, make_notifier: MakeNotifier
) -> None:
    other = "987654321:BBHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
    with pytest.raises(NotificationError) as raised:
        await make_notifier(token=other).send(_digest())
    assert "Telegram refused the bot token (Unauthorized)" in str(raised.value)
    assert other not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
    assert fake.count("sendMessage") == 0


async def test_check_reaches_the_chat_without_sending(
    fake: FakeTelegram, make_notifier: MakeNotifier
) -> None:
    assert await make_notifier().check() == "bot @tradecore_test_bot can write to chat 42 (private)"
    with pytest.raises(NotificationError, match="chat not found"):
        await make_notifier(chat_id="777").check()
    assert fake.count("sendMessage") == 0


async def test_the_test_message(fake: FakeTelegram, make_notifier: MakeNotifier) -> None:
    await make_notifier(language="fr").send_test("alice")
    (message,) = fake.messages(CHAT)
    assert "Message de test de tradecore pour alice" in message.plain_text
    assert TOKEN not in message.text


async def test_a_migrated_group_names_its_new_chat_id(
    fake: FakeTelegram, make_notifier: MakeNotifier
) -> None:
    fake.script("sendMessage", chat_migrated(-100999))
    with pytest.raises(NotificationError) as raised:
        await make_notifier().send(_digest())
    assert "chat 42 became a supergroup with the id -100999; set chat_id=-100999" in str(
        raised.value
    )
    assert fake.count("sendMessage") == 1


async def test_an_unreachable_server_is_said_plainly() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = TelegramConfig.parse(
        {"chat_id": CHAT, "api_url": f"http://127.0.0.1:{port}"}, {"bot_token": Secret(TOKEN)}
    )
    sleep = RecordingSleep()
    with pytest.raises(NotificationError) as raised:
        await TelegramNotifier(config, timeout=1.0, sleep=sleep).send(_digest())
    text = str(raised.value)
    assert text.startswith(f"Telegram could not be reached at http://127.0.0.1:{port} after 3 ")
    assert "refused the message" not in text
    assert TOKEN not in text
    assert sleep.calls == [1.0, 2.0]
