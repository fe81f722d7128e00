"""The operator page (administrators only): every user's automation state, the daemons alive
and the leases they hold now, and the global kill switch; ``/api/v1/operator/automation``.

Nothing of any user's connections (let alone their secrets) is read here: the page shows
automation states, daemons and leases only.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from attrs import define, frozen
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tradecore.domain import DaemonInfo, LeaseInterval, TradingHalt
from tradecore.errors import DomainError
from tradecore.services import AutomationStatus, Daemons
from tradecore_web.auth import principal_of
from tradecore_web.automation_data import daemon_data, iso, status_data
from tradecore_web.state import application_of

__all__ = ["ROUTES", "HaltForm", "OperatorView"]

_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
_ADMIN_READ = {"scope": "read", "admin": True}
_ADMIN_WRITE = {"scope": "write", "admin": True}
_TAGS = ["operator"]


@frozen(kw_only=True)
class UserRow:
    """One user's automation, as the operator sees it."""

    name: str
    is_admin: bool
    status: AutomationStatus


@frozen(kw_only=True)
class DaemonRow:
    """A registered daemon, whether it counts as alive, and the leases it holds now (user
    name and lease)."""

    daemon: DaemonInfo
    alive: bool
    leases: tuple[tuple[str, LeaseInterval], ...]


@frozen(kw_only=True)
class OperatorView:
    """What the operator page shows.

    :param other_leases: leases held now by an owner that is no registered daemon (a
        ``tradecore run`` from cron, say).
    """

    users: tuple[UserRow, ...]
    daemons: tuple[DaemonRow, ...]
    other_leases: tuple[tuple[str, LeaseInterval], ...]
    halt: TradingHalt | None
    default_frequency: int


async def _view(request: Request[Any, Any, Any]) -> OperatorView:
    app = application_of(request)
    summaries = await app.users.list()
    statuses = await app.automation.statuses([each.user.id for each in summaries])
    daemons: Daemons = await app.automation.daemons()
    halt = (await app.risk.show(principal_of(request).user.id)).halt
    held: dict[str, list[tuple[str, LeaseInterval]]] = defaultdict(list)
    for summary, status in zip(summaries, statuses, strict=True):
        if status.running is not None:
            held[status.running.owner].append((summary.user.name, status.running))
    alive = {daemon.owner for daemon in daemons.alive}
    registered = {daemon.owner for daemon in daemons.registered}
    return OperatorView(
        users=tuple(
            UserRow(name=summary.user.name, is_admin=summary.user.is_admin, status=status)
            for summary, status in zip(summaries, statuses, strict=True)
        ),
        daemons=tuple(
            DaemonRow(daemon=daemon, alive=daemon.owner in alive, leases=tuple(held[daemon.owner]))
            for daemon in daemons.registered
        ),
        other_leases=tuple(
            lease
            for owner, leases in sorted(held.items())
            if owner not in registered
            for lease in leases
        ),
        halt=halt,
        default_frequency=app.settings.default_frequency_minutes,
    )


def _page(view: OperatorView, *, error: str | None = None, reason: str = "") -> Template:
    return Template(
        template_name="operator.html",
        context={"view": view, "halt_error": error, "reason": reason},
        status_code=200 if error is None else 400,
    )


@get("/operator/", opt=_ADMIN_READ, include_in_schema=False, name="operator")
async def operator_page(request: Request[Any, Any, Any]) -> Template:
    """Every user's automation, the daemons and their leases, the kill switch."""
    return _page(await _view(request))


@define
class HaltForm:
    """The kill switch's form: why trading stops."""

    reason: str = ""


@post("/operator/halt/", opt=_ADMIN_WRITE, include_in_schema=False, name="operator_halt")
async def halt_form(
    request: Request[Any, Any, Any], data: Annotated[HaltForm, _FORM]
) -> Template | Redirect:
    """Engage the global kill switch: no order is placed for anyone until it is released."""
    try:
        await application_of(request).risk.halt(data.reason)
    except DomainError as exc:
        return _page(await _view(request), error=str(exc), reason=data.reason)
    return Redirect(path="/operator/", status_code=HTTP_303_SEE_OTHER)


@post("/operator/resume/", opt=_ADMIN_WRITE, include_in_schema=False, name="operator_resume")
async def resume_form(request: Request[Any, Any, Any]) -> Redirect:
    """Release the global kill switch."""
    await application_of(request).risk.resume()
    return Redirect(path="/operator/", status_code=HTTP_303_SEE_OTHER)


def _lease(name: str, held: LeaseInterval) -> dict[str, Any]:
    return {
        "user": name,
        "owner": held.owner,
        "run_id": held.run_id,
        "fencing": held.fencing,
        "claimed_at": iso(held.claimed_at),
        "expires_at": iso(held.expires_at),
    }


@get(
    "/api/v1/operator/automation",
    opt=_ADMIN_READ,
    name="operator_automation",
    tags=_TAGS,
)
async def api_operator(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Every user's automation status, the registered daemons (alive or not) with the leases
    they hold now, leases held by other owners, and the kill switch (administrators only)."""
    view = await _view(request)
    return {
        "users": [
            {
                "user": row.name,
                "admin": row.is_admin,
                **status_data(row.status, default_frequency=view.default_frequency),
            }
            for row in view.users
        ],
        "daemons": [
            daemon_data(row.daemon, alive=row.alive, leases=row.leases) for row in view.daemons
        ],
        "other_leases": [_lease(name, held) for name, held in view.other_leases],
        "halt": None
        if view.halt is None
        else {"reason": view.halt.reason, "since": iso(view.halt.since)},
    }


ROUTES: list[Any] = [operator_page, halt_form, resume_form, api_operator]
"""The operator's route handlers."""
