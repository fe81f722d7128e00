"""Saxo's error bodies read into a :class:`SaxoError`.

The gateway's shape, ``{"ErrorCode", "Message", "ModelState"?}`` or wrapped in ``ErrorInfo``, is
documented in Saxo's OpenAPI reference (https://www.developer.saxo/openapi/referencedocs); the
token endpoint's errors are OAuth's ``{"error", "error_description"}`` (RFC 6749, section 5.2).

Never raises, never quotes a body: one line, at most 300 characters, token-like runs masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from attrs import frozen

from tradecore_adapters.redaction import redact

# --- errors -------------------------------------------------------------------------------------

_MAX_MESSAGE: Final = 300
_MAX_CODE: Final = 80
_MAX_FIELDS: Final = 3
_WHITESPACE: Final = re.compile(r"\s+")
# Long runs of key/token characters with both letters and digits (JWTs, keys, refresh tokens).
_TOKEN_LIKE: Final = re.compile(r"[A-Za-z0-9+/=_\-.~|]{20,}")
_MASK: Final = "[redacted]"


def _mask_token(match: re.Match[str]) -> str:
    run = match.group(0)
    has_digit = any(c.isdigit() for c in run)
    has_letter = any(c.isalpha() for c in run)
    return _MASK if has_digit and has_letter else run


def _clean(message: str, limit: int = _MAX_MESSAGE) -> str:
    """One line, no token-like text, at most ``limit`` characters."""
    flat = _WHITESPACE.sub(" ", message).strip()
    flat = _TOKEN_LIKE.sub(_mask_token, redact(flat))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@frozen
class SaxoError:
    """What a Saxo error answer said.

    :param status: the HTTP status.
    :param code: Saxo's ``ErrorCode`` (or OAuth ``error``), when the body had one.
    :param message: the message in words: one line, at most 300 characters, no token-like text;
        never the raw body.
    """

    status: int
    code: str | None
    message: str


def _model_state(value: object) -> str:
    if not isinstance(value, dict):
        return ""
    parts: list[str] = []
    for field_name, problems in list(value.items())[:_MAX_FIELDS]:
        first = problems[0] if isinstance(problems, list) and problems else problems
        parts.append(f"{field_name}: {first}" if isinstance(first, str) else str(field_name))
    if len(value) > _MAX_FIELDS:
        parts.append(f"and {len(value) - _MAX_FIELDS} more")
    return "; ".join(parts)


def _error_source(body: Mapping[str, object]) -> tuple[object, object]:
    """``(code, message)`` from the first error shape the body has (see :func:`error_from`)."""
    info = body.get("ErrorInfo")
    if isinstance(info, dict) and info.get("ErrorCode") is not None:
        return info.get("ErrorCode"), info.get("Message")
    if body.get("ErrorCode") is not None:
        return body.get("ErrorCode"), body.get("Message")
    if body.get("error") is not None:
        return body.get("error"), body.get("error_description")
    orders = body.get("Orders")
    if isinstance(orders, list):
        for entry in orders:
            leg = entry.get("ErrorInfo") if isinstance(entry, dict) else None
            if isinstance(leg, dict) and leg.get("ErrorCode") is not None:
                return leg.get("ErrorCode"), leg.get("Message")
    return None, body.get("Message")


def error_from(status: int, content: bytes) -> SaxoError:
    """The :class:`SaxoError` of an error answer (gateway or token endpoint). Never raises.

    Reads ``{"ErrorCode", "Message", "ModelState"?}``, ``{"ErrorInfo": {...}}``, per-order
    ``{"Orders": [{"ErrorInfo": {...}}]}`` and OAuth ``{"error", "error_description"}``; the first
    few ``ModelState`` messages are appended. An empty, HTML or other non-JSON body (a 401 has
    none; a wrong URL answers an HTML 404 page) gives ``code`` ``None`` and ``"HTTP 404 with no
    JSON body"``.
    """
    try:
        body = json.loads(content, parse_float=Decimal, parse_constant=Decimal)
    except (ValueError, RecursionError, TypeError):
        return SaxoError(status, None, f"HTTP {status} with no JSON body")
    if not isinstance(body, dict):
        return SaxoError(status, None, f"HTTP {status} with an unrecognised JSON body")
    raw_code, raw_message = _error_source(body)
    code = _clean(raw_code, _MAX_CODE) if isinstance(raw_code, str) and raw_code.strip() else None
    message = raw_message if isinstance(raw_message, str) and raw_message.strip() else ""
    details = _model_state(body.get("ModelState"))
    if details:
        message = f"{message} ({details})" if message else details
    if not message:
        message = (
            f"HTTP {status} {code}"
            if code is not None
            else f"HTTP {status} with an unrecognised JSON body"
        )
    return SaxoError(status, code, _clean(message))
