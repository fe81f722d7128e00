"""Signing reproduces Binance's published vectors
(https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key

from tradecore.errors import ConfigurationError
from tradecore_adapters.binance._signing import (
    Ed25519Signer,
    HmacSigner,
    encode_params,
    load_ed25519_key,
    signed,
)

# "SIGNED Endpoint Examples for POST /api/v3/order", HMAC Keys, in
# https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security
SPOT_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
SPOT_PARAMS = [
    ("symbol", "LTCBTC"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("timeInForce", "GTC"),
    ("quantity", "1"),
    ("price", "0.1"),
    ("recvWindow", "5000"),
    ("timestamp", "1499827319559"),
]

# python-binance tests/test_cryptography.py throwaway key, verified there.
ED25519_PEM = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIPQmzwVKJETqVd7L9E/DFbkvrOigy1tLL+9QF0mSn6dV
-----END PRIVATE KEY-----
"""
ED25519_PUBLIC = "MCowBQYDK2VwAyEAXD1NDYTGn4fIYgPcsQKTNhdEj3D2FnO5OAvyjiQgXYE="
ED25519_PAYLOAD = (
    "price=50000&quantity=1&side=BUY&symbol=BTCUSDT&timestamp=1631234567890&type=LIMIT"
)
ED25519_SIGNATURE = (
    "a4Pm3p02D2HXtNfo3DBaVCe9Ov7kledewgYtGjekotFmZ5wXa3mC5AtLB7CpAphyNjeyovIuDP+9fyjYmsojCw=="
)


def test_spot_hmac_vector() -> None:
    payload = encode_params(SPOT_PARAMS)
    assert payload == (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    assert HmacSigner(SPOT_SECRET).sign(payload) == (
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )


FULL_WIDTH_DIGITS = "\uff11\uff12\uff13\uff14\uff15\uff16"  # the docs' symbol, full-width 1-6


def test_non_ascii_symbol_is_percent_encoded_before_signing() -> None:
    params = [("symbol", FULL_WIDTH_DIGITS), *SPOT_PARAMS[1:]]
    payload = encode_params(params)
    assert payload.startswith("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&")
    assert HmacSigner(SPOT_SECRET).sign(payload) == (
        "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
    )


def test_mixed_query_and_body_vector_concatenates_without_separator() -> None:
    # The historical vector: query string and body signed as one text with no '&' between.
    query = encode_params(SPOT_PARAMS[:4])
    body = encode_params(SPOT_PARAMS[4:])
    assert HmacSigner(SPOT_SECRET).sign(query + body) == (
        "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
    )


def test_futures_hmac_vector_in_the_signed_order() -> None:
    params = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("quantity", "1"),
        ("price", "9000"),
        ("timeInForce", "GTC"),
        ("recvWindow", "5000"),
        ("timestamp", "1591702613943"),
    ]
    secret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
    assert HmacSigner(secret).sign(encode_params(params)) == (
        "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            "timestamp=1499827319559",
            "2222d49722f6af5da13f6da6bfc0d7de19ca2815ebc98bbc49e4942268472f3f",
        ),
        (
            "symbol=BNBBTC&fromId=28457&limit=1000&recvWindow=5000&timestamp=1499827319559",
            "f87ddb4b8ee74c9bb9068c194d6e2382c645d02628e90c09a33358d731981b9e",
        ),
    ],
)
def test_derived_get_vectors(payload: str, expected: str) -> None:
    assert HmacSigner(SPOT_SECRET).sign(payload) == expected


def test_signature_is_the_last_parameter() -> None:
    query = signed(SPOT_PARAMS, HmacSigner(SPOT_SECRET))
    head, _, signature = query.rpartition("&signature=")
    assert head == encode_params(SPOT_PARAMS)
    assert signature == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_ed25519_vector_and_public_key_verification() -> None:
    signer = Ed25519Signer(load_ed25519_key(ED25519_PEM))
    encoded = signer.sign(ED25519_PAYLOAD)
    # Base64 is percent-encoded in the request: '+' → %2B, '/' → %2F, '=' → %3D.
    assert not {"+", "=", "/"} & set(encoded)
    assert unquote(encoded) == ED25519_SIGNATURE
    public = load_der_public_key(base64.b64decode(ED25519_PUBLIC))
    assert isinstance(public, Ed25519PublicKey)
    public.verify(base64.b64decode(unquote(encoded)), ED25519_PAYLOAD.encode())


def test_ed25519_key_survives_an_environment_variable_without_newlines() -> None:
    flat = " ".join(ED25519_PEM.split("\n"))
    signer = Ed25519Signer(load_ed25519_key(flat))
    assert unquote(signer.sign(ED25519_PAYLOAD)) == ED25519_SIGNATURE


def test_ed25519_key_as_one_line_of_base64_der() -> None:
    der = "".join(ED25519_PEM.strip().splitlines()[1:-1])
    assert unquote(Ed25519Signer(load_ed25519_key(der)).sign(ED25519_PAYLOAD)) == ED25519_SIGNATURE


@pytest.mark.parametrize(
    "text",
    [
        "not a key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        SPOT_SECRET,
    ],
)
def test_unusable_private_key_is_a_configuration_error_without_the_key(text: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_ed25519_key(text)
    assert text not in str(caught.value)


def test_signers_never_show_their_key() -> None:
    hmac_signer = HmacSigner(SPOT_SECRET)
    ed_signer = Ed25519Signer(load_ed25519_key(ED25519_PEM))
    for signer in (hmac_signer, ed_signer):
        assert "**********" in repr(signer)
    assert SPOT_SECRET not in repr(hmac_signer)


def test_hmac_is_plain_hmac_sha256_hex() -> None:
    # Cross-check against the standard library directly for an arbitrary payload.
    payload = encode_params([("a", "b c"), ("d", "é")])
    assert payload == "a=b%20c&d=%C3%A9"
    expected = hmac.new(b"k", payload.encode(), hashlib.sha256).hexdigest()
    assert HmacSigner("k").sign(payload) == expected
