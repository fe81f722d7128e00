"""Browser sessions in the database: several web servers on one database share them.

Each "server" is its own application (its own engine, as in another process) and its own
Litestar app over the same database; a browser's cookies are carried from one to the other.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from tests.web.support import PASSWORD, csrf_of, log_in

from tradecore.testing import FakeClock
from tradecore_adapters.bootstrap import Application, Settings, initialise, open_application
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.schema import web_sessions
from tradecore_web import WebOptions, create_app
from tradecore_web.csrf import CSRF_COOKIE
from tradecore_web.sessions import COOKIE


@pytest.fixture(params=["sqlite", "postgresql"])
def environ(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Where both servers' database is: a SQLite file, or a PostgreSQL database."""
    values = {"TRADECORE_HOME": str(tmp_path / "shared")}
    if request.param == "postgresql":
        values["TRADECORE_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return values


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def servers(
    environ: dict[str, str], clock: FakeClock
) -> AsyncIterator[list[tuple[Application, AsyncTestClient[Any]]]]:
    """Two web servers on one database (alice has a password), each with a browser."""
    await initialise(
        Settings(
            home=Path(environ["TRADECORE_HOME"]), database_url=environ.get("TRADECORE_DATABASE_URL")
        )
    )
    opened: list[tuple[Application, AsyncTestClient[Any]]] = []
    try:
        for _ in range(2):
            application = await open_application(environ=environ, clock=clock)
            client = AsyncTestClient(app=create_app(application, WebOptions()))
            await client.__aenter__()
            opened.append((application, client))
        first = opened[0][0]
        alice = await first.users.add("alice")
        await first.passwords.set_password(alice.id, PASSWORD)
        yield opened
    finally:
        for application, client in opened:
            await client.__aexit__(None, None, None)
            await application.aclose()


def _carry(source: AsyncTestClient[Any], target: AsyncTestClient[Any]) -> None:
    """The browser's cookies, now sent to the other server (a load balancer's next pick)."""
    for name in (COOKIE, CSRF_COOKIE):
        value = source.cookies.get(name)
        if value is not None:
            target.cookies.set(name, value, domain="testserver.local")


async def _rows(application: Application) -> list[Any]:
    repository = application.repository
    assert isinstance(repository, SqlRepository)
    async with repository.engine.connect() as db:
        return list((await db.execute(select(web_sessions))).all())


async def test_a_login_on_one_server_opens_the_others_and_a_logout_closes_them_all(
    servers: list[tuple[Application, AsyncTestClient[Any]]],
) -> None:
    (one, first), (_, second) = servers
    assert (await log_in(first, "alice")).status_code == 303
    _carry(first, second)

    page = await second.get("/brokers/")
    assert page.status_code == 200
    assert "alice" in page.text

    answer = await second.post(
        "/logout", data={"_csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert (await first.get("/brokers/", follow_redirects=False)).status_code == 303
    assert await _rows(one) == []


async def test_the_database_keeps_only_a_digest_of_the_session_id(
    servers: list[tuple[Application, AsyncTestClient[Any]]],
) -> None:
    (one, first), _ = servers
    await log_in(first, "alice")
    session_id = first.cookies.get(COOKIE)
    assert session_id

    rows = await _rows(one)
    assert [row.digest for row in rows] == [hashlib.sha256(session_id.encode()).hexdigest()]
    stored = " ".join(str(value) for row in rows for value in row) + rows[0].data.hex()
    assert session_id not in stored
    assert session_id not in rows[0].data.decode("utf-8", "replace")


async def test_a_request_writes_the_session_only_when_its_expiry_is_due_for_renewal(
    servers: list[tuple[Application, AsyncTestClient[Any]]], clock: FakeClock
) -> None:
    (one, first), (_, second) = servers
    await log_in(first, "alice")
    _carry(first, second)
    (at_login,) = [row.expires_at for row in await _rows(one)]

    clock.advance(timedelta(minutes=1))
    assert (await second.get("/brokers/")).status_code == 200
    assert (await first.get("/brokers/")).status_code == 200
    assert [row.expires_at for row in await _rows(one)] == [at_login]  # nothing written

    clock.advance(timedelta(minutes=5))
    assert (await second.get("/brokers/")).status_code == 200
    (renewed,) = [row.expires_at for row in await _rows(one)]
    assert renewed == at_login + 6 * 60 * 1_000_000  # microseconds: 6 minutes later


async def test_an_expired_session_opens_nothing_on_any_server_and_is_purged(
    servers: list[tuple[Application, AsyncTestClient[Any]]], clock: FakeClock
) -> None:
    (one, first), (_, second) = servers
    await log_in(first, "alice")
    _carry(first, second)

    clock.advance(timedelta(hours=12, seconds=1))
    assert (await second.get("/brokers/", follow_redirects=False)).status_code == 303
    assert await one.web_sessions.purge() == 1
    assert await _rows(one) == []
