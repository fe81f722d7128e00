"""The Telegram notifier: a cycle's digest as up to three chat messages.

Each :meth:`TelegramNotifier.send` opens one :class:`telegram.Bot` as an async context manager
(python-telegram-bot's standalone pattern; a ``Bot`` is never reused across event loops), sends
the summary, the API responses and, when a step failed, the errors, each split below Telegram's
length limit and delivered by :class:`~tradecore_adapters.telegram._delivery.ChatSender`.

The bot token travels in the path of every request URL: it is registered with the log redaction
and the ``httpx`` logger (which logs each URL at INFO) gets a redacting filter of its own, so
even a DEBUG log shows it masked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from telegram import Bot
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from tradecore.domain import Digest
from tradecore.errors import NotificationError
from tradecore.ports import NotifierContext
from tradecore_adapters.logging_setup import tame_vendor_logger
from tradecore_adapters.redaction import MASK, guard_logger, redact, register_secret
from tradecore_adapters.telegram._delivery import (
    PACER,
    ChatSender,
    Pacing,
    SharedPacer,
    ptb_quietly,
    telegram_failure,
)
from tradecore_adapters.telegram._render import (
    plain_text,
    render_digest,
    render_test_message,
)
from tradecore_adapters.telegram._split import split_message
from tradecore_adapters.telegram._texts import texts_for
from tradecore_adapters.telegram.config import MessageMode, TelegramConfig

__all__ = ["TelegramNotifier"]

# httpx logs "HTTP Request: POST https://…/bot<token>/…" at INFO; python-telegram-bot logs
# "Set Bot API URL: …/bot<token>" at DEBUG, and its request classes may quote URLs.
_LOGGERS_WITH_URLS = (
    "httpx",
    "telegram.Bot",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
)
# Their warnings and errors are one line each (a proxy's 502 page once came with a traceback, at
# ERROR, on every attempt); the whole record is logged at DEBUG.
_VENDOR_LOGGERS = _LOGGERS_WITH_URLS[1:]


class TelegramNotifier:
    """Send digests to one Telegram chat (see the module docstring).

    :param config: the target's bot, chat, language and message modes.
    :param name: the target's name, which the run's notify step shows.
    :param timeout: seconds allowed to connect, send and read each request.
    :param sleep: how to wait between messages and retries (tests pass a recorder).
    :param pacer: who hands out send times: the process's :class:`Pacer` by default, a
        :class:`SharedPacer` to pace with every process on the deployment's database.
    """

    def __init__(
        self,
        config: TelegramConfig,
        *,
        name: str = "telegram",
        timeout: float = 10.0,
        attempts: int = 3,
        max_wait: float = 120.0,
        pacer: Pacing = PACER,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._config = config
        self._name = name
        self._timeout = timeout
        self._attempts = attempts
        self._max_wait = max_wait
        self._pacer = pacer
        self._sleep = sleep
        register_secret(config.bot_token.reveal())
        for logger in _LOGGERS_WITH_URLS:
            guard_logger(logger)
        for logger in _VENDOR_LOGGERS:
            tame_vendor_logger(logger)

    @classmethod
    def from_context(cls, context: NotifierContext, *, name: str = "telegram") -> TelegramNotifier:
        """Build it from a plugin factory's context: paced with every process through
        ``context.limits`` when given (see :class:`SharedPacer`), within this process otherwise.

        :raises ConfigurationError: the settings or the token are missing or invalid.
        """
        config = TelegramConfig.parse(context.settings, context.secrets)
        if context.limits is None:
            return cls(config, name=name)
        # Slots are times of the context's clock: wait for them on that clock too.
        return cls(
            config,
            name=name,
            pacer=SharedPacer(context.limits, context.clock.now),
            sleep=context.clock.sleep,
        )

    @property
    def name(self) -> str:
        """The target's name (``telegram`` unless the user named it)."""
        return self._name

    @property
    def config(self) -> TelegramConfig:
        """The target's configuration (its repr never shows the token)."""
        return self._config

    def __repr__(self) -> str:
        return f"TelegramNotifier(name={self._name!r}, chat_id={self._config.chat_id!r})"

    async def send(self, digest: Digest) -> None:
        """Send the digest's messages in order: summary, API responses, errors (when any).

        A message whose mode is ``off`` is left out; ``silent`` ones arrive without a sound.

        :raises NotificationError: a message could not be delivered (the ones after it are not
            sent); the text says why and how many were delivered.
        """
        texts = texts_for(self._config.language)
        batches = [
            (part, self._config.mode(rendered.section) is MessageMode.SILENT)
            for rendered in render_digest(digest, texts)
            if self._config.mode(rendered.section) is not MessageMode.OFF
            for part in split_message(rendered.lines)
            if plain_text(part).strip()  # Telegram refuses an empty text
        ]
        if not batches:
            return
        async with self._sender() as sender:
            for sent, (part, silent) in enumerate(batches):
                try:
                    await sender.send(part, plain=plain_text(part), silent=silent)
                except NotificationError as exc:
                    raise NotificationError(
                        f"{exc} ({sent} of {len(batches)} messages delivered)"
                    ) from None

    async def send_test(self, user_name: str) -> None:
        """Send one short test message to the chat.

        :raises NotificationError: it could not be delivered.
        """
        text = render_test_message(user_name, texts_for(self._config.language))
        async with self._sender() as sender:
            await sender.send(text, plain=plain_text(text), silent=False)

    async def check(self) -> str:
        """Check that the token is valid and the chat reachable, without sending anything.

        :returns: what was found (``bot @name can write to chat 42 (private)``).
        :raises NotificationError: the token was refused or the chat cannot be reached.
        """
        async with self._bot() as bot:
            try:
                with ptb_quietly():
                    chat = await bot.get_chat(chat_id=self._config.chat_id)
            except TelegramError as exc:
                raise self._failure(exc) from None
            return f"bot @{bot.username} can write to chat {self._config.chat_id} ({chat.type})"

    def _masked(self, text: str) -> str:
        return redact(text.replace(self._config.bot_token.reveal(), MASK))

    def _failure(self, exc: TelegramError) -> NotificationError:
        return telegram_failure(
            exc, chat_id=self._config.chat_id, token=self._config.bot_token.reveal()
        )

    @asynccontextmanager
    async def _sender(self) -> AsyncIterator[ChatSender]:
        async with self._bot() as bot:
            yield ChatSender(
                bot=bot,
                chat_id=self._config.chat_id,
                token=self._config.bot_token.reveal(),
                attempts=self._attempts,
                max_wait=self._max_wait,
                pacer=self._pacer,
                sleep=self._sleep,
            )

    @asynccontextmanager
    async def _bot(self) -> AsyncIterator[Bot]:
        bot = Bot(
            self._config.bot_token.reveal(),
            base_url=self._config.bot_base_url,
            request=self._request(),
            get_updates_request=self._request(),
        )
        try:
            await self._initialise(bot)
            yield bot
        finally:
            with ptb_quietly():
                await bot.shutdown()

    async def _initialise(self, bot: Bot) -> None:
        # Bot.initialize() asks getMe: the token is checked before any message is sent.
        for attempt in range(1, self._attempts + 1):
            try:
                with ptb_quietly():
                    await bot.initialize()
                return
            except BadRequest as exc:
                raise self._failure(exc) from None
            except NetworkError as exc:
                if attempt == self._attempts:
                    raise NotificationError(
                        f"Telegram could not be reached at {self._config.api_url} after "
                        f"{attempt} attempts: {self._masked(exc.message)}"
                    ) from None
                await self._sleep(float(attempt))
            except TelegramError as exc:
                raise self._failure(exc) from None

    def _request(self) -> HTTPXRequest:
        return HTTPXRequest(
            connection_pool_size=1,
            connect_timeout=self._timeout,
            read_timeout=self._timeout,
            write_timeout=self._timeout,
            pool_timeout=self._timeout,
        )
