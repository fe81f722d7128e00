"""``/api/v1/connections``: the user's broker connections as JSON — list, get, create, change
settings or secrets, enable, disable, sync, test, delete. Connections are addressed by id; a
secret is accepted and never answered (a connection says only which secrets it has)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import define, field, frozen
from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tradecore.domain import BrokerConnection, Secret
from tradecore.errors import DomainError
from tradecore.services import ConnectionFootprint
from tradecore_web.auth import principal_of
from tradecore_web.state import application_of

__all__ = [
    "ROUTES",
    "ConnectionChanges",
    "ConnectionOut",
    "ConnectionPage",
    "NewConnection",
    "SyncOut",
    "TestOut",
    "page_of",
]

_BASE = "/api/v1/connections"
_MAX_LIMIT = 500


@frozen(kw_only=True)
class ConnectionOut:
    """A connection as the API shows it (its secrets by name only, never their values)."""

    id: str
    name: str
    broker: str
    active: bool
    settings: dict[str, str]
    secrets_set: list[str]
    logged_in: bool
    login_required: str | None
    created_at: datetime
    positions: int | None = None
    trades: int | None = None


@frozen(kw_only=True)
class ConnectionPage:
    """A page of connections; ``next_cursor`` is ``null`` on the last."""

    items: list[ConnectionOut]
    next_cursor: str | None


@define(kw_only=True)
class NewConnection:
    """A connection to add: the broker plugin's name, a name, its settings and secrets."""

    broker: str
    name: str
    settings: dict[str, str] = field(factory=dict)
    secrets: dict[str, str] = field(factory=dict)


@define(kw_only=True)
class ConnectionChanges:
    """Changes to a connection: settings to set (``null`` removes one: its default), and/or
    every secret anew (replacing them all)."""

    settings: dict[str, str | None] | None = None
    secrets: dict[str, str] | None = None


@frozen(kw_only=True)
class SyncOut:
    """What a sync now did, or why it failed (``problem``)."""

    connection_id: str
    positions: int | None
    trades_new: int | None
    problem: str | None


@frozen(kw_only=True)
class TestOut:
    """Whether the connection works: its accounts, or why not."""

    connection_id: str
    works: bool
    accounts: list[str]
    problem: str | None


def _out(
    connection: BrokerConnection, footprint: ConnectionFootprint | None = None
) -> ConnectionOut:
    tokens = connection.tokens
    return ConnectionOut(
        id=connection.id,
        name=connection.name,
        broker=connection.broker,
        active=connection.active,
        settings=dict(connection.settings),
        secrets_set=sorted(connection.secrets),
        logged_in=tokens is not None and tokens.login_required is None,
        login_required=None if tokens is None else tokens.login_required,
        created_at=connection.created_at,
        positions=None if footprint is None else footprint.positions,
        trades=None if footprint is None else footprint.trades,
    )


def page_of(
    items: list[Any], limit: int | None, cursor: str | None
) -> tuple[list[Any], str | None]:
    """``items`` from the offset ``cursor``, at most ``limit`` (50 by default), and the next
    cursor (``None`` after the last).

    :raises DomainError: a limit outside 1-500, or a cursor that is not one this API gave.
    """
    size = 50 if limit is None else limit
    if not 1 <= size <= _MAX_LIMIT:
        raise DomainError(f"limit must be from 1 to {_MAX_LIMIT}, got {size}")
    start = 0
    if cursor:
        if not cursor.isdigit() or len(cursor) > 9:
            raise DomainError("cursor is not one this API gave")
        start = int(cursor)
    shown = items[start : start + size]
    after = start + size
    return shown, (str(after) if after < len(items) else None)


def _secrets(given: dict[str, str]) -> dict[str, Secret]:
    return {name: Secret(value) for name, value in given.items()}


@get(_BASE, opt={"scope": "read"}, tags=["connections"])
async def list_connections(
    request: Request[Any, Any, Any],
    limit: FromQuery[int | None] = None,
    cursor: FromQuery[str | None] = None,
) -> ConnectionPage:
    """The user's connections by name, with their counts of positions and trades."""
    user = principal_of(request).user
    found = await application_of(request).connections.footprints(user.id)
    shown, after = page_of(found, limit, cursor)
    return ConnectionPage(items=[_out(each.connection, each) for each in shown], next_cursor=after)


@get(f"{_BASE}/{{connection_id:str}}", opt={"scope": "read"}, tags=["connections"])
async def get_connection(
    request: Request[Any, Any, Any], connection_id: FromPath[str]
) -> ConnectionOut:
    """One of the user's connections."""
    user = principal_of(request).user
    app = application_of(request)
    connection = await app.connections.by_id(user.id, connection_id)
    return _out(connection, await app.connections.footprint(user.id, connection.name))


@post(_BASE, opt={"scope": "write"}, tags=["connections"], status_code=HTTP_201_CREATED)
async def create_connection(
    request: Request[Any, Any, Any], data: JSONBody[NewConnection]
) -> ConnectionOut:
    """Add a connection, checked like ``tradecore broker add`` (nothing stored when refused)."""
    user = principal_of(request).user
    added = await application_of(request).connections.add(
        user.id,
        broker=data.broker,
        name=data.name,
        settings=data.settings,
        secrets=_secrets(data.secrets),
    )
    return _out(added)


@patch(f"{_BASE}/{{connection_id:str}}", opt={"scope": "write"}, tags=["connections"])
async def change_connection(
    request: Request[Any, Any, Any], connection_id: FromPath[str], data: JSONBody[ConnectionChanges]
) -> ConnectionOut:
    """Change the connection's settings and/or replace its secrets."""
    user = principal_of(request).user
    app = application_of(request)
    connection = await app.connections.by_id(user.id, connection_id)
    if data.settings is not None:
        connection = await app.connections.edit_settings(user.id, connection.name, data.settings)
    if data.secrets is not None:
        connection = await app.connections.replace_secrets(
            user.id, connection.name, _secrets(data.secrets)
        )
    return _out(connection)


async def _set_active(
    request: Request[Any, Any, Any], connection_id: str, active: bool
) -> ConnectionOut:
    user = principal_of(request).user
    app = application_of(request)
    connection = await app.connections.by_id(user.id, connection_id)
    return _out(await app.connections.set_active(user.id, connection.name, active=active))


@post(f"{_BASE}/{{connection_id:str}}/enable", opt={"scope": "write"}, tags=["connections"])
async def enable_connection(
    request: Request[Any, Any, Any], connection_id: FromPath[str]
) -> ConnectionOut:
    """Enable the connection."""
    return await _set_active(request, connection_id, True)


@post(f"{_BASE}/{{connection_id:str}}/disable", opt={"scope": "write"}, tags=["connections"])
async def disable_connection(
    request: Request[Any, Any, Any], connection_id: FromPath[str]
) -> ConnectionOut:
    """Disable the connection (kept, never synced, its strategies do not run)."""
    return await _set_active(request, connection_id, False)


@post(f"{_BASE}/{{connection_id:str}}/sync", opt={"scope": "execute"}, tags=["connections"])
async def sync_connection(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> SyncOut:
    """Sync the connection's positions and trades now."""
    user = principal_of(request).user
    app = application_of(request)
    connection = await app.connections.by_id(user.id, connection_id)
    [outcome] = await app.portfolio.sync(user.id, connection=connection.name)
    result = outcome.result
    return SyncOut(
        connection_id=connection.id,
        positions=None if result is None else result.positions,
        trades_new=None if result is None else result.trades_new,
        problem=outcome.problem,
    )


@post(f"{_BASE}/{{connection_id:str}}/test", opt={"scope": "execute"}, tags=["connections"])
async def test_connection(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> TestOut:
    """Log in to the broker and list the accounts (nothing stored)."""
    user = principal_of(request).user
    app = application_of(request)
    connection = await app.connections.by_id(user.id, connection_id)
    check = await app.connections.test(user.id, connection.name)
    return TestOut(
        connection_id=connection.id,
        works=check.works,
        accounts=[each.account_id for each in check.accounts],
        problem=check.problem,
    )


@delete(
    f"{_BASE}/{{connection_id:str}}",
    opt={"scope": "write"},
    tags=["connections"],
    status_code=HTTP_204_NO_CONTENT,
)
async def delete_connection(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> None:
    """Remove the connection with its positions, trades, orders and strategies."""
    user = principal_of(request).user
    app = application_of(request)
    connection = await app.connections.by_id(user.id, connection_id)
    await app.connections.remove(user.id, connection.name)


ROUTES: list[Any] = [
    list_connections,
    get_connection,
    create_connection,
    change_connection,
    enable_connection,
    disable_connection,
    sync_connection,
    test_connection,
    delete_connection,
]
"""The connections' JSON API."""
