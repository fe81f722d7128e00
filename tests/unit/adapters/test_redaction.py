"""The redacting log filter: registered secrets and known secret shapes never reach a log line."""

from __future__ import annotations

import logging

import pytest

from tradecore.domain.secret import MIN_SECRET_LENGTH
from tradecore_adapters.redaction import (
    MASK,
    RedactingFilter,
    guard_logger,
    redact,
    register_secret,
)


def test_a_registered_secret_is_masked_wherever_it_appears() -> None:
    register_secret("s3cr3t-value-for-redaction")
    assert redact("key=s3cr3t-value-for-redaction;") == f"key={MASK};"


def test_a_short_value_is_masked_only_as_a_whole_word_so_ordinary_words_survive() -> None:
    # Secrets this short are refused when added; one stored before must not garble every line.
    register_secret("qz")
    register_secret("q-z")
    assert redact("BrokerError qzx xqz qz1 q-zx") == "BrokerError qzx xqz qz1 q-zx"
    assert redact("key=qz&x='q-z' (qz)") == f"key={MASK}&x='{MASK}' ({MASK})"
    register_secret("   ")
    assert redact("a   b") == "a   b"


def test_a_value_of_the_minimum_length_is_masked_inside_words_too() -> None:
    register_secret("zq" * (MIN_SECRET_LENGTH // 2))
    assert redact("xzqzqzqzqy") == f"x{MASK}y"


@pytest.mark.parametrize(
    ("line", "kept", "hidden"),
    [
        (
            "POST https://api.telegram.org/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage",
            "api.telegram.org/bot",
            "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        ),
        ("GET /api/v3/order?symbol=BTCUSDT&signature=abcdef0123", "symbol=BTCUSDT", "abcdef0123"),
        ("headers: {'X-MBX-APIKEY': 'vmPUZE6mv9SD5VNHk4'}", "X-MBX-APIKEY", "vmPUZE6mv9SD5VNHk4"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y", "Authorization", "eyJhbGciOiJIUzI1NiJ9"),
        ('{"refresh_token": "rt-1234567", "x": 1}', "refresh_token", "rt-1234567"),
        (
            "TELEGRAM_BOT_TOKEN=123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw at 12:30:00",
            "at 12:30:00",
            "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        ),
    ],
)
def test_known_secret_shapes_are_masked(line: str, kept: str, hidden: str) -> None:
    masked = redact(line)
    assert kept in masked
    assert hidden not in masked
    assert MASK in masked


def test_the_filter_masks_arguments_and_exception_text(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("canary-in-an-exception-42")
    logger = logging.getLogger("tradecore.test.redaction")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        logger.debug("sending %s", "canary-in-an-exception-42")
        try:
            raise RuntimeError("refused canary-in-an-exception-42")
        except RuntimeError:
            logger.exception("failed")
    assert "canary-in-an-exception-42" not in caplog.text
    assert caplog.text.count(MASK) >= 2


def test_a_guarded_logger_is_masked_whatever_handler_catches_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # caplog's handler has no RedactingFilter: only the logger's own filter can mask this.
    logger = logging.getLogger("tests.guarded.httpx")
    url = "https://api.telegram.org/bot123456:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0/sendMessage"
    guard_logger("tests.guarded.httpx")
    guard_logger("tests.guarded.httpx")  # once is enough: no second filter
    with caplog.at_level(logging.DEBUG, logger="tests.guarded.httpx"):
        logger.info("HTTP Request: POST %s", url)
    assert caplog.messages == [f"HTTP Request: POST https://api.telegram.org/bot{MASK}/sendMessage"]
    assert sum(isinstance(f, RedactingFilter) for f in logger.filters) == 1
