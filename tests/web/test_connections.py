"""The connections through the pages and the JSON API, in-process: adding one (fields and their
errors), sync now, test, enable and disable, settings and secrets, removal with a confirmation,
the OAuth login and its callback, another user's connection (404), and secrets that never
come back in any answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from tests.fakes.saxo_exchange import FakeSaxo
from tests.web.support import csrf_of, log_in

from tradecore.domain import Secret, User
from tradecore_adapters.bootstrap import Application

SECRET = "dummy-Zq7SECRETvalue9x"
"""A recognisable secret: no answer may ever contain it."""


class Answers:
    """Every answer a test got, to look for a secret in all of them."""

    def __init__(self, client: AsyncTestClient[Any]) -> None:
        self.client = client
        self.seen: list[httpx.Response] = []

    async def get(self, path: str, **options: Any) -> httpx.Response:
        answer = await self.client.get(path, **options)
        self.seen.append(answer)
        return answer

    async def post(self, path: str, **options: Any) -> httpx.Response:
        answer = await self.client.post(path, **options)
        self.seen.append(answer)
        return answer

    async def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        answer = await self.client.request(method, path, **options)
        self.seen.append(answer)
        return answer

    def assert_no(self, secret: str) -> None:
        assert self.seen
        for answer in self.seen:
            assert secret not in answer.text, f"{answer.request.url} showed the secret"
            assert secret not in str(answer.headers)


async def _token(client: AsyncTestClient[Any], path: str = "/brokers/") -> str:
    return csrf_of((await client.get(path)).text)


async def _api_headers(client: AsyncTestClient[Any]) -> dict[str, str]:
    return {"x-csrftoken": await _token(client), "accept": "application/json"}


@pytest.fixture
async def alice_in(client: AsyncTestClient[Any], alice: User) -> AsyncTestClient[Any]:
    """``client`` logged in as alice."""
    assert (await log_in(client, "alice")).status_code == 303
    return client


async def test_add_a_connection_through_the_config_page_secret_never_shown_again(
    alice_in: AsyncTestClient[Any], application: Application, alice: User
) -> None:
    answers = Answers(alice_in)
    chooser = await answers.get("/brokers/config/")
    assert 'value="paper"' in chooser.text
    assert 'value="dummy"' in chooser.text
    form = await answers.get("/brokers/config/?broker=dummy")
    assert 'name="secret.api_token" type="password"' in form.text
    token = csrf_of(form.text)

    refused = await answers.post(
        "/brokers/config/",
        data={"_csrf_token": token, "broker": "dummy", "name": "d1",
              "setting.currency": "GBP", "secret.api_token": SECRET},
    )  # fmt: skip
    assert refused.status_code == 422
    assert '<p class="field-error" role="alert">' in refused.text
    assert "must be one of" in refused.text
    assert await application.connections.list(alice.id) == []

    added = await answers.post(
        "/brokers/config/",
        data={"_csrf_token": token, "broker": "dummy", "name": "d1",
              "setting.currency": "EUR", "secret.api_token": SECRET},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code == 303
    stored = await application.connections.get(alice.id, "d1")
    assert stored.settings == {"currency": "EUR"}
    assert stored.secrets["api_token"].reveal() == SECRET

    page = await answers.get("/brokers/")
    assert "d1 added" in page.text
    assert f'data-connection="{stored.id}"' in page.text
    await answers.get(f"/brokers/config/{stored.id}/")
    await answers.post(f"/brokers/{stored.id}/test/", data={"_csrf_token": token})
    await answers.post(f"/brokers/{stored.id}/sync/", data={"_csrf_token": token})
    await answers.get("/brokers/")
    headers = await _api_headers(alice_in)
    await answers.get("/api/v1/connections", headers=headers)
    await answers.get(f"/api/v1/connections/{stored.id}", headers=headers)
    await answers.post(f"/api/v1/connections/{stored.id}/test", headers=headers)
    await answers.post(f"/api/v1/connections/{stored.id}/sync", headers=headers)
    patched = await answers.request(
        "PATCH", f"/api/v1/connections/{stored.id}", headers=headers,
        json={"secrets": {"api_token": SECRET + "2"}},
    )  # fmt: skip
    assert patched.status_code == 200
    assert patched.json()["secrets_set"] == ["api_token"]
    created = await answers.post(
        "/api/v1/connections", headers=headers,
        json={"broker": "dummy", "name": "d2", "secrets": {"api_token": SECRET}},
    )  # fmt: skip
    assert created.status_code == 201
    answers.assert_no(SECRET)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"broker": "paper", "name": ""}, "name", "name"),
        ({"broker": "paper", "name": "a\tb"}, "name", "printable"),
        ({"broker": "acme", "name": "x"}, "broker", "is not an installed broker plugin"),
        (
            {"broker": "paper", "name": "p", "setting.currency": "EURO"},
            "setting.currency",
            "currency",
        ),
    ],
)
async def test_a_refused_field_is_shown_next_to_it_and_nothing_is_stored(
    alice_in: AsyncTestClient[Any],
    application: Application,
    alice: User,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    token = await _token(alice_in, "/brokers/config/")
    answer = await alice_in.post("/brokers/config/", data={"_csrf_token": token, **fields})

    assert answer.status_code == 422
    assert '<p class="field-error" role="alert">' in answer.text
    assert message in answer.text
    assert await application.connections.list(alice.id) == []


async def test_sync_now_shows_the_positions_count_and_enable_disable_work(
    alice_in: AsyncTestClient[Any], application: Application, alice: User
) -> None:
    paper = await application.connections.add(alice.id, broker="paper", name="p1")
    token = await _token(alice_in)

    synced = await alice_in.post(f"/brokers/{paper.id}/sync/", data={"_csrf_token": token})
    assert synced.status_code == 200
    assert "p1: synced," in synced.text
    footprint = await application.connections.footprint(alice.id, "p1")
    assert footprint.positions > 0
    assert f'<td class="num positions" data-label="Positions">{footprint.positions}</td>' in (
        synced.text
    )

    tested = await alice_in.post(f"/brokers/{paper.id}/test/", data={"_csrf_token": token})
    assert "p1 works: accounts" in tested.text
    await alice_in.post(f"/brokers/{paper.id}/disable/", data={"_csrf_token": token})
    assert not (await application.connections.get(alice.id, "p1")).active
    await alice_in.post(f"/brokers/{paper.id}/enable/", data={"_csrf_token": token})
    assert (await application.connections.get(alice.id, "p1")).active


async def test_settings_are_edited_and_removal_asks_first(
    alice_in: AsyncTestClient[Any], application: Application, alice: User
) -> None:
    paper = await application.connections.add(alice.id, broker="paper", name="p1")
    page = await alice_in.get(f"/brokers/config/{paper.id}/")
    token = csrf_of(page.text)

    refused = await alice_in.post(
        f"/brokers/config/{paper.id}/",
        data={"_csrf_token": token, "setting.history_days": "9999"},
    )
    assert refused.status_code == 422
    assert "field-error" in refused.text
    await alice_in.post(
        f"/brokers/config/{paper.id}/", data={"_csrf_token": token, "setting.seed": "7"}
    )
    assert (await application.connections.get(alice.id, "p1")).settings == {"seed": "7"}

    confirm = await alice_in.get(f"/brokers/config/{paper.id}/remove/")
    assert "Remove p1?" in confirm.text
    assert await application.connections.list(alice.id) != []
    await alice_in.post(f"/brokers/config/{paper.id}/remove/", data={"_csrf_token": token})
    assert await application.connections.list(alice.id) == []


async def test_the_api_creates_changes_pages_and_deletes(
    alice_in: AsyncTestClient[Any], application: Application, alice: User
) -> None:
    headers = await _api_headers(alice_in)
    for name in ("a", "b", "c"):
        made = await alice_in.post(
            "/api/v1/connections", headers=headers, json={"broker": "paper", "name": name}
        )
        assert made.status_code == 201
    refused = await alice_in.post(
        "/api/v1/connections", headers=headers, json={"broker": "paper", "name": "a"}
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")

    first = (await alice_in.get("/api/v1/connections?limit=2", headers=headers)).json()
    assert [each["name"] for each in first["items"]] == ["a", "b"]
    rest = await alice_in.get(
        f"/api/v1/connections?limit=2&cursor={first['next_cursor']}", headers=headers
    )
    assert [each["name"] for each in rest.json()["items"]] == ["c"]
    assert rest.json()["next_cursor"] is None

    a_id = first["items"][0]["id"]
    changed = await alice_in.patch(
        f"/api/v1/connections/{a_id}", headers=headers, json={"settings": {"seed": "3"}}
    )
    assert changed.json()["settings"] == {"seed": "3"}
    disabled = await alice_in.post(f"/api/v1/connections/{a_id}/disable", headers=headers)
    assert disabled.json()["active"] is False
    assert (
        await alice_in.delete(f"/api/v1/connections/{a_id}", headers=headers)
    ).status_code == 204
    assert [each.name for each in await application.connections.list(alice.id)] == ["b", "c"]


async def test_bobs_connection_is_a_404_for_alice_on_every_page_and_api_route(
    alice_in: AsyncTestClient[Any], application: Application, bob: User
) -> None:
    theirs = await application.connections.add(
        bob.id, broker="dummy", name="bobs", secrets={"api_token": Secret(SECRET)}
    )
    token = await _token(alice_in)
    form = {"_csrf_token": token}
    headers = await _api_headers(alice_in)
    cid = theirs.id
    pages = [
        ("GET", f"/brokers/config/{cid}/", {}),
        ("GET", f"/brokers/config/{cid}/remove/", {}),
        ("GET", f"/brokers/{cid}/order/", {}),
        ("POST", f"/brokers/{cid}/sync/", {"data": form}),
        ("POST", f"/brokers/{cid}/test/", {"data": form}),
        ("POST", f"/brokers/{cid}/login/", {"data": form}),
        ("POST", f"/brokers/{cid}/disable/", {"data": form}),
        ("POST", f"/brokers/config/{cid}/", {"data": {**form, "setting.currency": "EUR"}}),
        ("POST", f"/brokers/config/{cid}/secrets/", {"data": {**form, "secret.api_token": "x"}}),
        ("POST", f"/brokers/config/{cid}/remove/", {"data": form}),
        ("GET", f"/api/v1/connections/{cid}", {"headers": headers}),
        ("PATCH", f"/api/v1/connections/{cid}", {"headers": headers, "json": {"settings": {}}}),
        ("POST", f"/api/v1/connections/{cid}/disable", {"headers": headers}),
        ("POST", f"/api/v1/connections/{cid}/sync", {"headers": headers}),
        ("POST", f"/api/v1/connections/{cid}/test", {"headers": headers}),
        ("DELETE", f"/api/v1/connections/{cid}", {"headers": headers}),
    ]
    for method, path, options in pages:
        answer = await alice_in.request(method, path, **options)
        assert answer.status_code == 404, f"{method} {path}: {answer.status_code}"
        assert "bobs" not in answer.text
        assert SECRET not in answer.text

    kept = await application.connections.get(bob.id, "bobs")
    assert kept.active
    assert kept.settings == {}
    assert kept.secrets["api_token"].reveal() == SECRET
    listed = (await alice_in.get("/api/v1/connections", headers=headers)).json()
    assert listed["items"] == []


@pytest.fixture
def fake_saxo() -> FakeSaxo:
    return FakeSaxo(redirect_uris=("http://testserver.local/brokers/saxo/callback/",))


async def test_the_saxo_login_comes_back_to_the_callback_and_a_wrong_state_changes_nothing(
    alice_in: AsyncTestClient[Any], application: Application, alice: User, fake_saxo: FakeSaxo
) -> None:
    with fake_saxo.serve() as url:
        saxo = await application.connections.add(
            alice.id, broker="saxo", name="s1",
            settings={"app_key": fake_saxo.app_key, "auth_base_url": url,
                      "api_base_url": f"{url}/sim/openapi",
                      "redirect_uri": "http://testserver.local/brokers/saxo/callback/"},
        )  # fmt: skip
        token = await _token(alice_in)
        began = await alice_in.post(
            f"/brokers/{saxo.id}/login/", data={"_csrf_token": token}, follow_redirects=False
        )
        assert began.status_code == 303
        assert began.headers["location"].startswith(f"{url}/authorize?")
        authorized = httpx.get(began.headers["location"], follow_redirects=False, timeout=20)
        back = authorized.headers["location"]
        assert back.startswith("http://testserver.local/brokers/saxo/callback/?")
        path = back.removeprefix("http://testserver.local")

        forged = path.replace("state=", "state=x", 1)
        refused = await alice_in.get(forged)
        assert "login failed" in refused.text
        assert (await application.connections.get(alice.id, "s1")).tokens is None

        done = await alice_in.get(path)
        assert "s1: logged in" in done.text
        assert (await application.connections.get(alice.id, "s1")).tokens is not None
