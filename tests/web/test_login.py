"""Logging in and out through the pages: sessions, cookies, redirects, headers."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from tests.web.support import PASSWORD, csrf_of, csrf_token, log_in

from tradecore_web.headers import SECURITY_HEADERS
from tradecore_web.sessions import COOKIE


async def test_a_page_without_a_login_sends_the_browser_to_the_login_form(client) -> None:
    answer = await client.get("/brokers/", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=%2Fbrokers")


async def test_the_api_without_a_login_answers_401_in_problem_json(client) -> None:
    answer = await client.get("/api/openapi.json")

    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_a_wrong_password_opens_nothing_and_says_so_on_the_form(client) -> None:
    answer = await log_in(client, "alice", "not the password")

    assert answer.status_code == 401
    assert "wrong name or password" in answer.text
    assert COOKIE not in client.cookies
    assert (await client.get("/brokers/", follow_redirects=False)).status_code == 303


async def test_logging_in_opens_the_dashboard_with_a_strict_session_cookie(client) -> None:
    answer = await log_in(client, "alice")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/brokers/"
    cookie = next(
        header for header in answer.headers.get_list("set-cookie") if header.startswith(COOKIE)
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags  # plain HTTP on loopback; --behind-proxy adds it
    page = await client.get("/brokers/")
    assert page.status_code == 200
    assert "alice" in page.text


async def test_the_session_id_changes_at_login_and_a_planted_one_is_worth_nothing(
    client,
) -> None:
    client.cookies.set(
        COOKIE, "a" * 64, domain="testserver.local"
    )  # fixed by an attacker before the login
    await log_in(client, "alice")
    first = client.cookies.get(COOKIE)
    assert first not in (None, "a" * 64)

    await log_in(client, "alice")  # a second login: a new id again
    second = client.cookies.get(COOKIE)
    assert second != first

    client.cookies.set(
        COOKIE, first, domain="testserver.local"
    )  # the old id no longer opens anything
    assert (await client.get("/brokers/", follow_redirects=False)).status_code == 303


async def test_logging_out_ends_the_session_on_the_server(client, other_client) -> None:
    await log_in(client, "alice")
    stolen = client.cookies.get(COOKIE)
    page = await client.get("/brokers/")

    answer = await client.post(
        "/logout", data={"_csrf_token": csrf_of(page.text)}, follow_redirects=False
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert (await client.get("/brokers/", follow_redirects=False)).status_code == 303
    other_client.cookies.set(
        COOKIE, stolen, domain="testserver.local"
    )  # a copy of the cookie dies with the session
    assert (await other_client.get("/brokers/", follow_redirects=False)).status_code == 303


async def test_a_form_posted_without_its_csrf_token_is_refused(client) -> None:
    await log_in(client, "alice")

    answer = await client.post("/logout", data={}, follow_redirects=False)

    assert answer.status_code == 403
    assert "security token" in answer.text
    assert (await client.get("/brokers/")).status_code == 200  # still logged in


async def test_the_login_form_itself_needs_its_csrf_token(client) -> None:
    await client.get("/login")

    answer = await client.post(
        "/login", data={"name": "alice", "password": PASSWORD}, follow_redirects=False
    )

    assert answer.status_code == 403
    assert COOKIE not in client.cookies


async def test_after_the_login_the_browser_goes_only_to_a_page_of_this_site(client) -> None:
    token = await csrf_token(client)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        answer = await client.post(
            "/login",
            data={"name": "alice", "password": PASSWORD, "_csrf_token": token, "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/brokers/", target


async def test_every_answer_carries_the_security_headers(client) -> None:
    answers = [
        await client.get("/login"),
        await client.get("/brokers/", follow_redirects=False),
        await client.get("/healthz"),
        await client.get("/no/such/page"),
    ]
    await log_in(client, "alice")
    answers.append(await client.get("/brokers/"))

    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.url, name)
        assert "'unsafe-inline'" not in answer.headers["content-security-policy"]


async def test_healthz_needs_no_login_and_says_the_database_is_reachable(
    client: AsyncTestClient[Any],
) -> None:
    answer = await client.get("/healthz")

    assert answer.status_code == 200
    assert answer.json()["database"] == "ok"
