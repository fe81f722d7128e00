"""Errors as answers: ``application/problem+json`` for the API (RFC 9457), a page for a browser.

Every error is one clear sentence; a crash in one request is logged with its traceback and
answered with a 500 that shows none, and the server goes on.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from attrs import define
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    PermissionDeniedException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_502_BAD_GATEWAY,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from tradecore.errors import (
    AlreadyExists,
    BrokerError,
    ConfigurationError,
    CycleBusy,
    DomainError,
    LeaseLost,
    LoginRefused,
    NotFound,
    NotificationError,
    OrderBlocked,
    PluginError,
)
from tradecore.services import describe_error
from tradecore_adapters.bootstrap import is_database_down
from tradecore_web.i18n import N_

__all__ = [
    "PROBLEM_JSON",
    "Problem",
    "document_problems",
    "exception_handlers",
    "is_api",
    "problem",
]

_log = logging.getLogger("tradecore.web")

PROBLEM_JSON = "application/problem+json"

_CSRF_REFUSED = "the form's security token is missing or stale: reload the page and try again"
_ERROR = N_("Error")
_TITLES = {
    400: N_("Bad request"),
    401: N_("Not logged in"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Request too large"),
    422: N_("Refused"),
    429: N_("Too many attempts"),
    500: N_("Internal error"),
    502: N_("Upstream error"),
    503: N_("Unavailable"),
}


@define
class Problem:
    """An error answer of the API (RFC 9457 problem details): one sentence in ``detail``.

    :param rule: the risk rule that blocked an order (422).
    :param retry_after: when a locked-out login may try again (429), UTC ISO 8601.
    """

    type: str
    title: str
    status: int
    detail: str
    rule: str | None = None
    retry_after: str | None = None


def document_problems(handler: Any) -> None:
    """Declare in the OpenAPI document the problem answers every operation may give (a
    handler's own declaration of a status wins)."""
    declared = dict(handler.responses or {})
    for status, title in _TITLES.items():
        declared.setdefault(
            status,
            ResponseSpec(
                data_container=Problem,
                media_type=PROBLEM_JSON,
                description=title,
                generate_examples=False,
            ),
        )
    handler.responses = declared


def is_api(request: Request[Any, Any, Any]) -> bool:
    """Whether ``request`` is one of the JSON API's (answered in problem+json)."""
    path = request.url.path
    return (
        path == "/api"
        or path.startswith(("/api/", "/automation/", "/metrics"))
        or (
            "application/json" in request.headers.get("accept", "")
            and "text/html" not in request.headers.get("accept", "")
        )
    )


def problem(status: int, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    """A problem+json answer."""
    body = {"type": "about:blank", "title": _TITLES.get(status, _ERROR), "status": status}
    body["detail"] = detail
    body.update(extra)
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON)


def _answer(
    request: Request[Any, Any, Any], status: int, detail: str, **extra: Any
) -> Response[Any]:
    if is_api(request):
        response = problem(status, detail, **extra)
        if status == HTTP_401_UNAUTHORIZED:
            response.headers["www-authenticate"] = 'Bearer realm="tradecore"'
        return response
    if status == HTTP_401_UNAUTHORIZED:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return Redirect(
            path=f"/login?next={quote(target, safe='')}", status_code=HTTP_303_SEE_OTHER
        )
    return Template(
        template_name="error.html",
        context={"status": status, "title": _TITLES.get(status, _ERROR), "detail": detail},
        status_code=status,
        media_type=MediaType.HTML,
    )


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    detail = exc.detail
    if isinstance(exc, PermissionDeniedException) and "CSRF" in detail:
        detail = _CSRF_REFUSED
    status = exc.status_code
    if status >= 500:
        _log.error("%s %s failed: %s", request.method, request.url.path, detail)
        detail = "the server could not answer this request; the error is logged"
    if status == 413:
        detail = "the request body is too large"
    if status == HTTP_400_BAD_REQUEST and exc.extra:
        detail = _validation_sentence(detail, exc.extra)
    response = _answer(request, status, detail or _TITLES.get(status, _ERROR))
    for name, value in (exc.headers or {}).items():  # Allow on a 405, Retry-After…
        response.headers.setdefault(name, value)
    return response


def _validation_sentence(detail: str, extra: Any) -> str:
    if isinstance(extra, list) and extra and isinstance(extra[0], dict):
        first = extra[0]
        key = first.get("key")
        message = first.get("message") or detail
        return f"{key}: {message}" if key else str(message)
    return detail


def _domain(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, NotFound):
        return _answer(request, HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, AlreadyExists):
        return _answer(request, HTTP_409_CONFLICT, str(exc))
    if isinstance(exc, OrderBlocked):
        return _answer(request, HTTP_422_UNPROCESSABLE_ENTITY, str(exc), rule=exc.rule)
    if isinstance(exc, LoginRefused):
        if exc.retry_after is not None:
            return _answer(
                request,
                HTTP_429_TOO_MANY_REQUESTS,
                str(exc),
                retry_after=exc.retry_after.isoformat(),
            )
        return _answer(request, HTTP_401_UNAUTHORIZED, str(exc))
    if isinstance(exc, CycleBusy | LeaseLost):
        return _answer(request, HTTP_409_CONFLICT, str(exc))
    if isinstance(exc, BrokerError | NotificationError):
        return _answer(request, HTTP_502_BAD_GATEWAY, describe_error(exc))
    return _answer(request, HTTP_400_BAD_REQUEST, str(exc))  # DomainError, PluginError…


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_database_down(exc):
        _log.warning(
            "%s %s: the database is unavailable: %s",
            request.method,
            request.url.path,
            describe_error(exc),
        )
        return _answer(
            request,
            HTTP_503_SERVICE_UNAVAILABLE,
            "the database is unavailable right now; try again in a moment",
        )
    _log.exception("%s %s failed", request.method, request.url.path)
    return _answer(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "the server could not answer this request; the error is logged",
    )


def exception_handlers() -> dict[type[Exception] | int, Any]:
    """Litestar's exception handlers for the web front end."""
    return {
        HTTPException: _http,
        DomainError: _domain,
        ConfigurationError: _domain,
        NotFound: _domain,
        AlreadyExists: _domain,
        OrderBlocked: _domain,
        LoginRefused: _domain,
        BrokerError: _domain,
        PluginError: _domain,
        CycleBusy: _domain,
        LeaseLost: _domain,
        NotificationError: _domain,
        Exception: _unexpected,
    }
