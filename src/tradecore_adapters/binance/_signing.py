"""Signing Binance requests: the payload is exactly the percent-encoded bytes sent.

Binance ("Request security",
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security) signs the
query string followed by the body with no separator, percent-encoded *before* signing
(non-encoded payloads are rejected with -1022 since 2026-01-15), with ``signature`` appended last:

- HMAC keys: lowercase hex HMAC-SHA256 of the payload, keyed with the API secret;
- Ed25519 keys: base64 of the Ed25519 signature of the payload bytes, itself percent-encoded.

Neither signer keeps its key in a form that ``repr`` would show.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

from tradecore.errors import ConfigurationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["Ed25519Signer", "HmacSigner", "Signer", "encode_params", "load_ed25519_key", "signed"]

_SAFE = "-_.~"
"""RFC 3986 unreserved characters besides letters and digits: never percent-encoded."""


def encode_params(params: Sequence[tuple[str, str]]) -> str:
    """Percent-encode ``params`` in their order, as ``name=value&…`` (RFC 3986, UTF-8).

    Everything but unreserved characters is encoded, so the string is both what is sent and
    what is signed: non-ASCII symbols become ``%EF%BC%91…`` as in Binance's second vector.
    """
    return "&".join(
        f"{quote(name, safe=_SAFE)}={quote(value, safe=_SAFE)}" for name, value in params
    )


class Signer(Protocol):
    """Signs a payload; returns the value of the ``signature`` parameter, already encoded."""

    def sign(self, payload: str) -> str:
        """Return the encoded signature of ``payload`` (the exact text sent)."""
        ...


class HmacSigner:
    """HMAC-SHA256 signatures (lowercase hex), keyed with the API secret."""

    __slots__ = ("_key",)

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ConfigurationError("binance: the API secret is empty")
        self._key = secret.encode("utf-8")

    def sign(self, payload: str) -> str:
        """Return the hex HMAC-SHA256 of ``payload``."""
        return hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "HmacSigner(**********)"


class Ed25519Signer:
    """Ed25519 signatures, base64 and percent-encoded (``/`` → ``%2F``, ``+`` → ``%2B``,
    ``=`` → ``%3D``)."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    def sign(self, payload: str) -> str:
        """Return the percent-encoded base64 Ed25519 signature of ``payload``."""
        raw = self._key.sign(payload.encode("ascii"))
        return quote(base64.b64encode(raw).decode("ascii"), safe="")

    def __repr__(self) -> str:
        return "Ed25519Signer(**********)"


def signed(params: Sequence[tuple[str, str]], signer: Signer) -> str:
    """Return the query string to send: ``params`` encoded, then ``&signature=…`` last."""
    payload = encode_params(params)
    return f"{payload}&signature={signer.sign(payload)}"


def load_ed25519_key(text: str) -> Ed25519PrivateKey:
    """Read an unencrypted Ed25519 private key: PKCS#8 PEM (as Binance's key generator writes
    it), or the same key as one line of base64 DER.

    :raises ConfigurationError: not an unencrypted Ed25519 private key; the message never quotes
        the key.
    """
    # Imported here: loading keys costs cryptography's serialization modules (about 0.1 s), which
    # the binance plugin module must not pay at start-up (it declares the settings of config.py).
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        load_der_private_key,
        load_pem_private_key,
    )

    stripped = text.strip()
    try:
        if stripped.startswith("-----BEGIN"):
            key = load_pem_private_key(_normalise_pem(stripped).encode("ascii"), password=None)
        else:
            key = load_der_private_key(base64.b64decode(stripped, validate=True), password=None)
    except TypeError:
        raise ConfigurationError(
            "binance: the private key is encrypted; give the unencrypted PKCS#8 key"
        ) from None
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
        raise ConfigurationError(
            "binance: the private key is not a PKCS#8 PEM (or base64 DER) Ed25519 private key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(
            "binance: the private key is not an Ed25519 key (RSA keys are not supported yet; "
            "use an Ed25519 or an HMAC key)"
        )
    return key


def _normalise_pem(text: str) -> str:
    # An environment variable often loses the PEM's newlines ("-----BEGIN … KEY----- MC4C… -----END…").
    if "\n" in text:
        return text
    header_end = text.find("-----", 5) + 5
    footer_start = text.rfind("-----END")
    if header_end < 5 or footer_start <= header_end:
        return text
    body = "".join(text[header_end:footer_start].split())
    return f"{text[:header_end]}\n{body}\n{text[footer_start:]}\n"
