"""Strategies, the user's risk limits, notification targets; and their JSON API.

``/risk/`` shows and sets the user's own limits; the kill switch is shown read only (an
administrator changes it on the operator page). ``/notifications/`` lists, adds (a Telegram
chat: its chat id, and a bot token in a password field that is never shown again), enables or
disables, removes and tests the user's targets. Strategies are in :mod:`._strategies`, the
JSON API in :mod:`._settings_api`.
"""

from __future__ import annotations

from typing import Annotated, Any

from attrs import define
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tradecore.domain import Secret
from tradecore.errors import (
    AlreadyExists,
    ConfigurationError,
    DomainError,
    NotificationError,
    PluginError,
)
from tradecore_web.auth import principal_of
from tradecore_web.routes._settings_api import API_ROUTES, parse_amount
from tradecore_web.routes._strategies import PAGE_ROUTES
from tradecore_web.state import application_of

__all__ = ["ROUTES", "RiskForm", "TargetForm"]

_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
_LIMITS = (
    "max_order_notional",
    "max_cycle_notional",
    "max_orders_per_cycle",
    "allowed_instruments",
)


@define
class RiskForm:
    """The risk limits form: an empty field means "no limit"."""

    max_order_notional: str = ""
    max_cycle_notional: str = ""
    max_orders_per_cycle: str = ""
    allowed_instruments: str = ""


def _count(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise DomainError(
            f"max orders per cycle must be a whole number >= 0, got {text.strip()!r}"
        ) from None


def _symbols(text: str) -> list[str] | None:
    symbols = [each.strip() for each in text.replace("\n", ",").split(",") if each.strip()]
    return symbols or None


def _limit_field(exc: DomainError) -> str:
    text = str(exc).replace("_", " ")
    for name in _LIMITS:
        if name.replace("_", " ") in text:
            return name
    return "form"


async def _risk_page(
    request: Request[Any, Any, Any], values: dict[str, str] | None, errors: dict[str, str]
) -> Template:
    overview = await application_of(request).risk.show(principal_of(request).user.id)
    if values is None:
        limits = overview.limits
        values = {
            "max_order_notional": _plain(limits.max_order_notional),
            "max_cycle_notional": _plain(limits.max_cycle_notional),
            "max_orders_per_cycle": _plain(limits.max_orders_per_cycle),
            "allowed_instruments": ", ".join(sorted(limits.allowed_instruments or ())),
        }
    return Template(
        template_name="risk.html",
        context={"overview": overview, "values": values, "errors": errors},
        status_code=422 if errors else 200,
    )


def _plain(value: object) -> str:
    return "" if value is None else str(value)


@get("/risk/", opt={"scope": "read"}, include_in_schema=False, name="risk")
async def risk_page(request: Request[Any, Any, Any]) -> Template:
    """The user's risk limits (a form) and the kill switch, read only."""
    return await _risk_page(request, None, {})


@post("/risk/", opt={"scope": "write"}, include_in_schema=False, name="risk_save")
async def save_risk(
    request: Request[Any, Any, Any], data: Annotated[RiskForm, _FORM]
) -> Response[Any]:
    """Set the four limits as given (an empty field removes a limit)."""
    user_id = principal_of(request).user.id
    try:
        await application_of(request).risk.set_limits(
            user_id,
            max_order_notional=parse_amount(data.max_order_notional, "max order notional"),
            max_cycle_notional=parse_amount(data.max_cycle_notional, "max cycle notional"),
            max_orders_per_cycle=_count(data.max_orders_per_cycle),
            allowed_instruments=_symbols(data.allowed_instruments),
        )
    except DomainError as exc:
        values = {name: getattr(data, name) for name in _LIMITS}
        return await _risk_page(request, values, {_limit_field(exc): str(exc)})
    return Redirect(path="/risk/", status_code=HTTP_303_SEE_OTHER)


@define
class TargetForm:
    """A Telegram chat to add: its name (optional), chat id and bot token (optional)."""

    name: str = ""
    chat_id: str = ""
    bot_token: str = ""


async def _targets_page(
    request: Request[Any, Any, Any],
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    tested: Any = None,
) -> Template:
    found = await application_of(request).targets.list(principal_of(request).user.id)
    return Template(
        template_name="notifications.html",
        context={
            "targets": found,
            "values": values or {},
            "errors": errors or {},
            "tested": tested,
        },
        status_code=422 if errors else 200,
    )


def _target_field(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, AlreadyExists) or (isinstance(exc, DomainError) and "name" in text):
        return "name"
    if "bot_token" in text or "token" in text.casefold():
        return "bot_token"
    return "chat_id"


@get("/notifications/", opt={"scope": "read"}, include_in_schema=False, name="notifications")
async def notifications_page(request: Request[Any, Any, Any]) -> Template:
    """The user's notification targets, and the form to add a Telegram chat."""
    return await _targets_page(request)


@post("/notifications/", opt={"scope": "write"}, include_in_schema=False, name="target_add")
async def add_target(
    request: Request[Any, Any, Any], data: Annotated[TargetForm, _FORM]
) -> Response[Any]:
    """Add the Telegram chat (checked first, nothing sent); the token is never shown again."""
    secrets = {"bot_token": Secret(data.bot_token.strip())} if data.bot_token.strip() else {}
    try:
        await application_of(request).targets.add(
            principal_of(request).user.id,
            notifier="telegram",
            name=data.name.strip() or None,
            settings={"chat_id": data.chat_id.strip()},
            secrets=secrets,
        )
    except (
        DomainError,
        ConfigurationError,
        NotificationError,
        AlreadyExists,
        PluginError,
    ) as exc:
        values = {"name": data.name, "chat_id": data.chat_id}  # never the token
        return await _targets_page(request, values=values, errors={_target_field(exc): str(exc)})
    return Redirect(path="/notifications/", status_code=HTTP_303_SEE_OTHER)


@define
class ActiveForm:
    """``on`` to enable, ``off`` to disable."""

    value: str = ""


@post(
    "/notifications/{target_id:str}/active",
    opt={"scope": "write"},
    include_in_schema=False,
    name="target_active",
)
async def set_target_active(
    request: Request[Any, Any, Any], target_id: FromPath[str], data: Annotated[ActiveForm, _FORM]
) -> Redirect:
    """Enable (``on``) or disable the target."""
    app = application_of(request)
    user_id = principal_of(request).user.id
    target = await app.targets.get(user_id, target_id)
    await app.targets.set_active(user_id, target.name, active=data.value == "on")
    return Redirect(path="/notifications/", status_code=HTTP_303_SEE_OTHER)


@get(
    "/notifications/{target_id:str}/remove",
    opt={"scope": "read"},
    include_in_schema=False,
    name="target_remove_page",
)
async def remove_target_page(request: Request[Any, Any, Any], target_id: FromPath[str]) -> Template:
    """Ask first before removing the target."""
    target = await application_of(request).targets.get(principal_of(request).user.id, target_id)
    return Template(template_name="target_remove.html", context={"target": target})


@post(
    "/notifications/{target_id:str}/remove",
    opt={"scope": "write"},
    include_in_schema=False,
    name="target_remove",
)
async def remove_target(request: Request[Any, Any, Any], target_id: FromPath[str]) -> Redirect:
    """Remove the target with its secrets."""
    app = application_of(request)
    user_id = principal_of(request).user.id
    target = await app.targets.get(user_id, target_id)
    await app.targets.remove(user_id, target.name)
    return Redirect(path="/notifications/", status_code=HTTP_303_SEE_OTHER)


@post("/notifications/test", opt={"scope": "execute"}, include_in_schema=False, name="targets_test")
async def test_targets(request: Request[Any, Any, Any]) -> Template:
    """Send a test message to each active target and show what became of each."""
    tested = await application_of(request).targets.test(principal_of(request).user.id)
    return await _targets_page(request, tested=tested)


ROUTES: list[Any] = [
    *PAGE_ROUTES,
    risk_page,
    save_risk,
    notifications_page,
    add_target,
    set_target_active,
    remove_target_page,
    remove_target,
    test_targets,
    *API_ROUTES,
]
