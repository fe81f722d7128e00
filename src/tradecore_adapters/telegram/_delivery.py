"""Deliver messages to one chat the way Telegram wants them delivered.

- **In order, no faster than allowed**: one message per second per chat, one per three seconds in
  a group or channel (20 a minute), 30 a second per bot (``telegram.constants.FloodLimit``), shared by every
  sender of every process on the deployment's database (:class:`SharedPacer`, over
  :class:`~tradecore.ports.SharedLimits`), or of the process alone (:class:`Pacer`).
- **Flood control**: ``RetryAfter`` waits exactly what Telegram asks (plus a margin), for at most
  ``max_wait`` seconds in all; longer than that, the message fails.
- **Timeouts and network errors** are retried ``attempts`` times in all, with a growing pause.
  (A timed-out message may have arrived: a retry can then show it twice, which is better than
  never.)
- **BadRequest** is never retried as such: it means the text was refused (bad markup, too long),
  so the message is sent once more as plain text, and fails if that is refused too. "Chat not
  found" fails at once.
- **Forbidden** (the bot was blocked, removed from the group, or never allowed to write there),
  an invalid token and a migrated group fail with a sentence saying what to do.

Every failure is a :class:`~tradecore.errors.NotificationError` whose text is built here, never
python-telegram-bot's (which can quote the token), and masks the token in any case.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Protocol

from attrs import define, field
from telegram import Bot, LinkPreviewOptions
from telegram.constants import FloodLimit, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from tradecore.errors import NotificationError
from tradecore.ports import SharedLimits
from tradecore_adapters.redaction import MASK, redact

__all__ = [
    "ChatSender",
    "Pacer",
    "Pacing",
    "SharedPacer",
    "masked",
    "ptb_quietly",
    "telegram_failure",
]

_log = logging.getLogger("tradecore.notify.telegram")

_CHAT_INTERVAL = 1.0 / FloodLimit.MESSAGES_PER_SECOND_PER_CHAT
_GROUP_INTERVAL = 60.0 / FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP
_BOT_INTERVAL = 1.0 / FloodLimit.MESSAGES_PER_SECOND
_RETRY_MARGIN = 0.1  # what python-telegram-bot's own rate limiter adds to retry_after


@contextmanager
def ptb_quietly() -> Iterator[None]:
    """Run python-telegram-bot calls without its v22.2 deprecation of integer ``retry_after``
    (it warns on every ``RetryAfter`` it builds; we read the value as a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        yield


def _retry_after(exc: RetryAfter) -> float:
    with ptb_quietly():
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _chat_interval(chat_id: str) -> float:
    # Groups (negative ids) and channels (@username) take 20 a minute; private chats 1 a second.
    return _GROUP_INTERVAL if chat_id.startswith(("-", "@")) else _CHAT_INTERVAL


class Pacing(Protocol):
    """How a :class:`ChatSender` waits its turn: :class:`Pacer` or :class:`SharedPacer`."""

    async def wait_for(self, bot_id: str, chat_id: str) -> float:
        """Take the next slot for ``chat_id`` of bot ``bot_id``; the seconds to wait for it."""
        ...

    async def hold_chat(self, bot_id: str, chat_id: str, seconds: float) -> None:
        """Nothing more to ``chat_id`` for ``seconds`` (Telegram said to wait)."""
        ...


class Pacer:
    """Hands out send times so no chat and no bot goes faster than Telegram allows.

    Each sender reserves its slot before sending; slots are given in reservation order, so
    messages to one chat leave in the order they were reserved. Thread-safe, and shared by every
    event loop of the process (times are ``time.monotonic()``).
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def reserve(self, bot_id: str, chat_id: str) -> float:
        """Reserve the next slot for ``chat_id`` of bot ``bot_id``; return the seconds to wait."""
        chat_interval = _chat_interval(chat_id)
        chat_key, bot_key = f"{bot_id}/{chat_id}", bot_id
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next.get(chat_key, now), self._next.get(bot_key, now))
            self._next[chat_key] = slot + chat_interval
            self._next[bot_key] = slot + _BOT_INTERVAL
            return slot - now

    def hold(self, bot_id: str, chat_id: str, seconds: float) -> None:
        """Push ``chat_id``'s next slot ``seconds`` from now (Telegram said to wait)."""
        with self._lock:
            key = f"{bot_id}/{chat_id}"
            self._next[key] = max(self._next.get(key, 0.0), self._monotonic() + seconds)

    async def wait_for(self, bot_id: str, chat_id: str) -> float:
        """:meth:`reserve`, as :class:`Pacing` asks."""
        return self.reserve(bot_id, chat_id)

    async def hold_chat(self, bot_id: str, chat_id: str, seconds: float) -> None:
        """:meth:`hold`, as :class:`Pacing` asks."""
        self.hold(bot_id, chat_id, seconds)


PACER = Pacer()


class SharedPacer:
    """Hands out send times through :class:`~tradecore.ports.SharedLimits`, so every notifier of
    every process sharing the store (cron's ``tradecore run`` and a daemon, several daemons)
    keeps to one message a second per chat and 30 a second per bot together.

    Slots are taken per chat (``telegram:chat:<bot id>:<chat id>``), then per bot
    (``telegram:bot:<bot id>``) no earlier than the chat's slot; when the bot's slot is later,
    the chat's next slot is pushed after it, so a chat's messages stay an interval apart. The
    bot id is the token's public number, never the token.

    :param limits: the shared store.
    :param now: the current time (the notifier's clock).
    """

    def __init__(self, limits: SharedLimits, now: Callable[[], datetime]) -> None:
        self._limits = limits
        self._now = now

    async def wait_for(self, bot_id: str, chat_id: str) -> float:
        """Take the next slot for ``chat_id`` of bot ``bot_id``; the seconds to wait for it."""
        now = self._now()
        chat_interval = timedelta(seconds=_chat_interval(chat_id))
        chat_key = _chat_key(bot_id, chat_id)
        chat_slot = await self._limits.take_slot(chat_key, earliest=now, interval=chat_interval)
        slot = await self._limits.take_slot(
            f"telegram:bot:{bot_id}", earliest=chat_slot, interval=timedelta(seconds=_BOT_INTERVAL)
        )
        if slot > chat_slot:
            await self._limits.block(chat_key, until=slot + chat_interval, reason="pace")
        return max(0.0, (slot - now).total_seconds())

    async def hold_chat(self, bot_id: str, chat_id: str, seconds: float) -> None:
        """Nothing more to ``chat_id`` for ``seconds``, from any process."""
        until = self._now() + timedelta(seconds=seconds)
        await self._limits.block(_chat_key(bot_id, chat_id), until=until, reason="flood")


def _chat_key(bot_id: str, chat_id: str) -> str:
    return f"telegram:chat:{bot_id}:{chat_id}"


# python-telegram-bot appends the whole answer when it is not JSON (a proxy's HTML page).
_UNPARSED = re.compile(r"\. Parsing the server response .* failed\Z", re.DOTALL)


def masked(text: str, token: str) -> str:
    """``text`` with ``token`` and every known secret shape masked, on one line, without the
    body of an answer that was not the Bot API's JSON."""
    text = _UNPARSED.sub(" and not the Bot API's JSON (a proxy's page?)", text)
    return redact(" ".join(text.replace(token, MASK).split()))


def telegram_failure(exc: TelegramError, *, chat_id: str, token: str) -> NotificationError:
    """The :class:`NotificationError` that says what ``exc`` means for this chat and what to do."""
    reason = masked(exc.message, token)
    if isinstance(exc, InvalidToken):
        text = (
            "Telegram refused the bot token (Unauthorized); check TELEGRAM_BOT_TOKEN or the "
            "token stored with `tradecore notify add telegram`"
        )
    elif isinstance(exc, Forbidden):
        text = (
            f"Telegram refused to deliver to chat {chat_id}: {reason} (the bot was blocked, "
            "removed from the chat, or may not write there; send it /start or add it again)"
        )
    elif isinstance(exc, ChatMigrated):
        text = (
            f"chat {chat_id} became a supergroup with the id {exc.new_chat_id}; set "
            f"chat_id={exc.new_chat_id} (tradecore notify add telegram … --setting chat_id=…)"
        )
    elif isinstance(exc, BadRequest) and "chat not found" in exc.message.lower():
        text = (
            f"Telegram does not know chat {chat_id} (chat not found): check the chat id, and "
            "send the bot a message first (a bot may not start a conversation)"
        )
    else:
        text = f"Telegram refused the message for chat {chat_id}: {reason}"
    return NotificationError(text)


@define(kw_only=True)
class ChatSender:
    """Sends messages to one chat through an initialised :class:`telegram.Bot`.

    :param attempts: tries per message against timeouts and network errors.
    :param max_wait: the most seconds of flood control waited for one message.
    :param sleep: how to wait (tests pass a recorder).
    """

    bot: Bot
    chat_id: str
    token: str = field(repr=False)
    attempts: int = 3
    max_wait: float = 120.0
    backoff: float = 1.0
    pacer: Pacing = PACER
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def send(self, html: str, *, plain: str, silent: bool) -> None:
        """Send ``html``; if Telegram refuses its text, send ``plain`` once instead.

        :raises NotificationError: it could not be delivered; the message says why.
        """
        try:
            await self._deliver(html, html=True, silent=silent)
            return
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise telegram_failure(exc, chat_id=self.chat_id, token=self.token) from None
            _log.warning(
                "Telegram refused a message's HTML (%s); sending it again as plain text",
                masked(exc.message, self.token),
            )
        try:
            await self._deliver(plain, html=False, silent=silent)
        except BadRequest as exc:
            raise telegram_failure(exc, chat_id=self.chat_id, token=self.token) from None

    async def _deliver(self, text: str, *, html: bool, silent: bool) -> None:
        waited = 0.0
        failures = 0
        while True:
            pause = await self.pacer.wait_for(str(self.bot.id), self.chat_id)
            if pause > 0:
                await self.sleep(pause)
            try:
                with ptb_quietly():
                    await self.bot.send_message(
                        chat_id=self.chat_id,
                        text=text,
                        parse_mode=ParseMode.HTML if html else None,
                        disable_notification=silent,
                        link_preview_options=LinkPreviewOptions(is_disabled=True),
                    )
                return
            except RetryAfter as exc:
                seconds = _retry_after(exc) + _RETRY_MARGIN
                if waited + seconds > self.max_wait:
                    raise NotificationError(
                        f"Telegram's flood control asked chat {self.chat_id} to wait "
                        f"{seconds:.0f}s more, beyond the {self.max_wait:.0f}s allowed per message"
                    ) from None
                _log.info("Telegram flood control: waiting %.1fs before resending", seconds)
                waited += seconds
                await self.pacer.hold_chat(str(self.bot.id), self.chat_id, seconds)
            except BadRequest:
                raise
            except NetworkError as exc:  # TimedOut included; BadRequest handled above
                failures += 1
                if failures >= self.attempts:
                    raise NotificationError(
                        f"Telegram could not be reached for chat {self.chat_id} after "
                        f"{failures} attempts: {masked(exc.message, self.token)}"
                    ) from None
                _log.info(
                    "Telegram unreachable (%s); trying again", masked(exc.message, self.token)
                )
                await self.sleep(self.backoff * 2 ** (failures - 1))
            except TelegramError as exc:
                raise telegram_failure(exc, chat_id=self.chat_id, token=self.token) from None
