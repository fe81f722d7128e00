"""The last line of defence against secrets in logs: a :class:`logging.Filter` that masks them.

Secrets are kept out of log messages by construction (:class:`~tradecore.domain.Secret` never
shows its value; engines hide bound parameters), but a vendor library may still log a URL or a
header. :class:`RedactingFilter` masks, in every record's message and exception text:

- every value registered with :func:`register_secret` (the SQL repository registers each secret
  it decrypts, so whatever a broker library logs with it is masked too);
- well-known shapes: Telegram bot tokens (``bot123:ABC…`` in URLs, or bare), ``signature=`` and
  ``timestamp=`` query parameters of signed requests, ``Authorization`` and ``X-MBX-APIKEY``
  header values, and ``access_token`` / ``refresh_token`` fields.

:func:`tradecore_adapters.logging_setup.configure_logging` attaches it to every handler of the
root logger and keeps ``httpx``/``httpcore`` quiet: call it to set up logging as the command line
does. This module imports only the domain's rule on secret length, so every adapter can use it.
"""

from __future__ import annotations

import logging
import re
import threading

from tradecore.domain.secret import MIN_SECRET_LENGTH

__all__ = ["MASK", "RedactingFilter", "guard_logger", "redact", "register_secret"]

MASK = "**********"
_PATTERNS = (
    re.compile(r"(bot)\d+:[\w-]{20,}"),
    re.compile(r"()(?<![\w:])\d{5,}:[\w-]{30,}"),  # a bare Telegram bot token
    re.compile(r"(?i)((?:signature|timestamp)=)[^&\s\"']+"),
    re.compile(
        r"(?i)((?:authorization|x-mbx-apikey)[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?)[^\s,\"']+"
    ),
    re.compile(
        r"(?i)((?:access_token|refresh_token|client_secret)[\"']?\s*[:=]\s*[\"']?)[^\s,&\"']+"
    ),
)

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None


def register_secret(value: str) -> None:
    """Mask ``value`` wherever it appears in a log record from now on.

    A value shorter than :data:`~tradecore.domain.secret.MIN_SECRET_LENGTH` (stored before such
    secrets were refused) is masked only where it stands as a whole word, never inside another
    word; a blank one is ignored.
    """
    global _secret_pattern
    if not value.strip() or value in _secrets:
        return
    with _lock:
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(_alternative(secret) for secret in ordered))


def _alternative(secret: str) -> str:
    if len(secret) >= MIN_SECRET_LENGTH:
        return re.escape(secret)
    return rf"(?<!\w){re.escape(secret)}(?!\w)"


def redact(text: str) -> str:
    """``text`` with every registered secret and every known secret shape masked."""
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for shape in _PATTERNS:
        text = shape.sub(lambda match: match.group(1) + MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Mask secrets in each record's message and exception text (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def guard_logger(name: str) -> None:
    """Give the logger ``name`` a :class:`RedactingFilter` of its own (once), so its records are
    masked whatever handlers catch them: a library user's, a test's ``caplog``, or ours."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
