"""Reading Binance's JSON strictly: one value at a time, with a short description of what was
wrong and never the payload itself.

Decimals come from Binance's decimal strings exactly (``Decimal("4.00000100")`` keeps its digits
and exponent); JSON integers are accepted for decimals too, JSON floats never. Times are epoch
milliseconds, turned into aware UTC datetimes without float rounding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from tradecore.errors import MalformedResponse

__all__ = [
    "BROKER",
    "Bad",
    "array",
    "decimal",
    "decimal_field",
    "error_body",
    "integer",
    "kind",
    "malformed",
    "missing",
    "non_negative",
    "object_",
    "positive",
    "text",
    "time",
]

BROKER: Final = "binance"

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS: Final = timedelta(milliseconds=1)
_MAX_MESSAGE: Final = 500


# --- values -------------------------------------------------------------------------


class Bad(Exception):
    """One field is unusable; the caller adds the endpoint and row before raising."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key!r} {problem}")


def malformed(where: str, detail: object) -> MalformedResponse:
    return MalformedResponse(f"Binance {where}: {detail}", broker=BROKER)


def kind(value: object) -> str:
    """A short description of a value that never quotes more than a few characters of it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        shown = value if len(value) <= 24 else value[:24] + "…"
        return f"the text {shown!r}"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a JSON float"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def decimal(value: object, key: str) -> Decimal:
    """A finite Decimal from a JSON decimal string (exactly) or JSON integer; never a float."""
    if type(value) is str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise Bad(key, f"is {kind(value)}, not a decimal number") from None
        # Decimal() also takes surrounding whitespace, "1_000" and non-ASCII digits; Binance
        # sends none of those, so they mean the payload is not what we think it is.
        if (
            number.is_finite()
            and value.isascii()
            and "_" not in value
            and value[0] > " "
            and value[-1] > " "
        ):
            return number
        raise Bad(key, f"is {kind(value)}, not a finite decimal number")
    if type(value) is int:
        return Decimal(value)
    raise Bad(key, f"is {kind(value)}; decimals must be JSON strings")


def non_negative(value: object, key: str) -> Decimal:
    number = decimal(value, key)
    if number < 0:
        raise Bad(key, "is negative")
    return number


def positive(value: object, key: str) -> Decimal:
    number = decimal(value, key)
    if number <= 0:
        raise Bad(key, "is not greater than zero")
    return number


def integer(value: object, key: str) -> int:
    if type(value) is not int:
        raise Bad(key, f"is {kind(value)}, not an integer")
    return value


def text(value: object, key: str) -> str:
    if type(value) is not str or not value:
        raise Bad(key, f"is {kind(value)}, not a non-empty string")
    return value


def time(value: object, key: str) -> datetime:
    """Epoch milliseconds (a JSON integer) as an aware UTC datetime, exactly."""
    if type(value) is not int:
        raise Bad(key, f"is {kind(value)}, not epoch milliseconds")
    try:
        # Integer microsecond arithmetic: equal to ``_EPOCH + timedelta(milliseconds=value)``
        # for every int, and about twice as fast on the hot path.
        return _EPOCH + _ONE_MS * value
    except OverflowError:
        raise Bad(key, "is out of the datetime range") from None


def object_(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise malformed(where, f"expected a JSON object, got {kind(value)}")
    return value


def array(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise malformed(where, f"expected a JSON array, got {kind(value)}")
    return value


def missing(exc: KeyError) -> str:
    return f"missing {exc.args[0]!r}" if exc.args else "missing a field"


def decimal_field(payload: Mapping[str, object], key: str, where: str) -> Decimal:
    """``payload[key]`` as an exact, finite Decimal; :class:`MalformedResponse` otherwise."""
    if not isinstance(payload, Mapping):
        raise malformed(where, f"expected a JSON object, got {kind(payload)}")
    try:
        return decimal(payload[key], key)
    except KeyError:
        raise malformed(where, f"missing {key!r}") from None
    except Bad as exc:
        raise malformed(where, exc) from None


# --- errors -------------------------------------------------------------------------------------


def error_body(content: bytes) -> tuple[int | None, str | None]:
    """``(code, msg)`` of a Binance error body such as ``{"code": -1121, "msg": "Invalid symbol."}``.

    Anything else (HTML from a proxy, an empty body, bad JSON, another shape) gives
    ``(None, None)``; a body with only one of the two gives that one. Never raises.
    """
    try:
        body = json.loads(content)
    except (ValueError, TypeError, RecursionError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    code = body.get("code")
    message = body.get("msg")
    return (
        code if type(code) is int else None,
        message[:_MAX_MESSAGE] if isinstance(message, str) else None,
    )
