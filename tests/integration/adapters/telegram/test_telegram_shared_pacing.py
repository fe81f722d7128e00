"""Two Telegram notifiers that share nothing but the database (two engines, as two processes
would have) keep to one message a second in one chat together
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this), on the
virtual clock the fake Bot API also reads: it refuses (429) a message less than a second after
the previous one."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.fakes.telegram_server import FakeTelegram
from tests.integration.adapters.telegram.conftest import (
    CHAT,
    TOKEN,
    RecordingSleep,
    VirtualTime,
)

from tradecore.domain import Secret
from tradecore.ports import NotifierContext
from tradecore.testing import FakeClock
from tradecore_adapters.sqlalchemy import SqlSharedLimits, create_engine
from tradecore_adapters.sqlalchemy.migrate import upgrade
from tradecore_adapters.telegram._delivery import SharedPacer
from tradecore_adapters.telegram.config import TelegramConfig
from tradecore_adapters.telegram.notifier import TelegramNotifier
from tradecore_adapters.telegram.plugin import tradecore_register_notifiers

EPOCH = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def engines(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'limits.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    await upgrade(url)
    first, second = create_engine(url), create_engine(url)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


async def test_two_notifiers_on_two_engines_send_one_message_a_second_to_one_chat(
    fake: FakeTelegram,
    telegram_url: str,
    virtual_time: VirtualTime,
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    def notifier(engine: AsyncEngine) -> TelegramNotifier:
        config = TelegramConfig.parse(
            {"chat_id": CHAT, "api_url": telegram_url}, {"bot_token": Secret(TOKEN)}
        )
        now = lambda: EPOCH + timedelta(seconds=virtual_time.now)  # noqa: E731
        return TelegramNotifier(
            config,
            timeout=5.0,
            pacer=SharedPacer(SqlSharedLimits(engine), now),
            sleep=RecordingSleep(virtual_time),
        )

    first, second = notifier(engines[0]), notifier(engines[1])
    for _ in range(4):  # in turn, at the same instant: only the shared slots space them
        await first.send_test("alice")
        await second.send_test("bob")

    messages = fake.messages(CHAT)
    assert len(messages) == 8
    gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(messages)]
    assert min(gaps) >= 1.0 - 1e-6, gaps
    assert gaps == pytest.approx([1.0] * 7), "one a second, no slower"
    assert fake.count("sendMessage", status=429) == 0, "never refused: paced together"


async def test_the_plugins_notifiers_pace_through_the_contexts_limits_on_its_clock(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    # As tradecore builds them: the plugin's factory, a NotifierContext with the limits and
    # the clock (whose sleep the notifier then uses); the fake Bot API reads the same clock.
    clock = FakeClock(EPOCH)
    fake = FakeTelegram(
        tokens={TOKEN}, chats={CHAT: "private"}, min_interval=1.0,
        clock=lambda: clock.now().timestamp(),
    )  # fmt: skip
    (factory,) = tradecore_register_notifiers()
    with fake.serve() as url:
        first, second = (
            factory.create(
                NotifierContext(
                    clock=clock,
                    settings={"chat_id": CHAT, "api_url": url},
                    secrets={"bot_token": Secret(TOKEN)},
                    limits=SqlSharedLimits(engine),
                )
            )
            for engine in engines
        )
        for _ in range(3):
            await first.send_test("alice")  # type: ignore[attr-defined]
            await second.send_test("bob")  # type: ignore[attr-defined]

    messages = fake.messages(CHAT)
    gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(messages)]
    assert gaps == pytest.approx([1.0] * 5)
    assert fake.count("sendMessage", status=429) == 0
