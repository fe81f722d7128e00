"""Saxo's OAuth2 endpoints: the authorization URL (with PKCE) and the token endpoint.

- Authorization Code with PKCE
  (https://www.developer.saxo/openapi/learn/oauth-authorization-code-grant-pkce): a fresh
  ``state`` and ``code_verifier`` per login; the challenge is BASE64URL(SHA-256(verifier))
  without padding, method ``S256``. The challenge is sent for Code apps too (it costs nothing
  and binds the code to this login).
- The token endpoint (https://www.developer.saxo/openapi/learn/oauth-authorization-code-grant)
  is called without tenacity: a refresh is not idempotent (the refresh token is single-use:
  docs/brokers/saxo.md, "Staying logged in"), so a lost answer is never retried here; the token
  store's lock and its "log in again" rule handle what follows. Success is any 2xx (Saxo answers
  201). ``invalid_grant`` on a refresh means the session is over:
  :class:`~tradecore.errors.ReauthorizationRequired`.
- Client authentication for an app with a secret: HTTP Basic (default) or the form body; a PKCE
  app sends its ``client_id`` and, for a code, the verifier.

No message here quotes a token, a code, a verifier or the app secret.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from tradecore.domain import OAuthTokens, Secret
from tradecore.errors import (
    AuthenticationFailed,
    BrokerUnavailable,
    MalformedResponse,
    ReauthorizationRequired,
)
from tradecore.ports import Clock
from tradecore_adapters.redaction import register_secret
from tradecore_adapters.saxo._json import BROKER, parse_json
from tradecore_adapters.saxo._mapping import error_from
from tradecore_adapters.saxo.config import ClientAuth, SaxoConfig

__all__ = [
    "BROKER",
    "TOKEN_TIMEOUT",
    "TokenEndpoint",
    "authorization_url",
    "code_challenge",
    "new_code_verifier",
    "new_state",
]

TOKEN_TIMEOUT = httpx.Timeout(10.0)
"""A refresh holds the connection's lock: keep the call short."""


def new_code_verifier() -> str:
    """A PKCE verifier: 86 characters of ``[A-Za-z0-9_-]`` (43-128 allowed by PKCE)."""
    return secrets.token_urlsafe(64)


def new_state() -> str:
    """An unguessable ``state`` value for one login."""
    return secrets.token_urlsafe(24)


def code_challenge(verifier: str) -> str:
    """BASE64URL(SHA-256(verifier)) without padding (RFC 7636 ``S256``)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def authorization_url(config: SaxoConfig, *, state: str, verifier: str) -> str:
    """The URL a person opens to log in."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.app_key,
            "state": state,
            "redirect_uri": config.redirect_uri,
            "code_challenge": code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{config.authorize_url}?{query}"


class TokenEndpoint:
    """POSTs to Saxo's token endpoint for one connection."""

    def __init__(self, config: SaxoConfig, http: httpx.AsyncClient, clock: Clock) -> None:
        self._config = config
        self._http = http
        self._clock = clock
        self.calls = 0

    async def exchange_code(self, code: str, *, verifier: str) -> OAuthTokens:
        """Exchange an authorization code for tokens.

        :raises AuthenticationFailed: Saxo refused the code or the app's credentials.
        :raises BrokerUnavailable: the endpoint could not be reached or failed (5xx).
        """
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._config.redirect_uri,
            "code_verifier": verifier,
        }
        return await self._post(form, refreshing=False)

    async def refresh(self, tokens: OAuthTokens) -> OAuthTokens:
        """Trade the refresh token of ``tokens`` for new tokens, once.

        :raises ReauthorizationRequired: Saxo refused the refresh token (``invalid_grant``).
        :raises AuthenticationFailed: Saxo refused the app's credentials.
        :raises BrokerUnavailable: the endpoint could not be reached or failed; whether the
            refresh token was spent is unknown.
        """
        if tokens.refresh_token is None:
            raise ReauthorizationRequired("there is no refresh token", broker=BROKER)
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token.reveal()}
        return await self._post(form, refreshing=True)

    async def _post(self, form: dict[str, str], *, refreshing: bool) -> OAuthTokens:
        headers = {"Accept": "application/json"}
        secret = self._config.app_secret
        if secret is None:
            form["client_id"] = self._config.app_key
        elif self._config.client_auth is ClientAuth.BASIC:
            pair = f"{self._config.app_key}:{secret.reveal()}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            form["client_id"] = self._config.app_key
            form["client_secret"] = secret.reveal()
        what = "the token refresh" if refreshing else "the login's code exchange"
        self.calls += 1
        try:
            response = await self._http.post(
                self._config.token_url, data=form, headers=headers, timeout=TOKEN_TIMEOUT
            )
        except httpx.HTTPError as exc:
            raise BrokerUnavailable(
                f"Saxo's token endpoint did not answer {what} ({type(exc).__name__})",
                broker=BROKER,
            ) from None
        received_at = self._clock.now()
        status = response.status_code
        if 200 <= status < 300:
            return _tokens_from(parse_json(response.content, what="the token request"), received_at)
        error = error_from(status, response.content)
        code = error.code
        detail = error.message
        if status >= 500:
            raise BrokerUnavailable(
                f"Saxo's token endpoint failed {what}: {detail}", broker=BROKER, code=code
            )
        if code == "invalid_grant":
            if refreshing:
                raise ReauthorizationRequired(
                    f"Saxo refused the refresh token (invalid_grant: {detail})",
                    broker=BROKER,
                    code=code,
                )
            raise AuthenticationFailed(
                f"Saxo refused the authorization code (invalid_grant: {detail}); start the "
                "login again",
                broker=BROKER,
                code=code,
            )
        if status == 401 or code in ("invalid_client", "unauthorized_client"):
            raise AuthenticationFailed(
                f"Saxo refused the app's credentials at the token endpoint ({detail}): check "
                "app_key, app_secret and that the app belongs to this environment (SIM or LIVE)",
                broker=BROKER,
                code=code or f"HTTP {status}",
            )
        if status == 404:
            raise AuthenticationFailed(
                f"Saxo's token endpoint was not found at {self._config.token_url}: check "
                "environment and auth_base_url",
                broker=BROKER,
                code="HTTP 404",
            )
        raise AuthenticationFailed(
            f"Saxo's token endpoint refused {what}: {detail}",
            broker=BROKER,
            code=code or f"HTTP {status}",
        )


def _tokens_from(payload: object, received_at: datetime) -> OAuthTokens:
    # Expiries are absolute, computed at receipt from the lifetimes Saxo sends (``expires_in``,
    # ``refresh_token_expires_in``); a negative expires_in is clamped.
    if not isinstance(payload, dict):
        raise MalformedResponse("Saxo's token answer is not a JSON object", broker=BROKER)
    access = _token_text(payload, "access_token")
    refresh = payload.get("refresh_token")
    if refresh is not None and (not isinstance(refresh, str) or not refresh):
        raise MalformedResponse("Saxo's token answer has an unusable refresh_token", broker=BROKER)
    token_type = payload.get("token_type", "Bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise MalformedResponse("Saxo's token answer is not a bearer token", broker=BROKER)
    expires_in = _seconds(payload, "expires_in", required=True)
    refresh_in = _seconds(payload, "refresh_token_expires_in", required=False)
    register_secret(access)
    if refresh is not None:
        register_secret(refresh)
    return OAuthTokens(
        access_token=Secret(access),
        refresh_token=None if refresh is None else Secret(refresh),
        access_expires_at=received_at + timedelta(seconds=max(0, expires_in or 0)),
        refresh_expires_at=None
        if refresh_in is None
        else received_at + timedelta(seconds=max(0, refresh_in)),
    )


def _token_text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedResponse(f"Saxo's token answer has no {key}", broker=BROKER)
    return value


def _seconds(payload: dict[str, Any], key: str, *, required: bool) -> int | None:
    value = payload.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedResponse(
            f"Saxo's token answer has no whole number of seconds in {key}", broker=BROKER
        )
    return value
