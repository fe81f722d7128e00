"""Wire format of the fake Saxo Bank: exact-decimal JSON, UTC timestamps, errors and paging.

Numbers are written straight from ``Decimal`` (never through ``float``), so ``1.32167`` and
``100000`` reach the client exactly as the examples of Saxo's OpenAPI reference show them
(https://www.developer.saxo/openapi/referencedocs). Collections use Saxo's envelope
(https://www.developer.saxo/openapi/learn/openapi-request-response).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
Pairs = list[tuple[str, str]]


@dataclass
class Call:
    """One authenticated gateway request, as an endpoint sees it."""

    args: list[str]
    """The path segments matched by ``{}`` in the route, percent-decoded."""
    pairs: Pairs
    """Query parameters, decoded, in order."""
    body: bytes
    headers: httpx.Headers
    session: str
    now: datetime
    raw_path: str
    """The path as sent (still percent-encoded), for ``__next`` links."""
    link_origin: str
    """Put before ``raw_path`` in ``__next`` links: ``""`` (relative) or ``scheme://host``."""

    @property
    def params(self) -> dict[str, str]:
        """The first value of each query parameter."""
        first: dict[str, str] = {}
        for name, value in self.pairs:
            first.setdefault(name, value)
        return first


class SaxoError(Exception):
    """An answer other than success: ``status`` and a JSON ``payload`` (``None``: empty body)."""

    def __init__(self, status: int, payload: dict[str, Any] | None = None) -> None:
        super().__init__(f"HTTP {status} {payload}")
        self.status = status
        self.payload = payload


def error(status: int, code: str, message: str, **model_state: list[str]) -> SaxoError:
    """An error body ``{"ErrorCode", "Message"[, "ModelState"]}``."""
    payload: dict[str, Any] = {"ErrorCode": code, "Message": message}
    if model_state:
        payload["ModelState"] = model_state
    return SaxoError(status, payload)


def invalid_model(**model_state: list[str]) -> SaxoError:
    """400 ``InvalidModelState`` with the fields at fault."""
    return error(
        400,
        "InvalidModelState",
        "One or more properties of the request are invalid!",
        **model_state,
    )


# -- JSON --------------------------------------------------------------------------------------


def number(value: Decimal) -> str:
    """``value`` as a JSON number, exactly: no exponent, no trailing fractional zeros."""
    if not value.is_finite():
        raise ValueError(f"not a JSON number: {value}")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def dumps(payload: Any) -> bytes:
    """``payload`` as compact JSON; ``Decimal`` numbers exact, datetimes as UTC ``...Z``."""
    parts: list[str] = []
    _encode(payload, parts)
    return "".join(parts).encode("utf-8")


def _encode(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool | str):
        out.append(json.dumps(value))
    elif isinstance(value, Decimal):
        out.append(number(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        raise TypeError("the fake Saxo writes Decimal numbers only, never floats")
    elif isinstance(value, datetime):
        out.append(json.dumps(utc_text(value)))
    elif isinstance(value, date):
        out.append(json.dumps(value.isoformat()))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            out.append("," if index else "")
            out.append(json.dumps(str(key)) + ":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            out.append("," if index else "")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__}")


def loads(body: bytes) -> Any:
    """A JSON request body; non-integral numbers become ``Decimal``."""
    return json.loads(body, parse_float=Decimal)


def to_decimal(value: Any) -> Decimal | None:
    """A JSON number (int or Decimal, not bool) as ``Decimal``; anything else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - ints and Decimals always convert
        return None


def tidy(value: Decimal, places: int = 10) -> Decimal:
    """``value`` rounded to ``places`` decimals, without trailing zeros (for computed prices)."""
    return value.quantize(Decimal(1).scaleb(-places)).normalize()


# -- time --------------------------------------------------------------------------------------


def utc_text(moment: datetime) -> str:
    """ISO 8601 in UTC with ``Z``: ``2024-01-02T10:00:00Z`` or ``...10:00:00.250000Z``."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def parse_utc(text: str) -> datetime:
    """An ISO date-time from a query (``Z`` or offset; naive means UTC); ``ValueError`` if bad."""
    moment = datetime.fromisoformat(text.strip())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- paging ------------------------------------------------------------------------------------


def query_string(pairs: Pairs) -> str:
    """Percent-encode ``pairs`` (keys such as ``7m4I|vtYLUnEGg77o9uQhw==`` included)."""
    return "&".join(f"{quote(k, safe='$')}={quote(v, safe=',')}" for k, v in pairs)


def int_param(params: dict[str, str], name: str, default: int, maximum: int | None = None) -> int:
    """A non-negative integer query parameter (400 ``InvalidModelState`` when malformed)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_model(**{name: [f"The value '{raw}' is not valid for {name}."]}) from None
    if value < 0:
        raise invalid_model(**{name: [f"{name} must be 0 or more."]})
    return min(value, maximum) if maximum is not None else value


def page(
    call: Call,
    items: Sequence[dict[str, Any]],
    default_top: int,
    *,
    max_top: int | None = None,
    token_of: Callable[[dict[str, Any]], str] | None = None,
) -> dict[str, Any]:
    """One page of ``items`` in Saxo's collection envelope ``{"__count", "Data", "__next"?}``.

    ``$top`` (0 or absent: ``default_top``) and ``$skip`` select the page. With ``token_of``
    (the cs service group) the next link carries ``$skiptoken`` = the id of the next page's
    first row instead of ``$skip``. ``__next`` repeats the request's other parameters and is
    absent on the last page.
    """
    params = call.params
    top = int_param(params, "$top", default_top, max_top) or default_top
    start = int_param(params, "$skip", 0)
    token = params.get("$skiptoken")
    if token is not None and token_of is not None:
        found = next((i for i, row in enumerate(items) if token_of(row) == token), None)
        if found is None:
            raise error(400, "BadRequestError", f"Unknown $skiptoken '{token}'.")
        start = found
    end = start + top
    payload: dict[str, Any] = {"__count": len(items), "Data": list(items[start:end])}
    if end < len(items):
        kept = [(k, v) for k, v in call.pairs if k not in ("$top", "$skip", "$skiptoken")]
        kept.append(("$top", str(top)))
        kept.append(("$skiptoken", token_of(items[end])) if token_of else ("$skip", str(end)))
        payload["__next"] = f"{call.link_origin}{call.raw_path}?{query_string(kept)}"
    return payload
