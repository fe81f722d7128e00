"""The JSON API of the settings: ``/api/v1/strategies``, ``/api/v1/risk``, ``/api/v1/targets``.

Reads need the ``read`` scope, changes ``write``, sending a test message ``execute``. Ids are
looked up among the principal's own rows; secrets (a bot token) are taken, never answered:
a target says which secrets it holds by name only.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import define, field
from litestar import Request, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from tradecore.domain import NotificationTarget, RiskLimits, Secret, StrategyConfig
from tradecore.errors import DomainError
from tradecore.services import RiskOverview, StrategyView
from tradecore_web.auth import principal_of
from tradecore_web.state import application_of

__all__ = [
    "API_ROUTES",
    "NewStrategy",
    "NewTarget",
    "RiskLimitsBody",
    "StrategyPatch",
    "TargetPatch",
    "risk_json",
    "strategy_json",
    "target_json",
]


def strategy_json(view: StrategyView) -> dict[str, Any]:
    """A strategy for the API (its internal state is not shown)."""
    config: StrategyConfig = view.config
    return {
        "id": config.id,
        "name": config.name,
        "type": config.strategy_type,
        "connection": view.connection.name if view.connection is not None else None,
        "parameters": dict(config.parameters),
        "active": config.active,
        "dry_run": config.dry_run,
        "created_at": config.created_at.isoformat(),
    }


def target_json(target: NotificationTarget) -> dict[str, Any]:
    """A notification target for the API: its secrets by name only, never their values."""
    return {
        "id": target.id,
        "name": target.name,
        "notifier": target.notifier,
        "settings": dict(target.settings),
        "secrets": sorted(target.secrets),
        "active": target.active,
        "created_at": target.created_at.isoformat(),
    }


def _limits_json(limits: RiskLimits) -> dict[str, Any]:
    return {
        "max_order_notional": _text(limits.max_order_notional),
        "max_cycle_notional": _text(limits.max_cycle_notional),
        "max_orders_per_cycle": limits.max_orders_per_cycle,
        "allowed_instruments": (
            None if limits.allowed_instruments is None else sorted(limits.allowed_instruments)
        ),
    }


def risk_json(overview: RiskOverview) -> dict[str, Any]:
    """The user's limits (decimals as exact strings), the kill switch and the pause."""
    halt = overview.halt
    return {
        "limits": _limits_json(overview.limits),
        "halt": None if halt is None else {"reason": halt.reason, "since": halt.since.isoformat()},
        "paused": overview.paused,
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def parse_amount(value: str | None, name: str) -> Decimal | None:
    """An amount given as text (exact); empty or ``None`` means "no limit".

    :raises DomainError: it is not a number.
    """
    if value is None or not str(value).strip():
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise DomainError(f"{name} must be a number like 500 or 0.25, got {value!r}") from None


@define
class NewStrategy:
    """A strategy to add: its type, name, connection (by name), parameters, mode."""

    type: str
    name: str
    connection: str
    parameters: dict[str, str] = field(factory=dict)
    dry_run: bool = True


@define
class StrategyPatch:
    """What to change: parameters to set, parameters to unset, ``active``, ``dry_run``."""

    parameters: dict[str, str] | None = None
    unset: list[str] | None = None
    active: bool | None = None
    dry_run: bool | None = None


@define
class RiskLimitsBody:
    """The user's limits, all four (``null``: no limit); amounts as strings, exact."""

    max_order_notional: str | None
    max_cycle_notional: str | None
    max_orders_per_cycle: int | None
    allowed_instruments: list[str] | None


@define
class NewTarget:
    """A notification target to add (``telegram``: setting ``chat_id``, secret ``bot_token``)."""

    notifier: str = "telegram"
    name: str | None = None
    settings: dict[str, str] = field(factory=dict)
    secrets: dict[str, str] = field(factory=dict)


@define
class TargetPatch:
    """What to change on a target: ``active``."""

    active: bool


@get("/api/v1/strategies", opt={"scope": "read"}, name="api_strategies")
async def api_strategies(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The user's strategies."""
    found = await application_of(request).strategies.list(principal_of(request).user.id)
    return {"items": [strategy_json(each) for each in found]}


@post(
    "/api/v1/strategies",
    opt={"scope": "write"},
    name="api_strategy_add",
    status_code=HTTP_201_CREATED,
)
async def api_add_strategy(
    request: Request[Any, Any, Any], data: JSONBody[NewStrategy]
) -> dict[str, Any]:
    """Add a strategy (its parameters checked by its type first; nothing stored otherwise)."""
    view = await application_of(request).strategies.add(
        principal_of(request).user.id,
        strategy_type=data.type,
        name=data.name,
        connection=data.connection,
        parameters=data.parameters,
        dry_run=data.dry_run,
    )
    return strategy_json(view)


@get("/api/v1/strategies/{strategy_id:str}", opt={"scope": "read"}, name="api_strategy")
async def api_strategy(
    request: Request[Any, Any, Any], strategy_id: FromPath[str]
) -> dict[str, Any]:
    """One of the user's strategies."""
    view = await application_of(request).strategies.get(principal_of(request).user.id, strategy_id)
    return strategy_json(view)


@patch("/api/v1/strategies/{strategy_id:str}", opt={"scope": "write"}, name="api_strategy_patch")
async def api_patch_strategy(
    request: Request[Any, Any, Any], strategy_id: FromPath[str], data: JSONBody[StrategyPatch]
) -> dict[str, Any]:
    """Change a strategy's parameters, its state (``active``) or its mode (``dry_run``)."""
    app = application_of(request)
    user_id = principal_of(request).user.id
    view = await app.strategies.get(user_id, strategy_id)
    name = view.config.name
    if all(each is None for each in (data.parameters, data.unset, data.active, data.dry_run)):
        raise DomainError("nothing to change: give parameters, unset, active or dry_run")
    if data.parameters is not None or data.unset is not None:
        await app.strategies.edit(
            user_id, name, parameters=data.parameters or {}, unset=data.unset or ()
        )
    if data.active is not None:
        await app.strategies.set_active(user_id, name, active=data.active)
    if data.dry_run is not None:
        await app.strategies.set_mode(user_id, name, dry_run=data.dry_run)
    return strategy_json(await app.strategies.get(user_id, strategy_id))


@delete(
    "/api/v1/strategies/{strategy_id:str}",
    opt={"scope": "write"},
    name="api_strategy_delete",
    status_code=200,
)
async def api_delete_strategy(
    request: Request[Any, Any, Any], strategy_id: FromPath[str]
) -> dict[str, Any]:
    """Remove a strategy; its orders stay in the ledger (how many, and how many still open)."""
    app = application_of(request)
    user_id = principal_of(request).user.id
    view = await app.strategies.get(user_id, strategy_id)
    footprint = await app.strategies.remove(user_id, view.config.name)
    return {
        "removed": view.config.id,
        "orders": footprint.orders,
        "still_open": footprint.still_open,
    }


@get("/api/v1/risk", opt={"scope": "read"}, name="api_risk")
async def api_risk(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The user's risk limits, the kill switch (read only) and whether automation is paused."""
    return risk_json(await application_of(request).risk.show(principal_of(request).user.id))


@put("/api/v1/risk", opt={"scope": "write"}, name="api_risk_put")
async def api_put_risk(
    request: Request[Any, Any, Any], data: JSONBody[RiskLimitsBody]
) -> dict[str, Any]:
    """Replace the user's risk limits (all four; ``null`` for no limit)."""
    app = application_of(request)
    user_id = principal_of(request).user.id
    await app.risk.set_limits(
        user_id,
        max_order_notional=parse_amount(data.max_order_notional, "max_order_notional"),
        max_cycle_notional=parse_amount(data.max_cycle_notional, "max_cycle_notional"),
        max_orders_per_cycle=data.max_orders_per_cycle,
        allowed_instruments=data.allowed_instruments,
    )
    return risk_json(await app.risk.show(user_id))


@get("/api/v1/targets", opt={"scope": "read"}, name="api_targets")
async def api_targets(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The user's notification targets (secrets by name only) and the implicit ones."""
    found = await application_of(request).targets.list(principal_of(request).user.id)
    return {"items": [target_json(each) for each in found.stored], "implicit": list(found.implicit)}


@post(
    "/api/v1/targets", opt={"scope": "write"}, name="api_target_add", status_code=HTTP_201_CREATED
)
async def api_add_target(
    request: Request[Any, Any, Any], data: JSONBody[NewTarget]
) -> dict[str, Any]:
    """Add a target: checked by its notifier first (nothing sent), then stored."""
    added = await application_of(request).targets.add(
        principal_of(request).user.id,
        notifier=data.notifier,
        name=data.name,
        settings=data.settings,
        secrets={key: Secret(value) for key, value in data.secrets.items()},
    )
    return {**target_json(added.target), "checked": added.checked}


@get("/api/v1/targets/{target_id:str}", opt={"scope": "read"}, name="api_target")
async def api_target(request: Request[Any, Any, Any], target_id: FromPath[str]) -> dict[str, Any]:
    """One of the user's targets."""
    found = await application_of(request).targets.get(principal_of(request).user.id, target_id)
    return target_json(found)


@patch("/api/v1/targets/{target_id:str}", opt={"scope": "write"}, name="api_target_patch")
async def api_patch_target(
    request: Request[Any, Any, Any], target_id: FromPath[str], data: JSONBody[TargetPatch]
) -> dict[str, Any]:
    """Enable or disable a target."""
    app = application_of(request)
    user_id = principal_of(request).user.id
    found = await app.targets.get(user_id, target_id)
    changed = await app.targets.set_active(user_id, found.name, active=data.active)
    return target_json(changed)


@delete(
    "/api/v1/targets/{target_id:str}",
    opt={"scope": "write"},
    name="api_target_delete",
    status_code=200,
)
async def api_delete_target(
    request: Request[Any, Any, Any], target_id: FromPath[str]
) -> dict[str, Any]:
    """Remove a target with its secrets."""
    app = application_of(request)
    user_id = principal_of(request).user.id
    found = await app.targets.get(user_id, target_id)
    await app.targets.remove(user_id, found.name)
    return {"removed": found.id}


@post("/api/v1/targets/test", opt={"scope": "execute"}, name="api_targets_test", status_code=200)
async def api_test_targets(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Send a test message to each of the user's active targets; one result per target."""
    results = await application_of(request).targets.test(principal_of(request).user.id)
    return {"items": [{"name": each.name, "problem": each.problem} for each in results]}


API_ROUTES: list[Any] = [
    api_strategies,
    api_add_strategy,
    api_strategy,
    api_patch_strategy,
    api_delete_strategy,
    api_risk,
    api_put_risk,
    api_targets,
    api_add_target,
    api_target,
    api_patch_target,
    api_delete_target,
    api_test_targets,
]
