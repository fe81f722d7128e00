"""The web front end's own route table, for the security tests: every route and method as
``create_app`` builds it (never a hand-written list), concrete URLs for them and request
bodies their handlers accept."""

from __future__ import annotations

import enum
import re
import tempfile
import types
import typing
from decimal import Decimal
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

import attrs
from cryptography.fernet import Fernet
from litestar import Litestar
from litestar.enums import RequestEncodingType
from litestar.handlers.http_handlers import HTTPRouteHandler

from tradecore.domain import Secret
from tradecore_adapters.bootstrap import Settings, bootstrap
from tradecore_adapters.memory import MemoryRepository
from tradecore_web import create_app

ID_PARAMETERS = ("connection_id", "strategy_id", "order_id", "run_id", "target_id")
"""The path parameters naming one of a user's resources (docs: web conventions)."""

LITESTAR_PARAMETERS = {
    "file_path": "style.css",  # the static files' router
    "path": "no-such-document",  # the OpenAPI router's not-found handler
}
"""Path parameters of Litestar's own routes, with a value each."""

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_PARAMETER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[^}]*)?\}")


@attrs.frozen
class Endpoint:
    """One method of one route of the application."""

    method: str
    path: str
    handler: HTTPRouteHandler

    @property
    def parameters(self) -> tuple[str, ...]:
        """The path parameters' names."""
        return tuple(_PARAMETER.findall(self.path))

    @property
    def public(self) -> bool:
        """Whether the handler says it needs no login."""
        return bool(self.handler.opt.get("public"))

    @property
    def scope(self) -> str | None:
        """The scope the handler names (read, write, execute)."""
        value = self.handler.opt.get("scope")
        return None if value is None else str(value)

    @property
    def is_api(self) -> bool:
        """Whether errors are answered in problem+json (the JSON API) rather than pages."""
        return self.path == "/api" or self.path.startswith(("/api/", "/automation/", "/metrics"))

    def url(self, ids: typing.Mapping[str, str]) -> str:
        """The path with each parameter replaced by ``ids`` (or Litestar's own placeholders)."""

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            return ids.get(name) or LITESTAR_PARAMETERS[name]

        return _PARAMETER.sub(value, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@cache
def route_app() -> Litestar:
    """The web front end over a throwaway memory application: only its routes are read."""
    settings = Settings(
        home=tempfile.mkdtemp(prefix="tradecore-routes-"),
        secret_keys=Secret(Fernet.generate_key().decode("ascii")),
    )
    return create_app(bootstrap(settings, repository=MemoryRepository()))


def endpoints(app: Litestar | None = None) -> list[Endpoint]:
    """Every route and method of ``app`` (the route table's), except Litestar's automatic
    ``OPTIONS`` answers (the authentication middleware lets those through: they only list the
    methods)."""
    found = []
    for route in (app or route_app()).routes:
        for handler in getattr(route, "route_handlers", ()):
            for method in sorted(handler.http_methods):
                if method == "OPTIONS":
                    continue
                found.append(Endpoint(method=method, path=route.path, handler=handler))
    return found


def routed_handler(app: Litestar, method: str, url: str) -> Any:
    """The handler Litestar's router picks for ``method url`` (a wrong URL would test nothing)."""
    path = url.rstrip("/") or "/"
    return app.asgi_router.handle_routing(path=path, method=method)[1]  # type: ignore[arg-type]


def body_for(endpoint: Endpoint) -> dict[str, Any]:
    """Keyword arguments for the test client with a body the handler's ``data`` accepts: every
    field without a default gets a plain value of its type."""
    parameter = endpoint.handler.parsed_fn_signature.parameters.get("data")
    if parameter is None:
        return {}
    kind = parameter.annotation
    if get_origin(kind) is typing.Annotated:
        kind = get_args(kind)[0]
    body = _example(kind)
    media = getattr(parameter.kwarg_definition, "media_type", None)
    if media in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
        return {"data": {key: str(value) for key, value in (body or {}).items()}}
    return {"json": body}


def _example(kind: Any) -> Any:
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [each for each in get_args(kind) if each is not type(None)]
        return None if len(options) < len(get_args(kind)) else _example(options[0])
    if origin is Literal:
        return get_args(kind)[0]
    if origin in (list, tuple, set, frozenset) or kind in (list, tuple):
        return []
    if origin is dict or kind is dict:
        return {}
    if attrs.has(kind):
        hints = typing.get_type_hints(kind)
        return {
            field.name: _example(hints[field.name])
            for field in attrs.fields(kind)
            if field.default is attrs.NOTHING and field.init
        }
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return next(iter(kind)).value
    if kind is bool:
        return False
    if kind is int:
        return 1
    if kind in (Decimal, float):
        return "1"
    return "x1"
