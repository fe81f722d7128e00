"""A Telegram target's settings: clear errors that never show the token."""

from __future__ import annotations

import pytest

from tradecore.domain import DigestSection, Secret
from tradecore.errors import ConfigurationError
from tradecore_adapters.telegram.config import Language, MessageMode, TelegramConfig

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"


def _parse(secrets: dict[str, str] | None = None, **settings: str) -> TelegramConfig:
    values = {"bot_token": TOKEN} if secrets is None else secrets
    return TelegramConfig.parse(settings, {k: Secret(v) for k, v in values.items()})


def test_defaults() -> None:
    config = _parse(chat_id="42")
    assert config.chat_id == "42"
    assert config.language is Language.EN
    assert config.mode(DigestSection.SUMMARY) is MessageMode.ON
    assert config.mode(DigestSection.API) is MessageMode.SILENT
    assert config.mode(DigestSection.ERRORS) is MessageMode.ON
    assert config.bot_base_url == "https://api.telegram.org/bot"
    assert TOKEN not in repr(config)


def test_every_choice_is_read() -> None:
    config = _parse(
        chat_id="-1001234567890",
        language="fr",
        summary="silent",
        api="off",
        errors="on",
        api_url="http://127.0.0.1:8081/",
    )
    assert config.language is Language.FR
    assert config.mode(DigestSection.SUMMARY) is MessageMode.SILENT
    assert config.mode(DigestSection.API) is MessageMode.OFF
    assert config.bot_base_url == "http://127.0.0.1:8081/bot"


@pytest.mark.parametrize(
    ("secrets", "settings", "message"),
    [
        ({}, {"chat_id": "42"}, "no bot token; set TELEGRAM_BOT_TOKEN"),
        (None, {}, "no chat id; set TELEGRAM_CHAT_ID"),
        (None, {"chat_id": "my chat"}, "chat_id must be a number"),
        (None, {"chat_id": "42", "language": "de"}, "'language' must be one of en, fr"),
        (None, {"chat_id": "42", "summary": "loud"}, "'summary' must be one of on, silent, off"),
        (None, {"chat_id": "42", "colour": "red"}, "unknown setting(s) colour"),
        (None, {"chat_id": "42", "api_url": "ftp://x"}, "'api_url' must be an http(s) URL"),
        (None, {"chat_id": "42", "api_url": "http://bots.example"}, "must use https"),
        ({"bot_token": "not-a-token-at-all"}, {"chat_id": "42"}, "does not look like a bot token"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(
    secrets: dict[str, str] | None, settings: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match="notifier 'telegram'") as raised:
        _parse(secrets, **settings)
    assert message in str(raised.value)
    assert "not-a-token-at-all" not in str(raised.value)
    assert TOKEN not in str(raised.value)
