"""The automation section of ``/brokers/``: the controls (start, pause, resume, stop, run now,
the frequency), the status (updated live while a cycle runs), the run history with its steps
and its timeline; the seed's ``/automation/status/`` and ``/automation/logs/``, and
``/api/v1/automation``.

Every control is one call of :class:`~tradecore.services.Automation` for the logged-in user;
the forms work without JavaScript (POST, then 303 back to ``/brokers/#automation``), and
``static/automation.js`` makes them act in place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from attrs import define
from litestar import Request, get, post, put
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER

from tradecore.errors import DomainError
from tradecore.services import AutomationStatus
from tradecore_adapters.bootstrap import Application
from tradecore_web.auth import principal_of
from tradecore_web.automation_data import run_data, status_data
from tradecore_web.i18n import current_gettext
from tradecore_web.run_timeline import timeline_svg
from tradecore_web.state import application_of

__all__ = ["ROUTES", "FrequencyBody", "FrequencyForm", "timeline_picture"]

_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
_BACK = "/brokers/#automation"
_TAGS = ["automation"]

_Control = Callable[[Application, str], Awaitable[Any]]


def _controls() -> dict[str, _Control]:
    return {
        "start": lambda app, user_id: app.automation.start(user_id),
        "pause": lambda app, user_id: app.automation.pause(user_id),
        "resume": lambda app, user_id: app.automation.resume(user_id),
        "stop": lambda app, user_id: app.automation.stop(user_id),
    }


def timeline_picture(status: AutomationStatus) -> str:
    """The recent runs' timeline (SVG) of ``status``, its words in the page's language."""
    _ = current_gettext
    words = {
        "success": _("success"),
        "partial": _("partial"),
        "failure": _("failure"),
        "running": _("running"),
    }
    return timeline_svg(
        status.recent, now=status.now, title=_("Run durations, oldest to newest"), words=words
    )


async def _wake(request: Request[Any, Any, Any]) -> None:
    wake = request.app.state.get("wake_scheduler")
    if wake is not None:
        wake.set()


async def _run_now(request: Request[Any, Any, Any]) -> bool:
    queued = await application_of(request).automation.run_now(principal_of(request).user.id)
    await _wake(request)
    return queued.daemon_running


async def _page_with_error(request: Request[Any, Any, Any], message: str) -> Template:
    """The dashboard again, the refusal shown in the automation section (no JavaScript)."""
    app = application_of(request)
    overview = await app.overview.of(principal_of(request).user.id)
    return Template(
        template_name="brokers.html",
        context={"overview": overview, "automation_error": message},
        status_code=400,
    )


# -- the section (pages) -----------------------------------------------------------------------


@get("/brokers/automation/", opt={"scope": "read"}, include_in_schema=False, name="automation")
async def section(request: Request[Any, Any, Any]) -> Template:
    """The automation section alone (the script swaps it in when a run starts or ends)."""
    app = application_of(request)
    overview = await app.overview.of(principal_of(request).user.id)
    return Template(template_name="automation_section.html", context={"overview": overview})


@get(
    "/brokers/automation/timeline.svg",
    opt={"scope": "read"},
    include_in_schema=False,
    name="automation_timeline",
)
async def timeline(request: Request[Any, Any, Any]) -> Response[str]:
    """The run history as a timeline of durations coloured by status (SVG)."""
    status = await application_of(request).automation.status(principal_of(request).user.id)
    return Response(timeline_picture(status), media_type="image/svg+xml")


def _form_control(action: str) -> Any:
    async def handler(request: Request[Any, Any, Any]) -> Template | Redirect:
        try:
            await _controls()[action](application_of(request), principal_of(request).user.id)
        except DomainError as exc:
            return await _page_with_error(request, str(exc))
        return Redirect(path=_BACK, status_code=HTTP_303_SEE_OTHER)

    handler.__doc__ = f"{action.capitalize()} the automation (the section's button)."
    handler.__name__ = f"{action}_form"
    return post(
        f"/brokers/automation/{action}/",
        opt={"scope": "write"},
        include_in_schema=False,
        name=f"automation_{action}_form",
    )(handler)


@post(
    "/brokers/automation/run-now/",
    opt={"scope": "execute"},
    include_in_schema=False,
    name="automation_run_form",
)
async def run_now_form(request: Request[Any, Any, Any]) -> Redirect:
    """Run now from the section's button: queue a cycle and wake this server's scheduler."""
    await _run_now(request)
    return Redirect(path=_BACK, status_code=HTTP_303_SEE_OTHER)


@define
class FrequencyForm:
    """The frequency slider's form."""

    minutes: str = ""


@post(
    "/brokers/automation/frequency/",
    opt={"scope": "write"},
    include_in_schema=False,
    name="automation_frequency_form",
)
async def frequency_form(
    request: Request[Any, Any, Any], data: Annotated[FrequencyForm, _FORM]
) -> Template | Redirect:
    """Store the slider's frequency (the form's button, without JavaScript)."""
    try:
        minutes = int(data.minutes.strip())
    except ValueError:
        return await _page_with_error(
            request, f"frequency must be a whole number of minutes, got {data.minutes!r}"
        )
    try:
        await application_of(request).automation.set_frequency(
            principal_of(request).user.id, minutes
        )
    except DomainError as exc:
        return await _page_with_error(request, str(exc))
    return Redirect(path=_BACK, status_code=HTTP_303_SEE_OTHER)


# -- JSON --------------------------------------------------------------------------------------


async def _status(request: Request[Any, Any, Any]) -> dict[str, Any]:
    app = application_of(request)
    status = await app.automation.status(principal_of(request).user.id)
    return status_data(status, default_frequency=app.settings.default_frequency_minutes)


async def _runs(
    request: Request[Any, Any, Any], cursor: str | None, limit: int | None
) -> dict[str, Any]:
    page = await application_of(request).automation.run_page(
        principal_of(request).user.id, cursor=cursor, limit=50 if limit is None else limit
    )
    return {"items": [run_data(run) for run in page.items], "next_cursor": page.next_cursor}


@get("/automation/status/", opt={"scope": "read"}, name="automation_status_seed", tags=_TAGS)
async def seed_status(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The automation's state, frequency, next and last run, last duration, success rate and
    the cycle running now (the seed's endpoint; the same as ``/api/v1/automation/status``)."""
    return await _status(request)


@get("/automation/logs/", opt={"scope": "read"}, name="automation_logs_seed", tags=_TAGS)
async def seed_logs(
    request: Request[Any, Any, Any],
    limit: FromQuery[int | None] = None,
    cursor: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """The run history with each run's steps, newest first, a page at a time (the seed's
    endpoint; the same as ``/api/v1/automation/runs``)."""
    return await _runs(request, cursor, limit)


@get("/api/v1/automation/status", opt={"scope": "read"}, name="automation_status", tags=_TAGS)
async def api_status(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The automation's state, frequency, next and last run, last duration, success rate and
    the cycle running now."""
    return await _status(request)


@get("/api/v1/automation/runs", opt={"scope": "read"}, name="automation_runs", tags=_TAGS)
async def api_runs(
    request: Request[Any, Any, Any],
    limit: FromQuery[int | None] = None,
    cursor: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """The run history with each run's steps, newest first: ``limit`` (1 to 500, 50 by
    default) runs a page, ``cursor`` the previous page's ``next_cursor``."""
    return await _runs(request, cursor, limit)


@get(
    "/api/v1/automation/runs/{run_id:str}",
    opt={"scope": "read"},
    name="automation_run",
    tags=_TAGS,
)
async def api_run(request: Request[Any, Any, Any], run_id: FromPath[str]) -> dict[str, Any]:
    """One of the user's runs with its steps (another user's: 404)."""
    run = await application_of(request).automation.run(principal_of(request).user.id, run_id)
    return run_data(run)


def _api_control(action: str) -> Any:
    async def handler(request: Request[Any, Any, Any]) -> dict[str, Any]:
        await _controls()[action](application_of(request), principal_of(request).user.id)
        return await _status(request)

    handler.__doc__ = f"{action.capitalize()} the automation; answers the new status."
    handler.__name__ = f"api_{action}"
    return post(
        f"/api/v1/automation/{action}",
        opt={"scope": "write"},
        name=f"automation_{action}",
        status_code=HTTP_200_OK,
        tags=_TAGS,
    )(handler)


@post(
    "/api/v1/automation/run-now",
    opt={"scope": "execute"},
    name="automation_run_now",
    status_code=HTTP_200_OK,
    tags=_TAGS,
)
async def api_run_now(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Queue one cycle now and wake this server's scheduler; answers the status and whether a
    scheduler is running to start it."""
    daemon_running = await _run_now(request)
    return {**await _status(request), "daemon_running": daemon_running}


@define
class FrequencyBody:
    """A new frequency: ``{"minutes": 5..120}``."""

    minutes: int


async def _set_frequency(
    request: Request[Any, Any, Any], data: JSONBody[FrequencyBody]
) -> dict[str, Any]:
    await application_of(request).automation.set_frequency(
        principal_of(request).user.id, data.minutes
    )
    return await _status(request)


@put(
    "/api/v1/automation/frequency",
    opt={"scope": "write"},
    name="automation_frequency",
    tags=_TAGS,
)
async def api_frequency_put(
    request: Request[Any, Any, Any], data: JSONBody[FrequencyBody]
) -> dict[str, Any]:
    """Run every ``minutes`` (5 to 120) from the next slot on; answers the new status."""
    return await _set_frequency(request, data)


@post(
    "/api/v1/automation/frequency",
    opt={"scope": "write"},
    name="automation_frequency_post",
    status_code=HTTP_200_OK,
    tags=_TAGS,
)
async def api_frequency_post(
    request: Request[Any, Any, Any], data: JSONBody[FrequencyBody]
) -> dict[str, Any]:
    """The same as ``PUT`` (for clients that only post)."""
    return await _set_frequency(request, data)


ROUTES: list[Any] = [
    section,
    timeline,
    *(_form_control(action) for action in ("start", "pause", "resume", "stop")),
    run_now_form,
    frequency_form,
    seed_status,
    seed_logs,
    api_status,
    api_runs,
    api_run,
    *(_api_control(action) for action in ("start", "pause", "resume", "stop")),
    api_run_now,
    api_frequency_put,
    api_frequency_post,
]
"""The automation's route handlers."""
