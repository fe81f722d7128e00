"""A fake Telegram Bot API on loopback and Telegram notifiers pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from tests.fakes.telegram_server import FakeTelegram

from tradecore.domain import Secret
from tradecore_adapters.telegram._delivery import Pacer
from tradecore_adapters.telegram.config import TelegramConfig
from tradecore_adapters.telegram.notifier import TelegramNotifier

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
CHAT = "42"


class RecordingSleep:
    """``asyncio.sleep`` that remembers what it was asked; ``real=False`` returns at once."""

    def __init__(self, *, real: bool = True) -> None:
        self.real = real
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.real:
            await asyncio.sleep(seconds)


@pytest.fixture
def fake() -> FakeTelegram:
    # Telegram's one message per second per chat, with a little slack for request jitter.
    return FakeTelegram(
        tokens={TOKEN}, chats={CHAT: "private"}, min_interval=0.9, strict_ampersand=True
    )


@pytest.fixture
def telegram_url(fake: FakeTelegram) -> Iterator[str]:
    with fake.serve() as url:
        yield url


MakeNotifier = Callable[..., TelegramNotifier]


@pytest.fixture
def make_notifier(telegram_url: str) -> MakeNotifier:
    """Build a notifier for the fake; keyword arguments are settings, ``token``, or the
    notifier's own options (``sleep``, ``timeout``, ``attempts``, ``max_wait``)."""

    def make(
        *,
        token: str = TOKEN,
        sleep: RecordingSleep | None = None,
        timeout: float = 5.0,
        attempts: int = 3,
        max_wait: float = 120.0,
        **settings: str,
    ) -> TelegramNotifier:
        config = TelegramConfig.parse(
            {"chat_id": CHAT, "api_url": telegram_url, **settings}, {"bot_token": Secret(token)}
        )
        return TelegramNotifier(
            config,
            timeout=timeout,
            attempts=attempts,
            max_wait=max_wait,
            pacer=Pacer(),  # a fresh one: no slot left over from another test
            sleep=sleep or RecordingSleep(),
        )

    return make
