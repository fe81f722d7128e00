"""Strategies, risk limits and notification targets through the pages and the JSON API: field
errors from the services, another user's ids 404, secrets never answered, scopes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.telegram_server import FakeTelegram
from tests.web.support import PASSWORD, csrf_of, log_in

from tradecore.domain import Secret, User
from tradecore.testing.builders import make_connection
from tradecore_adapters.bootstrap import Application, open_application

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
SECRET_PART = TOKEN.split(":")[1]
DCA = {"instrument": "BTC-USD", "amount": "100"}


@pytest.fixture
def telegram() -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram(tokens={TOKEN}, chats={"42": "private"})
    with fake.serve() as url:
        yield fake, url


@pytest.fixture
async def application(home: Path, telegram: tuple[FakeTelegram, str]) -> AsyncIterator[Application]:
    """The application with alice and bob, each with a paper connection; Telegram is a fake."""
    environ = {"TRADECORE_HOME": str(home), "TELEGRAM_API_URL": telegram[1]}
    app = await open_application(environ=environ)
    try:
        for name in ("alice", "bob"):
            user = await app.users.add(name)
            await app.passwords.set_password(user.id, PASSWORD)
            async with app.repository.unit_of_work() as uow:
                await uow.connections.add(make_connection(user_id=user.id, name=f"{name}-paper"))
                await uow.commit()
        yield app
    finally:
        await app.aclose()


async def _token(application: Application, user: User, *scopes: str) -> dict[str, str]:
    made = await application.api_tokens.create(user.id, scopes)
    return {"Authorization": f"Bearer {made.secret}"}


async def _form(client: Any, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def _bobs_strategy(application: Application, bob: User) -> str:
    view = await application.strategies.add(
        bob.id, strategy_type="dca", name="bobs-dca", connection="bob-paper", parameters=DCA
    )
    return view.config.id


async def _bobs_target(application: Application, bob: User) -> str:
    added = await application.targets.add(
        bob.id, notifier="telegram", name="bobs-chat", settings={"chat_id": "42"},
        secrets={"bot_token": Secret(TOKEN)},
    )  # fmt: skip
    return added.target.id


async def test_add_a_strategy_through_the_form_then_switch_it_live(
    client: Any, application: Application, alice: User
) -> None:
    await log_in(client, "alice")
    token = await _form(client, "/strategies/new?type=dca")

    answer = await client.post(
        "/strategies/new",
        data={
            "_csrf_token": token, "type": "dca", "name": "btc-daily",
            "connection": "alice-paper", "param_instrument": "BTC-USD", "param_amount": "100",
            "mode": "dry_run",
        },
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    (view,) = await application.strategies.list(alice.id)
    assert view.config.dry_run
    assert dict(view.config.parameters) == DCA

    switched = await client.post(
        f"/strategies/{view.config.id}/mode",
        data={"_csrf_token": token, "value": "live"},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert not (await application.strategies.get(alice.id, view.config.id)).config.dry_run


async def test_a_refused_parameter_is_shown_next_to_its_field_and_nothing_is_stored(
    client: Any, application: Application, alice: User
) -> None:
    await log_in(client, "alice")
    token = await _form(client, "/strategies/new?type=dca")

    answer = await client.post(
        "/strategies/new",
        data={
            "_csrf_token": token, "type": "dca", "name": "btc-daily",
            "connection": "alice-paper", "param_instrument": "BTC-USD",
            "param_amount": "a lot",
        },
    )  # fmt: skip

    assert answer.status_code == 422
    field = answer.text.index('name="param_amount"')
    error = answer.text.index('class="field-error"', field)
    assert error < answer.text.index('name="param_every"')  # right under the amount field
    assert "amount" in answer.text[error : error + 300]
    assert await application.strategies.list(alice.id) == []


async def test_edit_parameters_disable_and_remove_with_confirmation(
    client: Any, application: Application, alice: User
) -> None:
    view = await application.strategies.add(
        alice.id, strategy_type="dca", name="weekly", connection="alice-paper", parameters=DCA
    )
    await log_in(client, "alice")
    token = await _form(client, f"/strategies/{view.config.id}/")

    edited = await client.post(
        f"/strategies/{view.config.id}/",
        data={"_csrf_token": token, "param_instrument": "ETH-USD", "param_amount": "150"},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    found = await application.strategies.get(alice.id, view.config.id)
    assert dict(found.config.parameters) == {"instrument": "ETH-USD", "amount": "150"}

    await client.post(
        f"/strategies/{view.config.id}/active", data={"_csrf_token": token, "value": "off"}
    )
    assert not (await application.strategies.get(alice.id, view.config.id)).config.active

    confirm = await client.get(f"/strategies/{view.config.id}/remove")
    assert "Remove weekly?" in confirm.text
    await client.post(f"/strategies/{view.config.id}/remove", data={"_csrf_token": token})
    assert await application.strategies.list(alice.id) == []


async def test_bobs_strategy_and_target_are_not_found_with_alices_session(
    client: Any, application: Application, alice: User, bob: User
) -> None:
    strategy_id = await _bobs_strategy(application, bob)
    target_id = await _bobs_target(application, bob)
    await log_in(client, "alice")
    token = await _form(client, "/strategies/")

    for path in (f"/strategies/{strategy_id}/", f"/strategies/{strategy_id}/remove",
                 f"/notifications/{target_id}/remove"):  # fmt: skip
        page = await client.get(path)
        assert page.status_code == 404, path
        assert "bobs-" not in page.text
    for path, data in (
        (f"/strategies/{strategy_id}/mode", {"value": "live"}),
        (f"/strategies/{strategy_id}/active", {"value": "off"}),
        (f"/strategies/{strategy_id}/remove", {}),
        (f"/notifications/{target_id}/active", {"value": "off"}),
        (f"/notifications/{target_id}/remove", {}),
    ):
        answer = await client.post(path, data={"_csrf_token": token, **data})
        assert answer.status_code == 404, path
    kept = await application.strategies.get(bob.id, strategy_id)
    assert kept.config.dry_run is False
    assert kept.config.active
    assert (await application.targets.get(bob.id, target_id)).active


async def test_bobs_ids_are_not_found_with_alices_token(
    client: Any, application: Application, alice: User, bob: User
) -> None:
    strategy_id = await _bobs_strategy(application, bob)
    target_id = await _bobs_target(application, bob)
    headers = await _token(application, alice, "read", "write")

    for method, path, body in (
        ("GET", f"/api/v1/strategies/{strategy_id}", None),
        ("PATCH", f"/api/v1/strategies/{strategy_id}", {"dry_run": True}),
        ("DELETE", f"/api/v1/strategies/{strategy_id}", None),
        ("GET", f"/api/v1/targets/{target_id}", None),
        ("PATCH", f"/api/v1/targets/{target_id}", {"active": False}),
        ("DELETE", f"/api/v1/targets/{target_id}", None),
    ):
        answer = await client.request(method, path, json=body, headers=headers)
        assert answer.status_code == 404, (method, path)
        assert "bobs-" not in answer.text
    assert (await application.strategies.get(bob.id, strategy_id)).config.dry_run is False
    assert (await application.targets.get(bob.id, target_id)).active


async def test_a_target_added_through_the_form_never_shows_its_bot_token(
    client: Any,
    other_client: Any,
    application: Application,
    alice: User,
    telegram: tuple[FakeTelegram, str],
) -> None:
    await log_in(client, "alice")
    token = await _form(client, "/notifications/")

    refused = await client.post(
        "/notifications/",
        data={"_csrf_token": token, "chat_id": "999", "bot_token": TOKEN},
    )
    assert refused.status_code == 422
    assert 'class="field-error"' in refused.text
    assert SECRET_PART not in refused.text  # not even back in the password field

    added = await client.post(
        "/notifications/",
        data={"_csrf_token": token, "name": "phone", "chat_id": "42", "bot_token": TOKEN},
        follow_redirects=False,
    )
    assert added.status_code == 303
    page = await client.get("/notifications/")
    assert "phone" in page.text
    assert SECRET_PART not in page.text
    headers = await _token(application, alice, "read", "execute")
    listed = await other_client.get("/api/v1/targets", headers=headers)  # a script: no cookie
    assert listed.json()["items"][0]["secrets"] == ["bot_token"]
    assert SECRET_PART not in listed.text

    tested = await other_client.post("/api/v1/targets/test", headers=headers)
    assert tested.json() == {"items": [{"name": "phone", "problem": None}]}
    assert len(telegram[0].messages("42")) == 1
    assert SECRET_PART not in tested.text


async def test_risk_limits_are_set_through_the_form_with_field_errors(
    client: Any, application: Application, alice: User
) -> None:
    await log_in(client, "alice")
    token = await _form(client, "/risk/")

    forged = await client.post("/risk/", data={"max_order_notional": "1"})  # no CSRF token
    assert forged.status_code == 403
    assert (await application.risk.show(alice.id)).limits.max_order_notional is None

    bad = await client.post("/risk/", data={"_csrf_token": token, "max_order_notional": "-5"})
    assert bad.status_code == 422
    field = bad.text.index('name="max_order_notional"')
    assert bad.text.index('class="field-error"', field) < bad.text.index(
        'name="max_cycle_notional"'
    )

    good = await client.post(
        "/risk/",
        data={"_csrf_token": token, "max_order_notional": "500.25",
              "max_orders_per_cycle": "5", "allowed_instruments": "BTC-USD, ETH-USD"},
        follow_redirects=False,
    )  # fmt: skip
    assert good.status_code == 303
    limits = (await application.risk.show(alice.id)).limits
    assert str(limits.max_order_notional) == "500.25"
    assert limits.max_orders_per_cycle == 5
    assert limits.allowed_instruments == frozenset({"BTC-USD", "ETH-USD"})


async def test_risk_api_keeps_decimals_exact_and_shows_the_kill_switch_read_only(
    client: Any, application: Application, alice: User
) -> None:
    await application.risk.halt("exchange incident")
    headers = await _token(application, alice, "read", "write")

    put = await client.put(
        "/api/v1/risk",
        json={"max_order_notional": "12345.000000000001", "max_cycle_notional": None,
              "max_orders_per_cycle": 3, "allowed_instruments": None},
        headers=headers,
    )  # fmt: skip
    assert put.status_code == 200, put.text
    body = (await client.get("/api/v1/risk", headers=headers)).json()
    assert body["limits"]["max_order_notional"] == "12345.000000000001"
    assert body["limits"]["max_orders_per_cycle"] == 3
    assert body["halt"]["reason"] == "exchange incident"
    page_client = client
    await log_in(page_client, "alice")
    page = await page_client.get("/risk/")
    assert "exchange incident" in page.text
    assert 'action="/operator' not in page.text  # no control of the switch here


async def test_scopes_reads_need_read_changes_write_and_a_test_execute(
    client: Any, application: Application, alice: User
) -> None:
    reader = await _token(application, alice, "read")
    writer = await _token(application, alice, "write")

    assert (await client.get("/api/v1/strategies", headers=reader)).status_code == 200
    assert (await client.get("/api/v1/strategies", headers=writer)).status_code == 403
    new = {"type": "dca", "name": "x", "connection": "alice-paper", "parameters": DCA}
    assert (await client.post("/api/v1/strategies", json=new, headers=reader)).status_code == 403
    limits = {"max_order_notional": None, "max_cycle_notional": None,
              "max_orders_per_cycle": None, "allowed_instruments": None}  # fmt: skip
    assert (await client.put("/api/v1/risk", json=limits, headers=reader)).status_code == 403
    assert (await client.post("/api/v1/targets/test", headers=writer)).status_code == 403
    created = await client.post("/api/v1/strategies", json=new, headers=writer)
    assert created.status_code == 201
    assert created.json()["dry_run"] is True
    refused = await client.post(
        "/api/v1/strategies", json={**new, "name": "y", "parameters": {}}, headers=writer
    )
    assert refused.status_code == 400
    assert "instrument" in refused.json()["detail"]
