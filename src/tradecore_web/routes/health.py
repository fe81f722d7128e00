"""``/healthz``: whether this web server can reach its database (for load balancers)."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from tradecore.services import describe_error
from tradecore_web.state import application_of

__all__ = ["healthz"]

_log = logging.getLogger("tradecore.web")


@get(
    "/healthz",
    opt={"public": True},
    name="healthz",
    tags=["health"],
    responses={
        503: ResponseSpec(
            dict[str, str], description="The database cannot be read", generate_examples=False
        )
    },
)
async def healthz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """``{"status": "ok", "database": "ok", "daemons": N}`` (200), or ``"unavailable"`` with
    the reason (503) when the database cannot be read."""
    app = application_of(request)
    try:
        daemons = await app.automation.daemons()
    except Exception as exc:
        _log.warning("healthz: the database cannot be read: %s", describe_error(exc))
        return Response(
            {
                "status": "unavailable",
                "database": "unavailable",
                "detail": "the database cannot be read",
            },
            status_code=503,
        )
    return Response({"status": "ok", "database": "ok", "daemons": len(daemons.alive)})
