"""Logging in and out, and the language switch."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from attrs import define
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tradecore.errors import LoginRefused
from tradecore_web.auth import session_user
from tradecore_web.i18n import LANGUAGE_COOKIE
from tradecore_web.sessions import log_in_session, log_out_session
from tradecore_web.state import application_of

__all__ = ["LoginForm", "language", "login", "login_page", "logout"]

_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
_HOME = "/brokers/"


def _safe_next(target: str | None) -> str:
    """Where to go after the login: a path of this site only (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return _HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return _HOME
    return target


@define
class LoginForm:
    """The login form's fields."""

    name: str = ""
    password: str = ""
    next: str = ""


@get("/login", opt={"public": True}, include_in_schema=False, name="login_page")
async def login_page(next: FromQuery[str | None] = None) -> Template:
    """The login form."""
    return Template(
        template_name="login.html",
        context={"next": _safe_next(next), "error": None, "name": ""},
    )


@post("/login", opt={"public": True}, include_in_schema=False, name="login")
async def login(
    request: Request[Any, Any, Any], data: Annotated[LoginForm, _FORM]
) -> Response[Any]:
    """Check the name and password; on success a new session, then the page asked for."""
    app = application_of(request)
    address = request.client.host if request.client else "unknown"
    try:
        user = await app.passwords.authenticate(data.name, data.password, address=address)
    except LoginRefused as exc:
        return Template(
            template_name="login.html",
            context={"next": _safe_next(data.next), "error": str(exc), "name": data.name},
            status_code=429 if exc.retry_after is not None else 401,
        )
    log_in_session(request, user.id)
    return Redirect(path=_safe_next(data.next), status_code=HTTP_303_SEE_OTHER)


@post("/logout", opt={"scope": "read"}, include_in_schema=False, name="logout")
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    """End the session and go back to the login page."""
    log_out_session(request)
    return Redirect(path="/login", status_code=HTTP_303_SEE_OTHER)


@define
class LanguageForm:
    """The language switch's fields."""

    language: str = ""
    next: str = ""


@post("/language", opt={"public": True}, include_in_schema=False, name="language")
async def language(
    request: Request[Any, Any, Any], data: Annotated[LanguageForm, _FORM]
) -> Redirect:
    """Remember the language chosen and go back to the page: stored with the logged-in user's
    account (every browser they log in from), and in a cookie for the pages before a login.
    An empty choice goes back to the browser's language; one tradecore does not speak is
    refused (400) and changes nothing."""
    app = application_of(request)
    user = await session_user(request)
    if user is not None:
        chosen = (await app.users.set_language(user.id, data.language or None)).language
    else:
        chosen = app.users.checked_language(data.language or None)
    response = Redirect(path=_safe_next(data.next), status_code=HTTP_303_SEE_OTHER)
    if chosen is None:
        response.delete_cookie(LANGUAGE_COOKIE)
    else:
        response.set_cookie(
            LANGUAGE_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", httponly=True
        )
    return response
