"""Request checks of the fake Binance: parameters, signatures and timestamps.

Binance documents the signing and timing rules in "Request security",
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security, and the
endpoints, their weights and the error codes at
https://developers.binance.com/docs/binance-spot-api-docs/.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

from cryptography.exceptions import InvalidSignature
from tests.fakes.binance_models import BinanceError, FakeSymbol
from tests.fakes.binance_state import BinanceState, FakeAccount

DAY_MS = 86_400_000
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_PAYLOAD_BYTES = _UNRESERVED | frozenset(b"=&%")
_DIGITS = re.compile(r"^[0-9]{1,20}$")
_DECIMAL = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_RECV_WINDOW = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,3})?$")
CLIENT_ID = re.compile(r"^[a-zA-Z0-9-_]{1,36}$")
SIGNED_PARAMS = frozenset({"timestamp", "recvWindow", "signature"})


@dataclass
class Call:
    """One request as an endpoint sees it: merged params (query wins over body), the server
    time, and the authenticated account for signed endpoints."""

    params: dict[str, str]
    now: int
    account: FakeAccount | None = None
    weight_limit: int = 6000

    @property
    def user(self) -> FakeAccount:
        """The caller's account (signed endpoints only)."""
        assert self.account is not None
        return self.account


Handler = Callable[[BinanceState, Call], Any]


@dataclass(frozen=True)
class Route:
    """An endpoint: handler, documented request weight, SIGNED or not, and the params it reads."""

    handler: Handler
    weight: Callable[[Mapping[str, str]], int]
    signed: bool
    params: frozenset[str]


# -- parameters --------------------------------------------------------------------------------


def mandatory(params: Mapping[str, str], name: str) -> str:
    """``params[name]`` or -1102 (mandatory parameter missing)."""
    value = params.get(name, "")
    if not value:
        raise BinanceError(400, -1102, mandatory_message(name))
    return value


def illegal(name: str, legal: str) -> BinanceError:
    """-1100 for a parameter outside its legal range."""
    return BinanceError(
        400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."
    )


def int_param(params: Mapping[str, str], name: str) -> int | None:
    """An optional integer parameter (ids, times)."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not _DIGITS.match(value):
        raise illegal(name, "^[0-9]{1,20}$")
    return int(value)


def decimal_param(params: Mapping[str, str], name: str) -> Decimal | None:
    """An optional decimal parameter (quantity, price)."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not _DECIMAL.match(value):
        raise illegal(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$")
    return Decimal(value)


def limit_param(params: Mapping[str, str]) -> int:
    """``limit``: default 500, at most 1000 (as myTrades documents it)."""
    value = params.get("limit")
    if value is None:
        return 500
    if not _DIGITS.match(value) or not 1 <= int(value) <= 1000:
        raise illegal("limit", "1 - 1000")
    return int(value)


def bool_param(params: Mapping[str, str], name: str) -> bool:
    """An optional BOOLEAN parameter, false by default."""
    value = params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise illegal(name, "true, false")
    return value == "true"


def not_sent(params: Mapping[str, str], *names: str) -> None:
    """-1106 when a parameter is sent that the order type does not take."""
    for name in names:
        if name in params:
            raise BinanceError(400, -1106, f"Parameter '{name}' sent when not required.")


def symbol_param(state: BinanceState, params: Mapping[str, str]) -> FakeSymbol:
    """The mandatory ``symbol``, which must be listed (-1121)."""
    sym = state.symbols.get(mandatory(params, "symbol"))
    if sym is None:
        raise BinanceError(400, -1121, "Invalid symbol.")
    return sym


def symbols_param(state: BinanceState, params: Mapping[str, str]) -> list[FakeSymbol]:
    """``symbol`` / ``symbols`` (a JSON array) / neither = all, in listing order."""
    if "symbol" in params and "symbols" in params:
        raise BinanceError(400, -1128, "Combination of optional parameters invalid.")
    if "symbol" in params:
        return [symbol_param(state, params)]
    if "symbols" in params:
        try:
            names = json.loads(params["symbols"])
        except ValueError:
            names = None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise illegal("symbols", '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$')
        if any(name not in state.symbols for name in names):
            raise BinanceError(400, -1121, "Invalid symbol.")
        return [state.symbols[name] for name in names]
    return list(state.symbols.values())


# -- signing (Request security) ---------------------------------------------------------------


def split_signature(raw_query: str, body: str) -> tuple[str, str]:
    """``(payload, signature)``: the signature must be the last parameter of query+body, and
    the payload is the query then the body, without the signature, with no separator."""
    text = body or raw_query
    head, _, last = text.rpartition("&")
    everything = f"{raw_query}&{body}".split("&")
    signatures = sum(1 for part in everything if part.startswith("signature="))
    if not last.startswith("signature="):
        if signatures:
            raise BinanceError(400, -1022, "Signature for this request is not valid.")
        raise BinanceError(400, -1102, mandatory_message("signature"))
    if signatures > 1:
        raise BinanceError(400, -1101, "Duplicate values for a parameter detected.")
    payload = raw_query + head if body else head
    return payload, last[len("signature=") :]


def mandatory_message(name: str) -> str:
    """Text of -1102 for ``name``."""
    return f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."


def verify_signature(account: FakeAccount, payload: str, signature: str) -> None:
    """-1022 unless ``signature`` signs ``payload`` with the account's key, and the payload is
    fully percent-encoded (non-encoded payloads are rejected since 2026-01-15)."""
    invalid = BinanceError(400, -1022, "Signature for this request is not valid.")
    raw = payload.encode("utf-8")
    if not set(raw) <= _PAYLOAD_BYTES:
        raise invalid
    if account.secret is not None:
        # HMAC-SHA256 hex, not case-sensitive.
        expected = hmac.new(account.secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise invalid
        return
    assert account.ed25519_public_key is not None
    try:
        # base64, percent-encoded; a raw '+' would arrive as a space.
        decoded = base64.b64decode(unquote_plus(signature), validate=True)
        account.ed25519_public_key.verify(decoded, raw)
    except (binascii.Error, ValueError, InvalidSignature):
        raise invalid from None


def check_timestamp(params: Mapping[str, str], now: int) -> None:
    """Binance's timing security: recvWindow ≤ 60000 (default 5000), then
    ``timestamp < now + 1000`` and ``now - timestamp <= recvWindow``, else -1021."""
    timestamp = mandatory(params, "timestamp")
    if not _DIGITS.match(timestamp):
        raise illegal("timestamp", "^[0-9]{1,20}$")
    stamp = int(timestamp) / 1000 if len(timestamp) >= 16 else int(timestamp)  # µs accepted
    window_text = params.get("recvWindow", "5000")
    if not _RECV_WINDOW.match(window_text):
        raise illegal("recvWindow", "^[0-9]{1,10}(\\.[0-9]{1,3})?$")
    window = float(window_text)
    if window > 60_000:
        raise BinanceError(400, -1131, "recvWindow must be less than 60000")
    if not stamp < now + 1000:
        msg = "Timestamp for this request was 1000ms ahead of the server's time."
        raise BinanceError(400, -1021, msg)
    if now - stamp > window:
        raise BinanceError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
