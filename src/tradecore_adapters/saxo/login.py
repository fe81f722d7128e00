"""The browser login of a ``saxo`` connection: :class:`SaxoLogin` (an
:class:`~tradecore.ports.OAuthLogin`).

Authorization Code with PKCE
(https://www.developer.saxo/openapi/learn/oauth-authorization-code-grant-pkce; the user's side is
docs/brokers/saxo.md, "Log in"): :meth:`SaxoLogin.begin` makes a fresh ``state`` and verifier and
the authorization URL; :meth:`SaxoLogin.complete` checks that the redirect carries the same
``state`` (or reports Saxo's ``error``), then exchanges the code once, with the app secret when the
app has one. Nothing is stored here, and no message quotes the code, the state, the verifier or a
token.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs, urlsplit

import httpx

from tradecore.domain import BrokerConnection, OAuthTokens, Secret
from tradecore.errors import AuthenticationFailed, ConfigurationError
from tradecore.ports import Clock, LoginRequest
from tradecore_adapters.redaction import register_secret
from tradecore_adapters.saxo._auth import (
    BROKER,
    TokenEndpoint,
    authorization_url,
    new_code_verifier,
    new_state,
)
from tradecore_adapters.saxo._client import new_http_client
from tradecore_adapters.saxo.config import SaxoConfig

__all__ = ["SaxoLogin"]

_MAX_SHOWN = 200


class SaxoLogin:
    """How a person logs a ``saxo`` connection in."""

    def begin(self, connection: BrokerConnection, *, clock: Clock) -> LoginRequest:
        """A fresh login: state, PKCE verifier and the authorization URL (no I/O)."""
        config = SaxoConfig.from_connection(connection)
        state, verifier = new_state(), new_code_verifier()
        register_secret(verifier)
        return LoginRequest(
            url=authorization_url(config, state=state, verifier=verifier),
            redirect_uri=config.redirect_uri,
            state=Secret(state),
            code_verifier=Secret(verifier),
            started_at=clock.now(),
        )

    async def complete(
        self,
        connection: BrokerConnection,
        request: LoginRequest,
        redirected_to: str,
        *,
        clock: Clock,
        http_client: object | None = None,
    ) -> OAuthTokens:
        """Check the redirect and exchange its code for tokens (see the module docstring)."""
        config = SaxoConfig.from_connection(connection)
        code = _code_from(redirected_to, request)
        register_secret(code)
        if request.code_verifier is None:
            raise ConfigurationError("saxo: this login has no PKCE verifier; start it again")
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise ConfigurationError("saxo: the HTTP client must be an httpx.AsyncClient")
        http = http_client if http_client is not None else new_http_client()
        try:
            endpoint = TokenEndpoint(config, http, clock)
            return await endpoint.exchange_code(code, verifier=request.code_verifier.reveal())
        finally:
            if http_client is None:
                await http.aclose()


def _code_from(redirected_to: str, request: LoginRequest) -> str:
    text = redirected_to.strip()
    query = urlsplit(text).query if "://" in text else text.lstrip("?")
    params = parse_qs(query, keep_blank_values=True)
    state = _one(params, "state")
    if state is None or not hmac.compare_digest(
        state.encode("utf-8", "replace"), request.state.reveal().encode("utf-8")
    ):
        raise AuthenticationFailed(
            "the redirect does not carry this login's state (a stale or foreign URL?); "
            "nothing was changed: start the login again",
            broker=BROKER,
        )
    error = _one(params, "error")
    if error is not None:
        description = _one(params, "error_description") or ""
        said = " ".join(f"{error}: {description}".split())[:_MAX_SHOWN].rstrip(": ")
        raise AuthenticationFailed(
            f"Saxo did not authorize the login ({said}); nothing was changed",
            broker=BROKER,
            code=error[:60],
        )
    code = _one(params, "code")
    if not code:
        raise AuthenticationFailed(
            "the redirect carries no authorization code; nothing was changed", broker=BROKER
        )
    return code


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None
