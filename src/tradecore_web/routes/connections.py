"""The brokers page's connections: sync now, test, log in (OAuth, with the callback
``/brokers/saxo/callback/``), enable and disable, add, configure and remove; their JSON API is
:mod:`tradecore_web.routes.connections_api`.

Every handler finds the connection among the principal's own (:meth:`Connections.by_id`): an id
of another user's is a 404 that says nothing more. Secrets are typed into password fields and
never shown again, not even masked.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tradecore.domain import BrokerConnection, Secret
from tradecore.errors import (
    AlreadyExists,
    ConfigurationError,
    DomainError,
    PluginError,
)
from tradecore.ports import BrokerFactory
from tradecore_web.auth import principal_of
from tradecore_web.routes import connections_api, oauth_login
from tradecore_web.routes.brokers import flash
from tradecore_web.state import application_of

__all__ = ["ROUTES", "field_of", "own_connection"]

_BROKERS = "/brokers/"
_SETTING = "setting."
_SECRET = "secret."


def _back() -> Redirect:
    return Redirect(path=_BROKERS, status_code=HTTP_303_SEE_OTHER)


async def own_connection(
    request: Request[Any, Any, Any], connection_id: FromPath[str]
) -> BrokerConnection:
    """The principal's connection with that id (404 for anyone else's)."""
    user = principal_of(request).user
    return await application_of(request).connections.by_id(user.id, connection_id)


def field_of(message: str, names: list[str]) -> str | None:
    """The form field a service's message is about: the first of ``names`` it quotes."""
    for name in names:
        if re.search(rf"(?<![\w.])'?{re.escape(name)}'?(?![\w])", message):
            return name
    return None


@post("/brokers/{connection_id:str}/sync/", opt={"scope": "execute"}, include_in_schema=False)
async def sync_now(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> Redirect:
    """Sync the connection's positions and trades now, then back to the brokers page."""
    connection = await own_connection(request, connection_id)
    app = application_of(request)
    [outcome] = await app.portfolio.sync(principal_of(request).user.id, connection=connection.name)
    if outcome.result is None:
        flash(request, f"{connection.name}: sync failed: {outcome.problem}", error=True)
    else:
        result = outcome.result
        flash(
            request,
            f"{connection.name}: synced, {result.positions} positions, "
            f"{result.trades_new} new trades",
        )
    return _back()


@post("/brokers/{connection_id:str}/test/", opt={"scope": "execute"}, include_in_schema=False)
async def test_now(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> Redirect:
    """Log in to the broker and list the accounts; say what was found."""
    connection = await own_connection(request, connection_id)
    check = await application_of(request).connections.test(
        principal_of(request).user.id, connection.name
    )
    if check.works:
        accounts = ", ".join(each.account_id for each in check.accounts) or "none"
        flash(request, f"{connection.name} works: accounts {accounts}")
    else:
        flash(request, f"{connection.name} does not work: {check.problem}", error=True)
    return _back()


async def _set_active(request: Request[Any, Any, Any], connection_id: str, active: bool) -> None:
    connection = await own_connection(request, connection_id)
    await application_of(request).connections.set_active(
        principal_of(request).user.id, connection.name, active=active
    )
    flash(request, f"{connection.name} {'enabled' if active else 'disabled'}")


@post("/brokers/{connection_id:str}/enable/", opt={"scope": "write"}, include_in_schema=False)
async def enable(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> Redirect:
    """Enable the connection (synced, its strategies run)."""
    await _set_active(request, connection_id, True)
    return _back()


@post("/brokers/{connection_id:str}/disable/", opt={"scope": "write"}, include_in_schema=False)
async def disable(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> Redirect:
    """Disable the connection (kept, never synced, its strategies do not run)."""
    await _set_active(request, connection_id, False)
    return _back()


def _factories(request: Request[Any, Any, Any]) -> list[BrokerFactory]:
    return application_of(request).connections.installed()


def _config_page(
    request: Request[Any, Any, Any],
    *,
    factory: BrokerFactory | None,
    connection: BrokerConnection | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="broker_config.html",
        context={
            "factories": _factories(request),
            "factory": factory,
            "connection": connection,
            "values": values or {},
            "errors": errors or {},
            "callback": f"{str(request.base_url).rstrip('/')}/brokers/saxo/callback/",
        },
        status_code=status_code,
    )


@get("/brokers/config/", opt={"scope": "read"}, include_in_schema=False)
async def add_page(
    request: Request[Any, Any, Any], broker: FromQuery[str | None] = None
) -> Template:
    """The form to add a connection: the broker first, then its settings and secrets."""
    factory = None
    if broker:
        try:
            factory = application_of(request).connections.factory(broker)
        except PluginError as exc:
            return _config_page(request, factory=None, errors={"broker": str(exc)}, status_code=400)
    return _config_page(request, factory=factory, values={"broker": broker or ""})


def _settings_of(form: FormMultiDict, factory: BrokerFactory) -> dict[str, str]:
    given = {}
    for spec in factory.settings:
        value = str(form.get(_SETTING + spec.name, "")).strip()
        if value:
            given[spec.name] = value
    return given


def _secrets_of(form: FormMultiDict, factory: BrokerFactory) -> dict[str, Secret]:
    given = {}
    for spec in factory.secrets:
        value = str(form.get(_SECRET + spec.name, ""))
        if value.strip():
            given[spec.name] = Secret(value.strip())
    return given


def _errors(exc: Exception, factory: BrokerFactory | None) -> dict[str, str]:
    message = str(exc)
    if isinstance(exc, PluginError):
        return {"broker": message}
    if isinstance(exc, AlreadyExists | DomainError) and not isinstance(exc, ConfigurationError):
        return {"name": message}
    names = []
    if factory is not None:
        names = [_SECRET + s.name for s in factory.secrets] + [
            _SETTING + s.name for s in factory.settings
        ]
    found = field_of(message, [name.partition(".")[2] for name in names])
    for name in names:
        if found is not None and name.endswith("." + found):
            return {name: message}
    return {"form": message}


@post("/brokers/config/", opt={"scope": "write"}, include_in_schema=False)
async def add(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Add the connection; on a refusal the form again, the message by its field, secrets
    never echoed back."""
    form = await request.form()
    app = application_of(request)
    broker = str(form.get("broker", "")).strip()
    name = str(form.get("name", ""))
    values = {"broker": broker, "name": name}
    factory = None
    try:
        factory = app.connections.factory(broker)
        settings = _settings_of(form, factory)
        values.update({_SETTING + key: value for key, value in settings.items()})
        added = await app.connections.add(
            principal_of(request).user.id,
            broker=broker,
            name=name,
            settings=settings,
            secrets=_secrets_of(form, factory),
        )
    except (PluginError, ConfigurationError, DomainError, AlreadyExists) as exc:
        return _config_page(
            request, factory=factory, values=values, errors=_errors(exc, factory), status_code=422
        )
    flash(request, f"{added.name} added")
    return _back()


@get("/brokers/config/{connection_id:str}/", opt={"scope": "read"}, include_in_schema=False)
async def edit_page(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> Template:
    """The connection's settings to edit, and fields to replace its secrets (never shown)."""
    connection = await own_connection(request, connection_id)
    factory = application_of(request).connections.factory(connection.broker)
    values = {_SETTING + key: value for key, value in connection.settings.items()}
    return _config_page(request, factory=factory, connection=connection, values=values)


@post("/brokers/config/{connection_id:str}/", opt={"scope": "write"}, include_in_schema=False)
async def edit(
    request: Request[Any, Any, Any], connection_id: FromPath[str]
) -> Template | Redirect:
    """Store the settings as given (an empty field: the broker's default)."""
    connection = await own_connection(request, connection_id)
    app = application_of(request)
    factory = app.connections.factory(connection.broker)
    form = await request.form()
    given = _settings_of(form, factory)
    changes: dict[str, str | None] = {spec.name: given.get(spec.name) for spec in factory.settings}
    try:
        await app.connections.edit_settings(principal_of(request).user.id, connection.name, changes)
    except (ConfigurationError, DomainError) as exc:
        values = {_SETTING + key: value for key, value in given.items()}
        return _config_page(
            request,
            factory=factory,
            connection=connection,
            values=values,
            errors=_errors(exc, factory),
            status_code=422,
        )
    flash(request, f"{connection.name}: settings saved")
    return _back()


@post(
    "/brokers/config/{connection_id:str}/secrets/", opt={"scope": "write"}, include_in_schema=False
)
async def replace_secrets(
    request: Request[Any, Any, Any], connection_id: FromPath[str]
) -> Template | Redirect:
    """Replace every secret of the connection with those typed in."""
    connection = await own_connection(request, connection_id)
    app = application_of(request)
    factory = app.connections.factory(connection.broker)
    form = await request.form()
    try:
        await app.connections.replace_secrets(
            principal_of(request).user.id, connection.name, _secrets_of(form, factory)
        )
    except (ConfigurationError, DomainError) as exc:
        values = {_SETTING + key: value for key, value in connection.settings.items()}
        return _config_page(
            request,
            factory=factory,
            connection=connection,
            values=values,
            errors=_errors(exc, factory),
            status_code=422,
        )
    flash(request, f"{connection.name}: secrets replaced")
    return _back()


@get("/brokers/config/{connection_id:str}/remove/", opt={"scope": "read"}, include_in_schema=False)
async def remove_page(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> Template:
    """What removing the connection deletes, and the button to confirm."""
    connection = await own_connection(request, connection_id)
    footprint = await application_of(request).connections.footprint(
        principal_of(request).user.id, connection.name
    )
    return Template(template_name="broker_remove.html", context={"footprint": footprint})


@post(
    "/brokers/config/{connection_id:str}/remove/", opt={"scope": "write"}, include_in_schema=False
)
async def remove(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> Redirect:
    """Remove the connection with its data (after the confirmation page)."""
    connection = await own_connection(request, connection_id)
    gone = await application_of(request).connections.remove(
        principal_of(request).user.id, connection.name
    )
    flash(
        request,
        f"{connection.name} removed with {gone.positions} positions and {gone.trades} trades",
    )
    return _back()


ROUTES: list[Any] = [
    sync_now,
    test_now,
    enable,
    disable,
    add_page,
    add,
    edit_page,
    edit,
    replace_secrets,
    remove_page,
    remove,
    *oauth_login.ROUTES,
    *connections_api.ROUTES,
]
"""The connections' pages, the OAuth login and the JSON API."""
