"""Logging a connection in at its broker through the browser (OAuth: Saxo).

Log in (``POST /brokers/{connection_id}/login/``) asks :meth:`OAuthLogins.begin` for the
authorization URL and keeps the login's state and PKCE verifier in the server-side session (the
cookie holds only the session id), then sends the browser to the broker. The broker sends it back
to ``/brokers/saxo/callback/``, which hands the whole address to :meth:`OAuthLogins.complete`:
a wrong ``state`` (a forged or stale callback) is refused there and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from tradecore.domain import Secret
from tradecore.errors import BrokerError, DomainError, NotFound
from tradecore.ports import LoginRequest
from tradecore.services import describe_error
from tradecore_web.auth import principal_of
from tradecore_web.routes.brokers import flash
from tradecore_web.state import application_of

__all__ = ["CALLBACK_PATH", "ROUTES"]

CALLBACK_PATH = "/brokers/saxo/callback/"
"""Where the broker sends the browser back (the redirect URI is ``<base>`` + this)."""

_PENDING = "oauth_login"


def _back() -> Redirect:
    return Redirect(path="/brokers/", status_code=HTTP_303_SEE_OTHER)


@post("/brokers/{connection_id:str}/login/", opt={"scope": "execute"}, include_in_schema=False)
async def log_in_at_broker(
    request: Request[Any, Any, Any], connection_id: FromPath[str]
) -> Redirect:
    """Begin the login and send the browser to the broker's authorization page."""
    user = principal_of(request).user
    app = application_of(request)
    connection = await app.connections.by_id(user.id, connection_id)
    try:
        _, login = await app.logins.begin(user.id, connection.name)
    except DomainError as exc:
        flash(request, f"{connection.name}: {exc}", error=True)
        return _back()
    expected = f"{str(request.base_url).rstrip('/')}{CALLBACK_PATH}"
    if urlsplit(login.redirect_uri).path != CALLBACK_PATH:
        flash(
            request,
            f"{connection.name}: its redirect_uri is {login.redirect_uri}; to log in from this "
            f"page set it to {expected} (and register that address with the broker's app)",
            error=True,
        )
        return _back()
    session = dict(request.session or {})
    session[_PENDING] = {
        "connection_id": connection.id,
        "url": login.url,
        "redirect_uri": login.redirect_uri,
        "state": login.state.reveal(),
        "verifier": None if login.code_verifier is None else login.code_verifier.reveal(),
        "started_at": login.started_at.isoformat(),
    }
    request.set_session(session)
    return Redirect(path=login.url, status_code=HTTP_303_SEE_OTHER)


def _pending(request: Request[Any, Any, Any]) -> tuple[str, LoginRequest] | None:
    kept = (request.session or {}).get(_PENDING)
    if not isinstance(kept, dict):
        return None
    verifier = kept.get("verifier")
    login = LoginRequest(
        url=str(kept["url"]),
        redirect_uri=str(kept["redirect_uri"]),
        state=Secret(str(kept["state"])),
        code_verifier=None if verifier is None else Secret(str(verifier)),
        started_at=datetime.fromisoformat(str(kept["started_at"])),
    )
    return str(kept["connection_id"]), login


@get(CALLBACK_PATH, opt={"scope": "execute"}, include_in_schema=False)
async def oauth_callback(request: Request[Any, Any, Any]) -> Redirect:
    """Complete the login the session began with the address the broker sent the browser to;
    a callback that does not carry that login's state changes nothing."""
    pending = _pending(request)
    if pending is None:
        flash(request, "no broker login is in progress: press Log in first", error=True)
        return _back()
    connection_id, login = pending
    user = principal_of(request).user
    app = application_of(request)
    try:
        connection = await app.connections.by_id(user.id, connection_id)
        tokens = await app.logins.complete(user.id, connection.name, login, str(request.url))
    except NotFound:
        flash(request, "the connection of this login was removed meanwhile", error=True)
        return _back()
    except (BrokerError, DomainError) as exc:
        flash(request, f"login failed: {describe_error(exc)}", error=True)
        return _back()
    session = dict(request.session or {})
    session.pop(_PENDING, None)
    request.set_session(session)
    flash(
        request,
        f"{connection.name}: logged in; the access token is valid until "
        f"{tokens.access_expires_at:%Y-%m-%d %H:%M} UTC",
    )
    return _back()


ROUTES: list[Any] = [log_in_at_broker, oauth_callback]
"""The OAuth login's two handlers."""
