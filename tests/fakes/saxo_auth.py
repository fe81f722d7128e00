"""Authorization server of the fake Saxo Bank: ``/authorize``, ``/token`` and the tokens.

Follows Saxo's OAuth pages: authorization code grant for a Code app
(https://www.developer.saxo/openapi/learn/oauth-authorization-code-grant; client authentication
by HTTP Basic ``AppKey:AppSecret`` or ``client_id``/``client_secret`` in the form) or a PKCE app
(https://www.developer.saxo/openapi/learn/oauth-authorization-code-grant-pkce; ``code_verifier``
checked against the S256 or plain ``code_challenge``), answers **201** with the token JSON,
lifetimes from the constructor. Refresh tokens are single use (designed as if so, as
docs/brokers/saxo.md says): a refresh returns a new pair in the same session and kills the
presented token; presenting a spent one again is counted (``refresh_reuse``) and revokes the
whole session, as reuse detection does (RFC 9700, section 4.14.2). Errors are RFC 6749
``{"error", "error_description"}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from tests.fakes.saxo_wire import HTML_TYPE, JSON_TYPE, Pairs, dumps

CODE_LIFETIME = timedelta(seconds=60)
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


@dataclass
class _Code:
    redirect_uri: str
    challenge: str | None
    method: str
    issued_at: datetime
    used: bool = False


@dataclass
class _Access:
    session: str
    expires_at: datetime
    expired: bool = False


@dataclass
class _Refresh:
    session: str
    expires_at: datetime
    state: str = "live"  # or "used", "revoked"


def _html(status: int, title: str, text: str) -> httpx.Response:
    body = f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"
    return httpx.Response(status, headers={"Content-Type": HTML_TYPE}, content=body.encode())


def _oauth_error(status: int, code: str, description: str) -> httpx.Response:
    payload = {"error": code, "error_description": description}
    return httpx.Response(status, headers={"Content-Type": JSON_TYPE}, content=dumps(payload))


def pkce_challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(verifier))`` without padding (RFC 7636 S256)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class AuthServer:
    """The OAuth2 side: codes, sessions, access and refresh tokens. Not locked: the fake's
    ``handle`` holds its lock around every call."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str | None,
        redirect_uris: Sequence[str],
        now: Callable[[], datetime],
        access_lifetime: int,
        refresh_lifetime: int,
    ) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.redirect_uris = tuple(redirect_uris)
        self.access_lifetime = access_lifetime
        self.refresh_lifetime = refresh_lifetime
        self._now = now
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._sessions = 0
        self.denial: tuple[str, str] | None = None
        self.refresh_reuse = 0
        """Refreshes that presented a refresh token already spent (each revoked its session)."""

    @property
    def pkce(self) -> bool:
        """A PKCE app (no secret)."""
        return self.app_secret is None

    # -- tokens --------------------------------------------------------------------------------

    def new_session(self) -> str:
        """A new session id (one per login)."""
        self._sessions += 1
        return f"session-{self._sessions}"

    def issue(self, session: str) -> dict[str, Any]:
        """A new access + refresh pair for ``session``, as the token JSON."""
        now = self._now()
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._access[access] = _Access(session, now + timedelta(seconds=self.access_lifetime))
        self._refresh[refresh] = _Refresh(session, now + timedelta(seconds=self.refresh_lifetime))
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.access_lifetime,
            "refresh_token": refresh,
            "refresh_token_expires_in": self.refresh_lifetime,
            "base_uri": None,
        }

    def session_of(self, authorization: str | None) -> str | None:
        """The session of a valid, unexpired ``Bearer`` token in an Authorization header."""
        scheme, _, token = (authorization or "").partition(" ")
        entry = self._access.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None or entry.expired or self._now() >= entry.expires_at:
            return None
        return entry.session

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (refresh tokens are untouched)."""
        for entry in self._access.values():
            entry.expired = True

    def revoke_refresh_tokens(self) -> None:
        """Every live refresh token issued so far dies (a refresh answers ``invalid_grant``)."""
        for entry in self._refresh.values():
            if entry.state == "live":
                entry.state = "revoked"

    def _revoke_session(self, session: str) -> None:
        for refresh in self._refresh.values():
            if refresh.session == session and refresh.state == "live":
                refresh.state = "revoked"
        for access in self._access.values():
            if access.session == session:
                access.expired = True

    # -- /authorize ----------------------------------------------------------------------------

    def _redirect_allowed(self, uri: str) -> bool:
        if uri in self.redirect_uris:
            return True
        if not self.pkce:  # a PKCE app registers its URL without a port, any port goes
            return False
        given = urlsplit(uri)
        for registered in map(urlsplit, self.redirect_uris):
            if registered.port is None and (given.scheme, given.hostname, given.path) == (
                registered.scheme,
                registered.hostname,
                registered.path,
            ):
                return True
        return False

    def authorize(self, params: dict[str, str]) -> httpx.Response:
        """``GET /authorize``: auto-approves with a 302 to the redirect URI."""
        if params.get("client_id") != self.app_key:
            return _html(400, "Bad Request", "Unknown client_id.")
        redirect_uri = params.get("redirect_uri", "")
        if not self._redirect_allowed(redirect_uri):
            return _html(400, "Bad Request", "The redirect_uri is not registered for this app.")
        answer: Pairs = []
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method", "plain" if challenge else "")
        if self.denial is not None:
            (error, description), self.denial = self.denial, None
            answer = [("error", error), ("error_description", description)]
        elif params.get("response_type") != "code":
            answer = [("error", "unsupported_response_type"), ("error_description", "Use code.")]
        elif self.pkce and not challenge:
            answer = [("error", "invalid_request"), ("error_description", "code_challenge needed")]
        elif challenge and method.lower() not in ("s256", "plain"):
            answer = [("error", "invalid_request"), ("error_description", "Unknown method.")]
        else:
            code = secrets.token_urlsafe(24)
            self._codes[code] = _Code(redirect_uri, challenge, method.lower(), self._now())
            answer = [("code", code)]
        if "state" in params:
            answer.append(("state", params["state"]))
        separator = "&" if "?" in redirect_uri else "?"
        location = f"{redirect_uri}{separator}{urlencode(answer)}"
        return httpx.Response(302, headers={"Location": location})

    # -- /token --------------------------------------------------------------------------------

    def _client_ok(self, headers: httpx.Headers, form: dict[str, str], required: bool) -> bool:
        # Basic AppKey:AppSecret or client_id/client_secret in the form (Code app);
        # a PKCE app only names itself with client_id (required for the code exchange).
        client_id, secret = form.get("client_id"), form.get("client_secret")
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            client_id, _, secret = decoded.partition(":")
        if self.pkce:
            return client_id == self.app_key if (required or client_id is not None) else True
        return client_id == self.app_key and secret == self.app_secret

    def token(self, headers: httpx.Headers, form: dict[str, str]) -> httpx.Response:
        """``POST /token``: 201 with a new pair, or an OAuth error."""
        grant = form.get("grant_type")
        if grant == "authorization_code":
            if not self._client_ok(headers, form, required=True):
                return _oauth_error(401, "invalid_client", "Client authentication failed.")
            return self._exchange_code(form)
        if grant == "refresh_token":
            if not self._client_ok(headers, form, required=not self.pkce):
                return _oauth_error(401, "invalid_client", "Client authentication failed.")
            return self._refresh_grant(form)
        if grant is None:
            return _oauth_error(400, "invalid_request", "grant_type is required.")
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type {grant}.")

    def _exchange_code(self, form: dict[str, str]) -> httpx.Response:
        entry = self._codes.get(form.get("code", ""))
        if entry is None or entry.used:
            return _oauth_error(400, "invalid_grant", "The code is unknown or was already used.")
        entry.used = True  # single use, even when the exchange fails below
        if self._now() - entry.issued_at > CODE_LIFETIME:
            return _oauth_error(400, "invalid_grant", "The code has expired.")
        if form.get("redirect_uri") != entry.redirect_uri:
            return _oauth_error(400, "invalid_grant", "redirect_uri differs from /authorize's.")
        if entry.challenge is not None:
            verifier = form.get("code_verifier", "")
            if not _VERIFIER.fullmatch(verifier):
                return _oauth_error(400, "invalid_grant", "code_verifier is missing or malformed.")
            expected = pkce_challenge(verifier) if entry.method == "s256" else verifier
            if not secrets.compare_digest(expected, entry.challenge):
                return _oauth_error(400, "invalid_grant", "code_verifier does not match.")
        return self._tokens(self.issue(self.new_session()))

    def _refresh_grant(self, form: dict[str, str]) -> httpx.Response:
        presented = form.get("refresh_token")
        if not presented:
            return _oauth_error(400, "invalid_request", "refresh_token is required.")
        entry = self._refresh.get(presented)
        if entry is None:
            return _oauth_error(400, "invalid_grant", "Unknown refresh token.")
        if entry.state == "used":
            # Reuse of a spent refresh token: the whole grant is revoked (OAuth 2.0 Security
            # BCP, RFC 9700 section 4.14.2), so the session needs a new login.
            self.refresh_reuse += 1
            self._revoke_session(entry.session)
            return _oauth_error(400, "invalid_grant", "The refresh token was already used.")
        if entry.state != "live":
            return _oauth_error(400, "invalid_grant", f"The refresh token was {entry.state}.")
        if self._now() >= entry.expires_at:
            return _oauth_error(400, "invalid_grant", "The refresh token has expired.")
        entry.state = "used"
        return self._tokens(self.issue(entry.session))

    @staticmethod
    def _tokens(payload: dict[str, Any]) -> httpx.Response:
        # Saxo answers 201 Created.
        return httpx.Response(201, headers={"Content-Type": JSON_TYPE}, content=dumps(payload))
