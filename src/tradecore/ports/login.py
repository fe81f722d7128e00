"""How a person logs a connection in at a broker whose authorization needs a browser (OAuth2
authorization code, with PKCE): :class:`OAuthLogin` and the :class:`LoginRequest` it prepares.

A broker factory offers one as ``BrokerFactory.login``; ``tradecore broker login`` calls
:meth:`OAuthLogin.begin`, shows the URL, waits for the browser to come back to the redirect URI
(or for the person to paste where it landed), and calls :meth:`OAuthLogin.complete`. Storing the
tokens is the caller's business (:func:`tradecore.services.save_login`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from attrs import frozen

from tradecore.domain import BrokerConnection, OAuthTokens, Secret
from tradecore.ports.clock import Clock

__all__ = ["LoginRequest", "OAuthLogin"]


@frozen(kw_only=True)
class LoginRequest:
    """One login in progress.

    :param url: the authorization URL to open in a browser; it carries the state and the PKCE
        challenge, never a secret.
    :param redirect_uri: where the broker sends the browser back to.
    :param state: the anti-forgery value the redirect must carry back.
    :param code_verifier: the PKCE verifier, kept here until the code is exchanged.
    :param started_at: when the login began (UTC).
    """

    url: str
    redirect_uri: str
    state: Secret
    code_verifier: Secret | None = None
    started_at: datetime


class OAuthLogin(Protocol):
    """A broker's browser login."""

    def begin(self, connection: BrokerConnection, *, clock: Clock) -> LoginRequest:
        """Prepare a login for ``connection`` (no I/O): a fresh state, a fresh PKCE verifier,
        and the authorization URL.

        :raises ConfigurationError: the connection's settings cannot make a login (no client id,
            a redirect URI that is not a URL…).
        """
        ...

    async def complete(
        self,
        connection: BrokerConnection,
        request: LoginRequest,
        redirected_to: str,
        *,
        clock: Clock,
        http_client: object | None = None,
    ) -> OAuthTokens:
        """Check the URL the browser was redirected to and exchange its code for tokens, once.

        Nothing is stored: the caller saves the tokens (see
        :func:`tradecore.services.save_login`).

        :param redirected_to: the full URL the browser landed on (query string included).
        :param http_client: an ``httpx.AsyncClient`` to use (tests pass one over a mock
            transport); typed loosely because the core never imports httpx.
        :raises AuthenticationFailed: the state does not match, the redirect carries the
            broker's refusal (``error=access_denied``…), or the code exchange failed; the
            message says which.
        """
        ...
