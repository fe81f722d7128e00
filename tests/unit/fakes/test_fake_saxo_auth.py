"""The fake Saxo's authorization server, checked against Saxo's OAuth pages
(https://www.developer.saxo/openapi/learn/oauth-authorization-code-grant and
https://www.developer.saxo/openapi/learn/oauth-authorization-code-grant-pkce): code and PKCE
grants, 201 token answers, single-use codes and refresh tokens, lifetimes."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.fakes.saxo_exchange import API_BASE, AUTH_BASE, FakeSaxo

KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
SECRET = "0123456789abcdef0123456789abcdef"
CALLBACK = "http://localhost:8080/callback"
# RFC 7636 appendix B.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


def basic(key: str = KEY, secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeSaxo:
    return FakeSaxo(app_key=KEY, app_secret=SECRET, now=clock)


@pytest.fixture
def pkce(clock: Clock) -> FakeSaxo:
    return FakeSaxo(app_key=KEY, app_secret=None, now=clock, redirect_uris=("http://127.0.0.1/cb",))


async def _client(fake: FakeSaxo) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=fake.mock_transport(), base_url=AUTH_BASE)


@pytest.fixture
async def http(fake: FakeSaxo) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(fake) as client:
        yield client


@pytest.fixture
async def pkce_http(pkce: FakeSaxo) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(pkce) as client:
        yield client


async def authorize(http: httpx.AsyncClient, **extra: str) -> dict[str, list[str]]:
    params = {"response_type": "code", "client_id": KEY, "state": "st-1", "redirect_uri": CALLBACK}
    params.update(extra)
    answer = await http.get("/authorize", params=params)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    redirect = params["redirect_uri"]
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    return parse_qs(location.query)


async def exchange(http: httpx.AsyncClient, code: str, **form: str) -> httpx.Response:
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, **form}
    return await http.post("/token", data=body, headers=basic())


async def gateway_status(http: httpx.AsyncClient, token: str) -> int:
    answer = await http.get(
        f"{API_BASE}/port/v1/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    return answer.status_code


async def test_code_grant_with_basic_auth_answers_201_with_the_token_json(fake, http) -> None:
    query = await authorize(http)
    answer = await exchange(http, query["code"][0])

    assert query["state"] == ["st-1"]
    assert answer.status_code == 201
    tokens = answer.json()
    assert set(tokens) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "base_uri",
    }
    assert (tokens["token_type"], tokens["expires_in"], tokens["refresh_token_expires_in"]) == (
        "Bearer",
        1200,
        3600,
    )
    assert tokens["base_uri"] is None
    assert await gateway_status(http, tokens["access_token"]) == 200


async def test_code_grant_accepts_credentials_in_the_body(http) -> None:
    query = await authorize(http)
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": CALLBACK,
        "client_id": KEY,
        "client_secret": SECRET,
    }

    answer = await http.post("/token", data=form)

    assert answer.status_code == 201


async def test_codes_are_single_use_expire_and_bind_the_redirect_uri(clock, http) -> None:
    first = (await authorize(http))["code"][0]
    assert (await exchange(http, first)).status_code == 201
    again = await exchange(http, first)
    late = (await authorize(http))["code"][0]
    clock.advance(61)
    expired = await exchange(http, late)
    other = (await authorize(http))["code"][0]
    mismatch = await exchange(http, other, redirect_uri="http://localhost:9999/callback")

    for answer in (again, expired, mismatch):
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_grant"


async def test_wrong_client_credentials_are_401_invalid_client(http) -> None:
    code = (await authorize(http))["code"][0]

    wrong = await http.post(
        "/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        headers=basic(secret="nope"),
    )
    missing = await http.post(
        "/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    )

    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert (missing.status_code, missing.json()["error"]) == (401, "invalid_client")


async def test_authorize_refuses_unknown_apps_and_redirects_with_an_html_400(http) -> None:
    base = {"response_type": "code", "state": "s", "redirect_uri": CALLBACK}
    unknown_app = await http.get("/authorize", params={**base, "client_id": "f" * 32})
    unknown_uri = await http.get(
        "/authorize", params={**base, "client_id": KEY, "redirect_uri": "http://evil.test/cb"}
    )

    for answer in (unknown_app, unknown_uri):
        assert answer.status_code == 400
        assert answer.headers["content-type"].startswith("text/html")


async def test_denied_login_redirects_with_the_error_once(fake, http) -> None:
    fake.deny_next_login()

    denied = await authorize(http)
    allowed = await authorize(http)

    assert denied == {
        "error": ["access_denied"],
        "error_description": ["The user cancelled"],
        "state": ["st-1"],
    }
    assert "code" in allowed


async def test_pkce_checks_the_s256_verifier(pkce_http) -> None:
    redirect = "http://127.0.0.1:53682/cb"  # registered without a port, any port goes
    no_challenge = await authorize(pkce_http, redirect_uri=redirect)
    code = (
        await authorize(
            pkce_http, redirect_uri=redirect, code_challenge=CHALLENGE, code_challenge_method="S256"
        )
    )["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}
    wrong = await pkce_http.post(
        "/token", data={**form, "client_id": KEY, "code_verifier": VERIFIER[:-1] + "A"}
    )
    code = (
        await authorize(
            pkce_http, redirect_uri=redirect, code_challenge=CHALLENGE, code_challenge_method="S256"
        )
    )["code"][0]
    form["code"] = code
    good = await pkce_http.post(
        "/token", data={**form, "client_id": KEY, "code_verifier": VERIFIER}
    )

    assert no_challenge["error"] == ["invalid_request"]
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert good.status_code == 201
    digest = hashlib.sha256(VERIFIER.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == CHALLENGE


async def test_refresh_tokens_are_single_use_and_keep_the_session(fake, http) -> None:
    tokens = fake.issue_tokens()
    session = fake.session_of(tokens["access_token"])

    fresh = await http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(),
    )
    renewed = fresh.json()
    chained = await http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]},
        headers=basic(),
    )

    assert fresh.status_code == 201
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert fake.session_of(renewed["access_token"]) == session
    assert chained.status_code == 201
    assert fake.refresh_calls == 2
    assert fake.refresh_token_reuse == 0
    assert await gateway_status(http, renewed["access_token"]) == 200


async def test_a_spent_refresh_token_presented_again_is_counted_and_revokes_the_session(
    fake, http
) -> None:
    tokens = fake.issue_tokens()
    other = fake.issue_tokens()  # another login's session is untouched
    fresh = (
        await http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            headers=basic(),
        )
    ).json()

    reused = await http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(),
    )
    chained = await http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]},
        headers=basic(),
    )

    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    assert fake.refresh_token_reuse == 1
    assert (chained.status_code, chained.json()["error"]) == (400, "invalid_grant")
    assert await gateway_status(http, fresh["access_token"]) == 401
    assert await gateway_status(http, other["access_token"]) == 200
    assert fake.refresh_token_reuse == 1  # a revoked token is not a reuse


async def test_code_app_refresh_needs_client_auth_but_a_pkce_app_does_not(
    fake, http, pkce, pkce_http
) -> None:
    code_app = fake.issue_tokens()
    pkce_app = pkce.issue_tokens()

    anonymous = await http.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": code_app["refresh_token"]}
    )
    public = await pkce_http.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": pkce_app["refresh_token"]}
    )

    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_client")
    assert public.status_code == 201


async def test_lifetimes_expire_access_then_refresh_tokens(clock, fake, http) -> None:
    tokens = fake.issue_tokens()

    clock.advance(1199)
    before = await gateway_status(http, tokens["access_token"])
    clock.advance(1)
    expired = await http.get(
        f"{API_BASE}/port/v1/users/me",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    clock.advance(2400)
    late = await http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(),
    )

    assert before == 200
    assert (expired.status_code, expired.content) == (401, b"")
    assert (late.status_code, late.json()["error"]) == (400, "invalid_grant")


async def test_expire_and_revoke_controls(fake, http) -> None:
    tokens = fake.issue_tokens()
    fake.expire_access_tokens()
    refreshed = await http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(),
    )
    new = refreshed.json()
    fake.revoke_refresh_tokens()
    revoked = await http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": new["refresh_token"]},
        headers=basic(),
    )

    assert await gateway_status(http, tokens["access_token"]) == 401
    assert refreshed.status_code == 201
    assert await gateway_status(http, new["access_token"]) == 200
    assert (revoked.status_code, revoked.json()["error"]) == (400, "invalid_grant")
    assert fake.refresh_calls == 2


async def test_unknown_grant_types_are_refused(http) -> None:
    answer = await http.post("/token", data={"grant_type": "password"}, headers=basic())

    assert (answer.status_code, answer.json()["error"]) == (400, "unsupported_grant_type")
