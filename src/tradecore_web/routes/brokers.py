"""``/brokers/``: the dashboard's first screen, the user's connections and automation."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Redirect, Template

from tradecore_web.auth import principal_of
from tradecore_web.state import application_of

__all__ = ["brokers_page", "home"]


@get("/", opt={"scope": "read"}, include_in_schema=False, name="home")
async def home() -> Redirect:
    """The dashboard lives at ``/brokers/``."""
    return Redirect(path="/brokers/")


@get("/brokers/", opt={"scope": "read"}, include_in_schema=False, name="brokers")
async def brokers_page(request: Request[Any, Any, Any]) -> Template:
    """The user's connections and the automation section."""
    principal = principal_of(request)
    overview = await application_of(request).overview.of(principal.user.id)
    return Template(template_name="brokers.html", context={"overview": overview})
