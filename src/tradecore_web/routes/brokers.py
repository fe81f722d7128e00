"""``/brokers/``: the dashboard's first screen, the user's connections and automation; and the
one-line messages (flashes) a page shows after a Post/Redirect/Get."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Redirect, Template

from tradecore_web.auth import principal_of
from tradecore_web.state import application_of

__all__ = ["brokers_page", "flash", "home", "take_flashes"]

_FLASHES = "flashes"
_MAX_FLASHES = 5


def flash(request: Request[Any, Any, Any], text: str, *, error: bool = False) -> None:
    """Keep ``text`` in the session for the next page shown (after a 303)."""
    session = dict(request.session or {})
    kept = [*session.get(_FLASHES, []), {"text": text, "error": error}][-_MAX_FLASHES:]
    session[_FLASHES] = kept
    request.set_session(session)


def take_flashes(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    """The messages kept by :func:`flash`, removed from the session (shown once)."""
    session = dict(request.session or {})
    kept = session.pop(_FLASHES, [])
    if kept:
        request.set_session(session)
    return [each for each in kept if isinstance(each, dict)]


@get("/", opt={"scope": "read"}, include_in_schema=False, name="home")
async def home() -> Redirect:
    """The dashboard lives at ``/brokers/``."""
    return Redirect(path="/brokers/")


@get("/brokers/", opt={"scope": "read"}, include_in_schema=False, name="brokers")
async def brokers_page(request: Request[Any, Any, Any]) -> Template:
    """The user's connections (with their counts of positions and trades, what keeps one from
    working, and their buttons) and the automation section."""
    principal = principal_of(request)
    app = application_of(request)
    overview = await app.overview.of(principal.user.id)
    counts = {
        each.connection.id: each for each in await app.connections.footprints(principal.user.id)
    }
    oauth = {factory.name for factory in app.connections.installed() if factory.login is not None}
    return Template(
        template_name="brokers.html",
        context={
            "overview": overview,
            "counts": counts,
            "oauth_brokers": oauth,
            "flashes": take_flashes(request),
        },
    )
