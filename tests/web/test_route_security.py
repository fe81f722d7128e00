"""Security over the application's own route table (tests/web/routes.py enumerates
``create_app(...).routes``), so that every route added later is covered as it lands:

- every route needs a login except the public ones, which are exactly the login page, the
  language switch, /healthz, the static files and /metrics (which checks for itself);
- every state-changing request made with a session needs its CSRF token;
- on every route with a resource id, alice (session or token) gets 404 on bob's resource;
- a read token is refused by write and execute routes, a write token by execute routes;
- the CSRF and language cookies' flags, Secure cookies behind TLS, the headers on every answer.

Each test checks every endpoint and reports all that fail at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tests.web.routes import (
    ID_PARAMETERS,
    LITESTAR_PARAMETERS,
    STATE_CHANGING,
    Endpoint,
    body_for,
    endpoints,
    routed_handler,
)
from tests.web.support import csrf_of, csrf_token, log_in

from tradecore.domain import User
from tradecore.services import OrderForm
from tradecore_adapters.bootstrap import Application
from tradecore_web import WebOptions, create_app
from tradecore_web.csrf import CSRF_COOKIE, CSRF_HEADER
from tradecore_web.headers import SECURITY_HEADERS
from tradecore_web.i18n import LANGUAGE_COOKIE
from tradecore_web.sessions import COOKIE

PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/language"),
    ("GET", "/healthz"),
    ("GET", "/static/{file_path:path}"),
    ("HEAD", "/static/{file_path:path}"),
    ("GET", "/metrics"),  # its own check: loopback, or a metrics token (tests/web/test_metrics.py)
}
"""The only endpoints open without a login."""

_NONE = dict.fromkeys(ID_PARAMETERS, "no-such-id")

ALL = endpoints()
PRIVATE = [each for each in ALL if not each.public]
CHANGING = [each for each in ALL if each.method in STATE_CHANGING]
WITH_IDS = [each for each in ALL if set(each.parameters) & set(ID_PARAMETERS)]


def _assert_none(failures: list[str]) -> None:
    assert not failures, "\n".join(failures)


def _headers_of(answer: httpx.Response, endpoint: Endpoint) -> list[str]:
    return [
        f"{endpoint}: header {name} missing"
        for name, value in SECURITY_HEADERS.items()
        if answer.headers.get(name) != value
    ]


async def _send(
    client: AsyncTestClient[Any],
    endpoint: Endpoint,
    ids: dict[str, str],
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = body_for(endpoint) if endpoint.method in STATE_CHANGING else {}
    return await client.request(
        endpoint.method,
        endpoint.url(ids),
        headers=headers or {},
        follow_redirects=False,
        **body,
    )


async def _token(application: Application, user: User, *scopes: str) -> dict[str, str]:
    made = await application.api_tokens.create(user.id, scopes)
    return {"authorization": f"Bearer {made.secret}"}


def test_the_route_table_has_the_routes_of_the_front_end() -> None:
    paths = {(each.method, each.path) for each in ALL}
    assert {("POST", "/logout"), ("GET", "/brokers"), ("GET", "/api/openapi.json")} <= paths


def test_the_public_routes_are_exactly_login_language_healthz_static_files_and_metrics() -> None:
    assert {(each.method, each.path) for each in ALL if each.public} == PUBLIC


def test_every_path_parameter_is_a_known_resource_id() -> None:
    unknown = [
        f"{each}: parameter {name!r} is no resource id ({', '.join(ID_PARAMETERS)}): "
        "name it as the conventions say, or teach tests/web/routes.py about it"
        for each in ALL
        for name in each.parameters
        if name not in ID_PARAMETERS
        and not (name in LITESTAR_PARAMETERS and each.handler.__module__.startswith("litestar"))
    ]
    _assert_none(unknown)


def test_every_concrete_url_reaches_its_own_handler() -> None:
    app = create_app_for_routes()
    wrong = [
        f"{each}: {each.url(_NONE)} is routed elsewhere"
        for each in ALL
        if routed_handler(app, each.method, each.url(_NONE)) is not each.handler
    ]
    _assert_none(wrong)


def create_app_for_routes() -> Litestar:
    from tests.web.routes import route_app

    return route_app()


async def test_every_private_route_without_a_login_goes_to_the_login_page_or_answers_401(
    client: AsyncTestClient[Any],
) -> None:
    token = await csrf_token(client)  # so that only the missing login can refuse
    failures = []
    for endpoint in PRIVATE:
        for credentials in ({}, {"authorization": "Bearer tc_not-a-token"}):
            answer = await _send(
                client, endpoint, _NONE, headers={CSRF_HEADER: token, **credentials}
            )
            failures += _headers_of(answer, endpoint)
            if endpoint.is_api:
                if answer.status_code != 401 or "problem+json" not in answer.headers.get(
                    "content-type", ""
                ):
                    failures.append(f"{endpoint} {credentials}: {answer.status_code}, not 401")
            elif answer.status_code != 303 or not answer.headers.get("location", "").startswith(
                "/login?next="
            ):
                failures.append(f"{endpoint} {credentials}: {answer.status_code}, not 303 to login")
    _assert_none(failures)


async def test_every_state_changing_request_with_a_session_needs_its_csrf_token(
    client: AsyncTestClient[Any], application: Application, alice: User
) -> None:
    await log_in(client, "alice")
    bearer = await _token(application, alice, "read", "write", "execute")
    failures = []
    for endpoint in CHANGING:
        # A bearer token beside the cookie does not lift the check: the cookie rides along.
        for headers in ({}, {CSRF_HEADER: "0" * 64}, bearer):
            answer = await _send(client, endpoint, _NONE, headers=headers)
            if answer.status_code != 403:
                failures.append(f"{endpoint} {sorted(headers)}: {answer.status_code}, not 403")
    assert (await client.get("/brokers/")).status_code == 200, "the session was lost"
    _assert_none(failures)


@pytest.fixture
async def bobs(application: Application, bob: User) -> dict[str, str]:
    """Bob's resources, one of each kind, made through the application's services."""
    connection = await application.connections.add(
        bob.id, broker="paper", name="bob-paper", settings={"seed": "7"}
    )
    strategy = await application.strategies.add(
        bob.id,
        strategy_type="dca",
        name="bob-dca",
        connection="bob-paper",
        parameters={"instrument": "BTC-USD", "amount": "100", "every": "1h"},
    )
    placed = await application.orders.place(
        bob.id,
        OrderForm(connection="bob-paper", symbol="BTC-USD", side="buy", quantity=Decimal("0.001")),
    )
    run = await application.run_cycle(bob.id)
    target = await application.targets.add(bob.id, notifier="console", name="bob-console")
    assert run.run_id
    assert placed.order.client_order_id
    return {
        "connection_id": connection.id,
        "strategy_id": strategy.config.id,
        "order_id": placed.order.client_order_id,
        "run_id": run.run_id,
        "target_id": target.target.id,
    }


@pytest.fixture
async def alice_session(web_app: Litestar) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=web_app) as browser:
        await log_in(browser, "alice")
        yield browser


async def test_bobs_resources_are_404_to_alices_session_and_token_on_every_route_with_an_id(
    alice_session: AsyncTestClient[Any],
    client: AsyncTestClient[Any],
    application: Application,
    alice: User,
    bobs: dict[str, str],
) -> None:
    page = await alice_session.get("/brokers/")
    csrf = csrf_of(page.text) if "_csrf_token" in page.text else await csrf_token(alice_session)
    token = await _token(application, alice, "read", "write", "execute")
    failures = []
    for endpoint in WITH_IDS:
        for who, browser, headers in (
            ("session", alice_session, {CSRF_HEADER: csrf}),
            ("token", client, token),
        ):
            answer = await _send(browser, endpoint, bobs, headers=headers)
            if answer.status_code != 404:
                failures.append(f"{endpoint} ({who}): {answer.status_code}, not 404")
            elif "bob" in answer.text.lower():
                failures.append(f"{endpoint} ({who}): the 404 names bob's resource")
    _assert_none(failures)


async def test_a_read_token_may_not_write_or_execute_and_a_write_token_may_not_execute(
    client: AsyncTestClient[Any], application: Application, alice: User
) -> None:
    read = await _token(application, alice, "read")
    write = await _token(application, alice, "read", "write")
    failures = []
    for endpoint in PRIVATE:
        refused_to = {"write": [read], "execute": [read, write]}.get(endpoint.scope or "", [])
        for headers in refused_to:
            answer = await _send(client, endpoint, _NONE, headers=headers)
            if answer.status_code != 403:
                failures.append(f"{endpoint} ({endpoint.scope}): {answer.status_code}, not 403")
        if (
            endpoint.scope == "read"
            and endpoint.method == "GET"
            and not endpoint.parameters
            and not endpoint.handler.opt.get("admin")
        ):
            answer = await _send(client, endpoint, _NONE, headers=read)
            if answer.status_code in (401, 403):
                failures.append(f"{endpoint}: a read token got {answer.status_code}")
    _assert_none(failures)


def _cookie(answer: httpx.Response, name: str) -> set[str]:
    header = next(
        (each for each in answer.headers.get_list("set-cookie") if each.startswith(f"{name}=")),
        None,
    )
    assert header is not None, f"no {name} cookie set"
    return {part.strip().lower() for part in header.split(";")}


async def test_the_csrf_and_language_cookies_are_same_site_and_the_language_one_http_only(
    client: AsyncTestClient[Any],
) -> None:
    page = await client.get("/login")
    csrf = _cookie(page, CSRF_COOKIE)
    assert "samesite=lax" in csrf
    assert "httponly" not in csrf  # the pages' script sends it back in the header
    answer = await client.post(
        "/language",
        data={"language": "fr", "next": "/login", "_csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    language = _cookie(answer, LANGUAGE_COOKIE)
    assert {"samesite=lax", "httponly"} <= language


async def test_behind_tls_the_session_and_csrf_cookies_are_secure(
    application: Application,
) -> None:
    async with AsyncTestClient(
        app=create_app(application, WebOptions(secure_cookies=True)),
        base_url="https://testserver.local",
    ) as browser:
        page = await browser.get("/login")
        assert "secure" in _cookie(page, CSRF_COOKIE)
        answer = await log_in(browser, "alice")
        assert answer.status_code == 303
        assert {"secure", "httponly", "samesite=lax"} <= _cookie(answer, COOKIE)


async def test_options_answers_list_every_method_of_the_path_and_nothing_else(
    client: AsyncTestClient[Any],
) -> None:
    methods: dict[str, set[str]] = {}
    for endpoint in ALL:
        methods.setdefault(endpoint.path, {"OPTIONS"}).add(endpoint.method)
    failures = []
    for path, expected in methods.items():
        answer = await client.options(Endpoint("OPTIONS", path, ALL[0].handler).url(_NONE))
        allowed = {each.strip() for each in answer.headers.get("allow", "").split(",")}
        if answer.status_code != 204 or allowed != expected or answer.content:
            failures.append(f"OPTIONS {path}: {answer.status_code} Allow {sorted(allowed)}")
    _assert_none(failures)
