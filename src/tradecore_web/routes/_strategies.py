"""``/strategies/``: list, add (a type's parameters as a form), edit parameters, enable or
disable, dry run or live, remove after a confirmation. Strategies are addressed by id, looked up
among the principal's own (:meth:`Strategies.get`): another user's id is "not found"."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from attrs import define
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tradecore.errors import (
    AlreadyExists,
    ConfigurationError,
    DomainError,
    NotFound,
    PluginError,
)
from tradecore.ports import StrategyFactory
from tradecore.services import StrategyView
from tradecore_adapters.bootstrap import Application
from tradecore_web.auth import principal_of
from tradecore_web.state import application_of

__all__ = ["PAGE_ROUTES"]

_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
_PARAM = "param_"
_NAMED = re.compile(r"parameter '([^']+)'")


def _field_of(exc: Exception) -> str:
    # The form field a service's refusal is about, to show the message next to it.
    if isinstance(exc, NotFound):
        return "connection"
    if isinstance(exc, AlreadyExists):
        return "name"
    if isinstance(exc, PluginError):
        return "type"
    found = _NAMED.search(str(exc))
    if found:
        return _PARAM + found.group(1)
    if isinstance(exc, DomainError) and "name" in str(exc):
        return "name"
    return "form"


def _parameters(form: Mapping[str, Any], factory: StrategyFactory) -> dict[str, str]:
    given: dict[str, str] = {}
    for parameter in factory.parameters:
        value = form.get(_PARAM + parameter.name)
        if isinstance(value, str) and value.strip():
            given[parameter.name] = value.strip()
    return given


async def _view(request: Request[Any, Any, Any], strategy_id: FromPath[str]) -> StrategyView:
    return await application_of(request).strategies.get(principal_of(request).user.id, strategy_id)


def _form_page(template: str, status: int = 200, **context: Any) -> Template:
    return Template(template_name=template, context=context, status_code=status)


@get("/strategies/", opt={"scope": "read"}, include_in_schema=False, name="strategies")
async def strategies_page(request: Request[Any, Any, Any]) -> Template:
    """The user's strategies, and the installed types to add one."""
    app = application_of(request)
    found = await app.strategies.list(principal_of(request).user.id)
    return _form_page("strategies.html", strategies=found, types=app.strategies.types())


async def _new_context(app: Application, user_id: str, strategy_type: str) -> dict[str, Any]:
    factory = next((each for each in app.strategies.types() if each.name == strategy_type), None)
    if factory is None:
        raise NotFound(f"strategy type {strategy_type!r} is not installed")
    connections = await app.connections.list(user_id)
    return {"factory": factory, "connections": connections}


@get("/strategies/new", opt={"scope": "read"}, include_in_schema=False, name="strategy_new")
async def new_strategy_page(
    request: Request[Any, Any, Any],
    strategy_type: Annotated[str, QueryParameter(name="type")] = "",
) -> Template:
    """The form to add a strategy of one installed type (its parameters as fields)."""
    app = application_of(request)
    context = await _new_context(app, principal_of(request).user.id, strategy_type)
    return _form_page(
        "strategy_form.html", **context, values={"mode": "dry_run"}, errors={}, strategy=None
    )


@post("/strategies/new", opt={"scope": "write"}, include_in_schema=False, name="strategy_add")
async def add_strategy(request: Request[Any, Any, Any]) -> Response[Any]:
    """Add the strategy; on a refusal the form again, the message next to its field."""
    app = application_of(request)
    user = principal_of(request).user
    form = dict(await request.form())
    strategy_type = str(form.get("type", ""))
    context = await _new_context(app, user.id, strategy_type)
    values = {key: str(value) for key, value in form.items() if key != "_csrf_token"}
    try:
        await app.strategies.add(
            user.id,
            strategy_type=strategy_type,
            name=str(form.get("name", "")),
            connection=str(form.get("connection", "")),
            parameters=_parameters(form, context["factory"]),
            dry_run=form.get("mode") != "live",
        )
    except (DomainError, ConfigurationError, NotFound, AlreadyExists, PluginError) as exc:
        return _form_page(
            "strategy_form.html",
            422,
            **context,
            values=values,
            errors={_field_of(exc): str(exc)},
            strategy=None,
        )
    return Redirect(path="/strategies/", status_code=HTTP_303_SEE_OTHER)


@get(
    "/strategies/{strategy_id:str}/",
    opt={"scope": "read"},
    include_in_schema=False,
    name="strategy_edit",
)
async def edit_strategy_page(
    request: Request[Any, Any, Any], strategy_id: FromPath[str]
) -> Template:
    """One strategy: its parameters to edit, its state and mode."""
    view = await _view(request, strategy_id)
    values = {_PARAM + key: value for key, value in view.config.parameters.items()}
    return _form_page(
        "strategy_form.html",
        factory=view.factory,
        connections=(),
        values=values,
        errors={},
        strategy=view,
    )


@post(
    "/strategies/{strategy_id:str}/",
    opt={"scope": "write"},
    include_in_schema=False,
    name="strategy_save",
)
async def save_strategy(
    request: Request[Any, Any, Any], strategy_id: FromPath[str]
) -> Response[Any]:
    """Save the parameters: a filled field is set, an emptied one goes back to its default."""
    app = application_of(request)
    user = principal_of(request).user
    view = await _view(request, strategy_id)
    form = dict(await request.form())
    values = {key: str(value) for key, value in form.items() if key != "_csrf_token"}
    try:
        if view.factory is None:
            raise PluginError(
                f"strategy type {view.config.strategy_type!r} is not installed: "
                "its parameters cannot be checked"
            )
        given = _parameters(form, view.factory)
        current = dict(view.config.parameters)
        changed = {key: value for key, value in given.items() if current.get(key) != value}
        unset = [key for key in current if key not in given]
        await app.strategies.edit(user.id, view.config.name, parameters=changed, unset=unset)
    except (DomainError, ConfigurationError, NotFound, PluginError) as exc:
        return _form_page(
            "strategy_form.html",
            422,
            factory=view.factory,
            connections=(),
            values=values,
            errors={_field_of(exc): str(exc)},
            strategy=view,
        )
    return Redirect(path="/strategies/", status_code=HTTP_303_SEE_OTHER)


@define
class SwitchForm:
    """An on/off switch's field: ``value`` is ``on``/``off`` (active) or ``live``/``dry_run``."""

    value: str = ""


@post(
    "/strategies/{strategy_id:str}/active",
    opt={"scope": "write"},
    include_in_schema=False,
    name="strategy_active",
)
async def set_strategy_active(
    request: Request[Any, Any, Any],
    strategy_id: FromPath[str],
    data: Annotated[SwitchForm, _FORM],
) -> Redirect:
    """Enable (``on``) or disable (``off``) the strategy."""
    view = await _view(request, strategy_id)
    await application_of(request).strategies.set_active(
        principal_of(request).user.id, view.config.name, active=data.value == "on"
    )
    return Redirect(path="/strategies/", status_code=HTTP_303_SEE_OTHER)


@post(
    "/strategies/{strategy_id:str}/mode",
    opt={"scope": "write"},
    include_in_schema=False,
    name="strategy_mode",
)
async def set_strategy_mode(
    request: Request[Any, Any, Any],
    strategy_id: FromPath[str],
    data: Annotated[SwitchForm, _FORM],
) -> Redirect:
    """Switch the strategy to ``live`` (place orders) or ``dry_run`` (place nothing)."""
    view = await _view(request, strategy_id)  # another user's id: 404 before anything else
    if data.value not in ("live", "dry_run"):
        raise DomainError("say which mode: live or dry_run")
    await application_of(request).strategies.set_mode(
        principal_of(request).user.id, view.config.name, dry_run=data.value == "dry_run"
    )
    return Redirect(path="/strategies/", status_code=HTTP_303_SEE_OTHER)


@get(
    "/strategies/{strategy_id:str}/remove",
    opt={"scope": "read"},
    include_in_schema=False,
    name="strategy_remove_page",
)
async def remove_strategy_page(
    request: Request[Any, Any, Any], strategy_id: FromPath[str]
) -> Template:
    """Ask first: what removing the strategy leaves behind (its orders stay)."""
    view = await _view(request, strategy_id)
    footprint = await application_of(request).strategies.footprint(
        principal_of(request).user.id, view.config.name
    )
    return _form_page("strategy_remove.html", strategy=view, footprint=footprint)


@post(
    "/strategies/{strategy_id:str}/remove",
    opt={"scope": "write"},
    include_in_schema=False,
    name="strategy_remove",
)
async def remove_strategy(request: Request[Any, Any, Any], strategy_id: FromPath[str]) -> Redirect:
    """Remove the strategy (its orders stay in the ledger)."""
    view = await _view(request, strategy_id)
    await application_of(request).strategies.remove(principal_of(request).user.id, view.config.name)
    return Redirect(path="/strategies/", status_code=HTTP_303_SEE_OTHER)


PAGE_ROUTES: list[Any] = [
    strategies_page,
    new_strategy_page,
    add_strategy,
    edit_strategy_page,
    save_strategy,
    set_strategy_active,
    set_strategy_mode,
    remove_strategy_page,
    remove_strategy,
]
