"""Faults: a database that goes away, bodies over the limit, a request that crashes, service
errors answered with their status; the server answers each and goes on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from litestar.testing import AsyncTestClient
from psycopg import sql
from tests.web.routes import STATE_CHANGING, endpoints
from tests.web.support import PASSWORD, log_in

from tradecore.errors import CycleBusy, PluginError
from tradecore.services.overview import Overview
from tradecore_adapters.bootstrap import Application, Settings, initialise, open_application
from tradecore_web import WebOptions, create_app
from tradecore_web.app import MAX_BODY_BYTES

_CRASH = "boom: internal detail 0xDEADBEEF"


async def test_a_crash_in_one_request_is_a_500_without_its_traceback_and_the_next_works(
    client: AsyncTestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    await log_in(client, "alice")
    real = Overview.of

    async def crash(self: Overview, user_id: str) -> Any:
        raise RuntimeError(_CRASH)

    monkeypatch.setattr(Overview, "of", crash)
    page = await client.get("/brokers/")
    api = await client.get("/brokers/", headers={"accept": "application/json"})
    monkeypatch.setattr(Overview, "of", real)

    assert (page.status_code, api.status_code) == (500, 500)
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["detail"] == "the server could not answer this request; the error is logged"
    for answer in (page, api):
        assert "Traceback" not in answer.text
        assert "DEADBEEF" not in answer.text
        assert "RuntimeError" not in answer.text
    assert (await client.get("/brokers/")).status_code == 200
    assert (await client.get("/healthz")).status_code == 200


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (PluginError("'x1' is not an installed broker plugin"), 400),
        (CycleBusy("held by another scheduler"), 409),
    ],
)
async def test_a_service_refusal_is_answered_with_its_status_and_sentence_not_500(
    client: AsyncTestClient[Any],
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    status: int,
) -> None:
    await log_in(client, "alice")

    async def refuse(self: Overview, user_id: str) -> Any:
        raise error

    monkeypatch.setattr(Overview, "of", refuse)
    answer = await client.get("/brokers/", headers={"accept": "application/json"})

    assert answer.status_code == status
    assert answer.json()["detail"] == str(error)


async def test_every_body_over_the_limit_is_refused_with_413(
    client: AsyncTestClient[Any], application: Application
) -> None:
    alice = await application.users.find("alice")
    await application.users.set_admin(alice.id, True)  # so that no guard answers first
    token = (await application.api_tokens.create(alice.id, ["read", "write", "execute"])).secret
    big = b"x" * (MAX_BODY_BYTES + 1)
    with_bodies = [
        each
        for each in endpoints()
        if each.method in STATE_CHANGING and "data" in each.handler.parsed_fn_signature.parameters
    ]
    assert with_bodies, "no route takes a body"
    failures = []
    for endpoint in with_bodies:
        answer = await client.request(
            endpoint.method,
            endpoint.url(
                dict.fromkeys(
                    ("connection_id", "strategy_id", "order_id", "run_id", "target_id"), "x"
                )
            ),
            content=big,
            headers={
                "authorization": f"Bearer {token}",
                "accept": "application/json",
                "content-type": "application/json",
            },
        )
        if answer.status_code != 413 or not answer.headers.get("content-type", "").startswith(
            "application/problem+json"
        ):
            failures.append(f"{endpoint}: {answer.status_code} {answer.text[:80]}")
        elif answer.json()["detail"] != "the request body is too large":
            failures.append(f"{endpoint}: {answer.json()}")
    assert not failures, "\n".join(failures)
    assert (await client.get("/healthz")).status_code == 200


@pytest.fixture
async def on_postgres(
    postgres_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Application, AsyncTestClient[Any], str]]:
    """A web server on a PostgreSQL database of its own, alice logged in."""
    environ = {"TRADECORE_HOME": str(tmp_path / "pg"), "TRADECORE_DATABASE_URL": postgres_url}
    await initialise(Settings(home=tmp_path / "pg", database_url=postgres_url))
    application = await open_application(environ=environ)
    try:
        alice = await application.users.add("alice")
        await application.passwords.set_password(alice.id, PASSWORD)
        async with AsyncTestClient(app=create_app(application, WebOptions())) as client:
            yield application, client, postgres_url
    finally:
        await application.aclose()


def _drop(url: str) -> None:
    """Drop the database under the server (its connections are terminated)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


async def test_a_database_that_goes_away_gives_503_pages_and_healthz_then_no_crash(
    on_postgres: tuple[Application, AsyncTestClient[Any], str],
) -> None:
    _, client, url = on_postgres
    await log_in(client, "alice")
    assert (await client.get("/brokers/")).status_code == 200

    _drop(url)

    health = await client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["database"] == "unavailable"
    page = await client.get("/brokers/", follow_redirects=False)
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "the database is unavailable" in page.text
    assert "Traceback" not in page.text
    api = await client.get("/api/openapi.json", headers={"accept": "application/json"})
    assert api.status_code == 503
    assert api.headers["content-type"].startswith("application/problem+json")
    again = await client.get("/brokers/", follow_redirects=False)  # the server goes on
    assert again.status_code == 503
    style = await client.get("/static/style.css")  # needs no database
    assert style.status_code == 200
