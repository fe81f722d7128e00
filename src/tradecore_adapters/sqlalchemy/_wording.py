"""Store a step's notes and error, plain text or translatable phrases, so they read back the same.

A note is stored in the ``notes`` JSON list as itself (text) or as an object
``{"msgid": …, "params": {…}, "literal": …}``. An error lives in a text column: a phrase is stored
there as ``PHRASE_MARK`` followed by that object in JSON; any other text is plain, as before
phrases existed, so every stored row still reads.
"""

from __future__ import annotations

import json
from typing import Any

from tradecore.domain import Phrase, Wording

__all__ = [
    "PHRASE_MARK",
    "error_from_text",
    "error_to_text",
    "wording_from_json",
    "wording_to_json",
]

PHRASE_MARK = "\x1ephrase:"
"""What starts a stored error that is a phrase (a record separator, never in a broker's text)."""


def wording_to_json(value: Wording) -> Any:
    """``value`` as JSON data: text as is, a phrase as an object."""
    if not isinstance(value, Phrase):
        return str(value)
    return {
        "msgid": value.msgid,
        "params": {name: wording_to_json(param) for name, param in value.params.items()},
        "literal": value.literal,
    }


def wording_from_json(data: Any) -> Wording:
    """The note or error that :func:`wording_to_json` stored.

    :raises TypeError: ``data`` is neither text nor a stored phrase.
    """
    if isinstance(data, str):
        return data
    if not isinstance(data, dict) or not isinstance(data.get("msgid"), str):
        raise TypeError("a stored note must be text or a phrase")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise TypeError("a stored phrase's params must be an object")
    return Phrase(
        data["msgid"],
        {str(name): wording_from_json(param) for name, param in params.items()},
        literal=bool(data.get("literal", False)),
    )


def error_to_text(value: Wording | None) -> str | None:
    """A step's error for its text column."""
    if not isinstance(value, Phrase):
        return value
    return PHRASE_MARK + json.dumps(wording_to_json(value), ensure_ascii=False)


def error_from_text(text: str | None) -> Wording | None:
    """The error that :func:`error_to_text` stored."""
    if text is None or not text.startswith(PHRASE_MARK):
        return text
    try:
        return wording_from_json(json.loads(text[len(PHRASE_MARK) :]))
    except ValueError:
        raise TypeError("a stored phrase is not valid JSON") from None
