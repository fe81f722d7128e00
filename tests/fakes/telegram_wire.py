"""The fake Telegram Bot API's wire format: request parameters as they arrive (query string,
form, multipart or JSON; python-telegram-bot posts a form whose values are strings, non-strings
JSON-encoded) and the Bot API's answer envelopes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl


def ok(result: Any) -> tuple[int, dict[str, Any]]:
    """A success: 200 ``{"ok": true, "result": …}``."""
    return 200, {"ok": True, "result": result}


def error(
    status: int, description: str, parameters: Mapping[str, int] | None = None
) -> tuple[int, dict[str, Any]]:
    """A refusal as the Bot API words it (``parameters``: ``retry_after``, ``migrate_to_chat_id``)."""
    payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        payload["parameters"] = dict(parameters)
    return status, payload


class BadParameters(Exception):
    """A body that is not what its Content-Type says."""


def parse_params(query: str, content_type: str | None, body: bytes) -> dict[str, Any]:
    """Query parameters, then the body's (form, multipart or JSON)."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    kind = (content_type or "").split(";")[0].strip().lower()
    if not body:
        return params
    if kind == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if not isinstance(decoded, dict):
            raise BadParameters
        params.update(decoded)
    elif kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        for part in BytesParser(policy=HTTP).parsebytes(head + body).walk():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if name is not None and isinstance(payload, bytes):
                params[str(name)] = (
                    payload if part.get_filename() else payload.decode(errors="replace")
                )
    else:
        params.update(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
    return params


def flag(value: Any) -> bool:
    """A boolean parameter: JSON ``true`` or a form's ``"true"``/``"1"``."""
    return value is True or str(value).lower() in ("true", "1")


def json_object(value: Any) -> dict[str, Any]:
    """An object parameter: JSON-encoded in a form, native in a JSON body."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}
