"""A fake Telegram Bot API on loopback and Telegram notifiers pointed at it, on one virtual clock.

The notifier's pacer, its waits and the fake's clock (which stamps each request and enforces the
one-message-a-second flood limit) all read :class:`VirtualTime`: a wait moves it on at once. So
pacing is checked exactly, in no time, whatever the machine's load; only network timeouts stay
in real time.
"""

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


class VirtualTime:
    """A monotonic clock that only moves when told to (by a :class:`RecordingSleep`)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        """The current virtual time, in seconds."""
        return self.now


class RecordingSleep:
    """``asyncio.sleep`` that remembers what it was asked and returns at once, moving ``time``
    (when given) on by the seconds asked."""

    def __init__(self, time: VirtualTime | None = None) -> None:
        self.time = time
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.time is not None:
            self.time.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@pytest.fixture
def virtual_time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def fake(virtual_time: VirtualTime) -> FakeTelegram:
    # Telegram's one message per second per chat, measured on the notifier's own clock.
    return FakeTelegram(
        tokens={TOKEN},
        chats={CHAT: "private"},
        min_interval=1.0,
        strict_ampersand=True,
        clock=virtual_time.monotonic,
    )


@pytest.fixture
def telegram_url(fake: FakeTelegram) -> Iterator[str]:
    with fake.serve() as url:
        yield url


MakeNotifier = Callable[..., TelegramNotifier]


@pytest.fixture
def make_notifier(telegram_url: str, virtual_time: VirtualTime) -> MakeNotifier:
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
            # A fresh pacer: no slot left over from another test.
            pacer=Pacer(virtual_time.monotonic),
            sleep=sleep or RecordingSleep(virtual_time),
        )

    return make
