"""The Telegram target's settings and secret, parsed into a frozen :class:`TelegramConfig`.

A target is one chat of one bot. The bot token is a secret (``TELEGRAM_BOT_TOKEN`` or stored
encrypted with the target); the chat id (``TELEGRAM_CHAT_ID``), the language, what to do with
each of the three messages and the Bot API server (``TELEGRAM_API_URL``, for a self-hosted one)
are settings.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping

from attrs import field, frozen

from tradecore.domain import DigestSection, Secret
from tradecore.errors import ConfigurationError
from tradecore.ports.factories import SecretSpec, SettingSpec, check_settings
from tradecore_adapters._urls import checked_server_url

__all__ = [
    "DEFAULT_API_URL",
    "SECRETS",
    "SETTINGS",
    "Language",
    "MessageMode",
    "TelegramConfig",
]

_OWNER = "notifier 'telegram'"
DEFAULT_API_URL = "https://api.telegram.org"
# Telegram's shape of a bot token: the bot's numeric id, a colon, then 30-odd url-safe characters.
_TOKEN = re.compile(r"\d{3,}:[\w-]{20,}")
# A chat id is a number (negative for groups and channels) or a channel's public @username.
_CHAT_ID = re.compile(r"-?\d{1,20}|@[A-Za-z][\w]{3,}")


class MessageMode(enum.StrEnum):
    """What to do with one of the three messages."""

    ON = "on"
    SILENT = "silent"  # delivered without a sound (Telegram's disable_notification)
    OFF = "off"


class Language(enum.StrEnum):
    """The languages a digest can be written in."""

    EN = "en"
    FR = "fr"


_MODES = tuple(mode.value for mode in MessageMode)

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        name="chat_id",
        description="The chat the digest goes to: a number (negative for a group) or a "
        "channel's @username. Send your bot a message, then read it from getUpdates.",
        required=True,
        env_var="TELEGRAM_CHAT_ID",
    ),
    SettingSpec(
        name="language",
        description="The digest's language: en (English) or fr (French).",
        default=Language.EN.value,
        choices=tuple(language.value for language in Language),
        env_var="TELEGRAM_LANGUAGE",
    ),
    SettingSpec(
        name="summary",
        description="The summary message: on, silent (no sound) or off.",
        default=MessageMode.ON.value,
        choices=_MODES,
    ),
    SettingSpec(
        name="api",
        description="The API responses message: on, silent (no sound) or off.",
        default=MessageMode.SILENT.value,
        choices=_MODES,
    ),
    SettingSpec(
        name="errors",
        description="The errors message (sent only when a step failed): on, silent or off.",
        default=MessageMode.ON.value,
        choices=_MODES,
    ),
    SettingSpec(
        name="api_url",
        description="The Bot API server, for a self-hosted one (default: Telegram's own).",
        default=DEFAULT_API_URL,
        env_var="TELEGRAM_API_URL",
    ),
)

SECRETS: tuple[SecretSpec, ...] = (
    SecretSpec(
        name="bot_token",
        description="The bot's token from @BotFather (123456:ABC-DEF…)",
        env_var="TELEGRAM_BOT_TOKEN",
    ),
)


def _api_url(raw: str) -> str:
    # The bot token travels in the path of every request: https unless the server is local.
    return checked_server_url(raw, owner=_OWNER, setting="api_url", example=DEFAULT_API_URL)


def _chat_id(raw: str) -> str:
    chat = raw.strip()
    if not _CHAT_ID.fullmatch(chat):
        raise ConfigurationError(
            f"{_OWNER}: chat_id must be a number (e.g. 123456789 or -1001234567890) or a "
            f"channel's @username; got {raw!r}"
        )
    return chat


def _token(secret: Secret) -> Secret:
    if not _TOKEN.fullmatch(secret.reveal().strip()):
        # The message never quotes the value: it is a secret even when malformed.
        raise ConfigurationError(
            f"{_OWNER}: bot_token does not look like a bot token (digits, a colon, then the "
            "key @BotFather gave you)"
        )
    return Secret(secret.reveal().strip())


@frozen(kw_only=True)
class TelegramConfig:
    """One Telegram target, validated.

    :param modes: what to do with each of the three messages.
    :param api_url: the Bot API server, without a trailing slash.
    """

    bot_token: Secret = field(repr=False)
    chat_id: str
    language: Language = Language.EN
    modes: Mapping[DigestSection, MessageMode] = field(factory=dict)
    api_url: str = DEFAULT_API_URL

    @classmethod
    def parse(cls, settings: Mapping[str, str], secrets: Mapping[str, Secret]) -> TelegramConfig:
        """Check and parse a target's settings and secrets.

        :raises ConfigurationError: a setting is unknown or invalid, or the bot token or the chat
            id is missing; the message says which and never shows the token.
        """
        if "bot_token" not in secrets:
            raise ConfigurationError(
                f"{_OWNER}: no bot token; set TELEGRAM_BOT_TOKEN or store one with "
                "`tradecore notify add telegram`"
            )
        if not settings.get("chat_id", "").strip():
            raise ConfigurationError(
                f"{_OWNER}: no chat id; set TELEGRAM_CHAT_ID or give --setting chat_id=…"
            )
        resolved = check_settings(SETTINGS, settings, owner=_OWNER)
        return cls(
            bot_token=_token(secrets["bot_token"]),
            chat_id=_chat_id(resolved["chat_id"]),
            language=Language(resolved["language"]),
            modes={
                DigestSection.SUMMARY: MessageMode(resolved["summary"]),
                DigestSection.API: MessageMode(resolved["api"]),
                DigestSection.ERRORS: MessageMode(resolved["errors"]),
            },
            api_url=_api_url(resolved["api_url"]),
        )

    def mode(self, section: DigestSection) -> MessageMode:
        """What to do with ``section``'s message."""
        return self.modes.get(section, MessageMode.ON)

    @property
    def bot_base_url(self) -> str:
        """The Bot API's method prefix, to which python-telegram-bot appends the token."""
        return f"{self.api_url}/bot"
