"""Reading Saxo's JSON strictly, one value at a time, and writing order bodies exactly.

Saxo sends numbers as JSON numbers (``"OpenPrice": 1.32167``), so :func:`parse_json` reads every
JSON number with a fraction or exponent as a :class:`~decimal.Decimal` with the digits Saxo sent,
and every whole number as an ``int``; a ``float`` never appears. :func:`dumps_exact` writes
Decimals back as JSON numbers with exactly their digits. Times are ISO 8601 strings with ``Z`` or
an offset (Saxo sometimes sends 7 fractional digits), read as aware UTC datetimes.

Every reader takes ``what``: the endpoint (and item) being read, e.g. ``"GET
/port/v1/netpositions item 3"``. A value that is missing or not of the documented shape raises
:class:`~tradecore.errors.MalformedResponse` naming ``what`` and the field; the message only ever
describes a value (its kind and at most a few characters of it), never quotes a payload.

Fields and their shapes are those of Saxo's OpenAPI reference,
https://www.developer.saxo/openapi/referencedocs; the conventions of requests and answers (JSON,
the collection envelope and its ``__next`` paging) are at
https://www.developer.saxo/openapi/learn/openapi-request-response.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Final

from tradecore.errors import MalformedResponse

__all__ = [
    "BROKER",
    "boolean",
    "child",
    "day",
    "dumps_exact",
    "identifier",
    "integer",
    "items",
    "kind",
    "malformed",
    "next_link",
    "number",
    "obj",
    "opt_boolean",
    "opt_child",
    "opt_number",
    "opt_text",
    "opt_utc_time",
    "parse_json",
    "text",
    "utc_time",
]

BROKER: Final = "saxo"

_SHOWN: Final = 12  # at most this many characters of a string value appear in a message

# ISO 8601 date and time: "2017-05-02T10:25:03.1234567Z", "2016-09-02T10:25:00+02:00".
_DATE_TIME: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,12}))?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?",
    re.ASCII,
)
_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)


# --- messages -----------------------------------------------------------------------------------


def malformed(what: str, detail: str) -> MalformedResponse:
    """The error for an unusable answer to ``what``: ``"Saxo {what}: {detail}"`` (decisions use
    Saxo's error codes, never a message's text)."""
    return MalformedResponse(f"Saxo {what}: {detail}", broker=BROKER)


def kind(value: object) -> str:
    """A short description of ``value`` that never quotes more than a few characters of it (keys and
    tokens are long opaque strings)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        if not value:
            return "an empty string"
        if len(value) <= _SHOWN:
            return f"the text {value!r}"
        return f"a {len(value)}-character text starting {value[: _SHOWN // 2]!r}"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, Decimal):
        return "a number" if value.is_finite() else "a non-finite number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _missing(what: str, key: str) -> MalformedResponse:
    return malformed(what, f"{key!r} is missing")


def _wrong(what: str, key: str, value: object, expected: str) -> MalformedResponse:
    return malformed(what, f"{key!r} is {kind(value)}, not {expected}")


# --- documents ----------------------------------------------------------------------------------


def parse_json(content: bytes, *, what: str) -> object:
    """``content`` parsed as JSON: fractions as exact Decimals, whole numbers as ints.

    ``NaN`` and ``Infinity`` are read as non-finite Decimals, which every number reader rejects.

    :raises MalformedResponse: the content is not JSON (or not UTF-8).
    """
    try:
        return json.loads(content, parse_float=Decimal, parse_constant=Decimal)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise MalformedResponse(
            f"Saxo answered {what} with something that is not JSON", broker=BROKER
        ) from None


def obj(value: object, *, what: str) -> Mapping[str, object]:
    """``value`` as a JSON object (every Saxo answer and item is one).

    :raises MalformedResponse: it is not an object.
    """
    if not isinstance(value, dict):
        raise malformed(what, f"expected a JSON object, got {kind(value)}")
    return value


def items(payload: object, *, what: str) -> list[Mapping[str, object]]:
    """The ``Data`` list of a collection envelope ``{"__count"?, "__next"?, "Data": [...]}``.

    :raises MalformedResponse: no ``Data`` list, or an element that is not an object.
    """
    body = obj(payload, what=what)
    if "Data" not in body:
        raise _missing(what, "Data")
    data = body["Data"]
    if not isinstance(data, list):
        raise _wrong(what, "Data", data, "a list")
    return [obj(item, what=f"{what} item {index}") for index, item in enumerate(data)]


def next_link(payload: object) -> str | None:
    """The ``__next`` link of a collection page, or ``None`` on the last page.

    An absent, null or empty ``__next`` ends paging.

    :raises MalformedResponse: the page is not an object, or ``__next`` is not a string.
    """
    body = obj(payload, what="collection page")
    link = body.get("__next")
    if link is None or link == "":
        return None
    if not isinstance(link, str):
        raise _wrong("collection page", "__next", link, "a link")
    return link


def child(m: Mapping[str, object], key: str, *, what: str) -> Mapping[str, object]:
    """The nested object ``m[key]`` (a field group such as ``NetPositionBase``).

    :raises MalformedResponse: it is missing or not an object.
    """
    if key not in m:
        raise _missing(what, key)
    value = m[key]
    if not isinstance(value, dict):
        raise _wrong(what, key, value, "an object")
    return value


def opt_child(m: Mapping[str, object], key: str, *, what: str) -> Mapping[str, object] | None:
    """Like :func:`child`, but ``None`` when the field is absent or null (a field group that was not
    requested, e.g. ``DisplayAndFormat``)."""
    if m.get(key) is None:
        return None
    return child(m, key, what=what)


# --- values -------------------------------------------------------------------------------------


def text(m: Mapping[str, object], key: str, *, what: str) -> str:
    """``m[key]`` as a non-empty string (keys, ids, symbols, enum values).

    :raises MalformedResponse: missing, not a string, or empty.
    """
    if key not in m:
        raise _missing(what, key)
    value = m[key]
    if not isinstance(value, str) or not value.strip():
        raise _wrong(what, key, value, "a non-empty string")
    return value


def opt_text(m: Mapping[str, object], key: str, *, what: str) -> str | None:
    """``m[key]`` as a string; ``None`` when absent, null or empty (Saxo sends ``""`` for unset;
    optional fields such as ``ExternalReference``).

    :raises MalformedResponse: present but not a string.
    """
    value = m.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong(what, key, value, "a string")
    return value if value.strip() else None


def identifier(m: Mapping[str, object], key: str, *, what: str) -> str:
    """An id that Saxo sends as a string (an ``OrderId`` such as ``"5002749333"``) or, in some
    reports, a number (the trade report's ``TradeId``).

    :raises MalformedResponse: missing, empty, or neither a string nor a whole number.
    """
    value = m.get(key)
    if type(value) is int:
        return str(value)
    return text(m, key, what=what)


def _number(value: object, key: str, what: str) -> Decimal:
    if type(value) is int:
        return Decimal(value)
    if type(value) is Decimal:
        if not value.is_finite():
            raise malformed(what, f"{key!r} is not a finite number")
        return value
    if isinstance(value, float):
        raise malformed(what, f"{key!r} is a float; Saxo payloads must be read with parse_json")
    raise _wrong(what, key, value, "a number")


def number(m: Mapping[str, object], key: str, *, what: str) -> Decimal:
    """``m[key]`` as an exact, finite Decimal: a JSON number (int or Decimal from :func:`parse_json`).

    :raises MalformedResponse: missing, null, a boolean, a string, a float, NaN or infinite.
    """
    if key not in m:
        raise _missing(what, key)
    return _number(m[key], key, what)


def opt_number(m: Mapping[str, object], key: str, *, what: str) -> Decimal | None:
    """Like :func:`number`, but ``None`` when the field is absent or null (optional view fields,
    such as those of ``PositionView``)."""
    value = m.get(key)
    if value is None:
        return None
    return _number(value, key, what)


def integer(m: Mapping[str, object], key: str, *, what: str) -> int:
    """``m[key]`` as a whole JSON number (``Uic``).

    :raises MalformedResponse: missing, a boolean, or not a whole number written without a fraction.
    """
    if key not in m:
        raise _missing(what, key)
    value = m[key]
    if type(value) is not int:
        raise _wrong(what, key, value, "a whole number")
    return value


def boolean(m: Mapping[str, object], key: str, *, what: str) -> bool:
    """``m[key]`` as a JSON boolean (``IsTradable``).

    :raises MalformedResponse: missing or not a boolean.
    """
    if key not in m:
        raise _missing(what, key)
    value = m[key]
    if not isinstance(value, bool):
        raise _wrong(what, key, value, "a boolean")
    return value


def opt_boolean(m: Mapping[str, object], key: str, *, what: str) -> bool | None:
    """Like :func:`boolean`, but ``None`` when the field is absent or null."""
    if m.get(key) is None:
        return None
    return boolean(m, key, what=what)


def _time(value: object, key: str, what: str) -> datetime:
    if not isinstance(value, str):
        raise _wrong(what, key, value, "an ISO 8601 time")
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        raise _wrong(what, key, value, "an ISO 8601 time")
    year, month, day_, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if zulu is None and sign is None:
        raise malformed(what, f"{key!r} has no time zone (a naive time)")
    try:
        zone = (
            UTC
            if zulu is not None
            else timezone(
                (1 if sign == "+" else -1) * timedelta(hours=int(off_h), minutes=int(off_m))
            )
        )
        # Python keeps microseconds: a 7th (or later) fractional digit is truncated, not rounded.
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        moment = datetime(
            int(year),
            int(month),
            int(day_),
            int(hour),
            int(minute),
            int(second or 0),
            micro,
            tzinfo=zone,
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _wrong(what, key, value, "a valid time") from None


def utc_time(m: Mapping[str, object], key: str, *, what: str) -> datetime:
    """``m[key]``, an ISO 8601 time with ``Z`` or an offset, as an aware UTC datetime.

    Fractional seconds beyond microseconds (Saxo sends up to 7 digits) are truncated.

    :raises MalformedResponse: missing, not a string, not ISO 8601, naive, or out of range.
    """
    if key not in m:
        raise _missing(what, key)
    return _time(m[key], key, what)


def opt_utc_time(m: Mapping[str, object], key: str, *, what: str) -> datetime | None:
    """Like :func:`utc_time`, but ``None`` when the field is absent or null (``LastUpdated``,
    ``TradeExecutionTime``)."""
    value = m.get(key)
    if value is None:
        return None
    return _time(value, key, what)


def day(m: Mapping[str, object], key: str, *, what: str) -> date:
    """``m[key]`` as a calendar date: ``"YYYY-MM-DD"`` or a date-time string (``TradeDate``).

    For a date-time string the date is the one written (no time-zone conversion): Saxo's trade
    dates are calendar days, sent as ``"2017-05-02T00:00:00"`` or ``"...Z"``.

    :raises MalformedResponse: missing, not a string, or not a valid date.
    """
    if key not in m:
        raise _missing(what, key)
    value = m[key]
    if not isinstance(value, str):
        raise _wrong(what, key, value, "a date")
    match = _DATE.fullmatch(value) or _DATE_TIME.fullmatch(value)
    if match is None:
        raise _wrong(what, key, value, "a date")
    year, month, day_ = match.group(1, 2, 3)
    try:
        return date(int(year), int(month), int(day_))
    except ValueError:
        raise _wrong(what, key, value, "a valid date") from None


# --- writing ------------------------------------------------------------------------------------


def dumps_exact(value: object) -> bytes:
    """``value`` as compact JSON, every Decimal written as a plain JSON number with its exact digits
    (``format(d, "f")``: no float round trip, no exponent), as order bodies need.

    Accepts ``None``, booleans, ints, finite Decimals, strings, mappings with string keys,
    lists and tuples.

    :raises TypeError: a float or another type (floats never go into a Saxo request).
    :raises ValueError: a NaN or infinite Decimal.
    """
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("ascii")


def _write(value: object, parts: list[str]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif type(value) is int:
        parts.append(str(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("a NaN or infinite Decimal cannot be written as JSON")
        parts.append(format(value, "f"))
    elif isinstance(value, str):
        parts.append(json.dumps(value))
    elif isinstance(value, Mapping):
        parts.append("{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, got {type(key).__name__}")
            if index:
                parts.append(",")
            parts.append(json.dumps(key))
            parts.append(":")
            _write(item, parts)
        parts.append("}")
    elif isinstance(value, list | tuple):
        _write_array(value, parts)
    else:
        raise TypeError(f"{type(value).__name__} is not written to Saxo (Decimal, not float)")


def _write_array(values: Sequence[object], parts: list[str]) -> None:
    parts.append("[")
    for index, item in enumerate(values):
        if index:
            parts.append(",")
        _write(item, parts)
    parts.append("]")
