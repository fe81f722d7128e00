"""``/metrics``: the whole deployment in Prometheus's text format (docs/metrics.md).

Open to a client on this machine's loopback (not behind a reverse proxy, where every request
comes from loopback), else to an administrator's API token with the ``metrics`` scope, which
can read nothing else. Computed from the database, so one scrape covers every daemon.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from tradecore_adapters.bootstrap import render_metrics
from tradecore_web.state import application_of

__all__ = ["ROUTES", "metrics"]

_BEARER = "bearer "


@get("/metrics", opt={"public": True, "exclude_from_csrf": True}, include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The metrics (its own check: loopback, or a token with the metrics scope)."""
    app = application_of(request)
    header = request.headers.get("authorization", "")
    token = header[len(_BEARER) :].strip() if header[: len(_BEARER)].lower() == _BEARER else None
    await app.metrics.authorise(
        token=token,
        client=request.client.host if request.client else None,
        allow_loopback=bool(request.app.state.get("metrics_from_loopback", True)),
    )
    body, content_type = await render_metrics(app)
    return Response(content=body, media_type=content_type)


ROUTES: list[Any] = [metrics]
