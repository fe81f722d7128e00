"""Orders through the pages and the JSON API, in-process: the form and its field errors, the
confirmation step, placing (once, whatever the number of presses), the risk rule named, the
order list newest first with Cancel, and another user's connection or order (404)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from tests.web.support import csrf_of, log_in

from tradecore.domain import BrokerConnection, OrderStatus, User
from tradecore.services import OrderForm
from tradecore_adapters.bootstrap import Application


@pytest.fixture
async def alice_in(client: AsyncTestClient[Any], alice: User) -> AsyncTestClient[Any]:
    """``client`` logged in as alice."""
    assert (await log_in(client, "alice")).status_code == 303
    return client


@pytest.fixture
async def paper(application: Application, alice: User) -> BrokerConnection:
    """alice's paper connection."""
    return await application.connections.add(alice.id, broker="paper", name="p1")


async def _headers(client: AsyncTestClient[Any]) -> dict[str, str]:
    token = csrf_of((await client.get("/orders/")).text)
    return {"x-csrftoken": token, "accept": "application/json"}


async def test_an_order_is_confirmed_then_placed_once_and_listed_newest_first(
    alice_in: AsyncTestClient[Any], application: Application, alice: User, paper: BrokerConnection
) -> None:
    form = await alice_in.get(f"/brokers/{paper.id}/order/")
    token = csrf_of(form.text)

    confirm = await alice_in.post(
        f"/brokers/{paper.id}/order/",
        data={"_csrf_token": token, "symbol": "btc-usd", "side": "buy", "quantity": "0.01"},
    )
    assert confirm.status_code == 200
    assert "Confirm the order" in confirm.text
    assert "buy 0.01 BTC-USD at market" in confirm.text
    assert '<span class="ok">passes</span>' in confirm.text
    assert (await application.orders.list(alice.id)).orders == ()

    wanted = {"symbol", "side", "quantity", "order_type", "limit_price", "account", "key"}
    fields = {name: value for name, value in _hidden(confirm.text) if name in wanted}
    assert fields["key"]
    for _ in range(2):  # a second press (or a reload) places nothing more
        placed = await alice_in.post(
            f"/brokers/{paper.id}/order/place/",
            data={"_csrf_token": token, **fields},
            follow_redirects=False,
        )
        assert placed.status_code == 303
        assert placed.headers["location"] == "/orders/"
    [order] = (await application.orders.list(alice.id)).orders
    assert order.status is OrderStatus.FILLED

    later = await application.orders.place(
        alice.id,
        OrderForm(connection="p1", symbol="ETH-USD", side="buy", quantity=Decimal("0.1")),
    )
    listed = await alice_in.get("/orders/")
    assert f"order {order.client_order_id} placed: filled" in listed.text
    table = listed.text.split('id="orders"', 1)[1]
    assert table.index(later.order.client_order_id) < table.index(order.client_order_id)
    api = (await alice_in.get("/api/v1/orders", headers=await _headers(alice_in))).json()
    assert [each["id"] for each in api["items"]] == [
        later.order.client_order_id,
        order.client_order_id,
    ]
    assert api["items"][1]["quantity"] == "0.01"
    headers = await _headers(alice_in)
    first = (await alice_in.get("/api/v1/orders?limit=1", headers=headers)).json()
    assert [each["id"] for each in first["items"]] == [later.order.client_order_id]
    rest = await alice_in.get(
        f"/api/v1/orders?limit=1&cursor={first['next_cursor']}", headers=headers
    )
    assert [each["id"] for each in rest.json()["items"]] == [order.client_order_id]
    assert rest.json()["next_cursor"] is None


def _hidden(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', html)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"symbol": "BTC-USD", "quantity": "abc"}, "quantity", "quantity must be a number"),
        ({"symbol": "BTC-USD", "quantity": "0"}, "quantity", "greater than 0"),
        ({"symbol": "", "quantity": "1"}, "symbol", "a symbol must not be empty"),
        ({"symbol": "BTC-USD", "quantity": "1", "side": "hold"}, "side", "a side is buy or sell"),
        ({"symbol": "NOPE", "quantity": "1"}, "symbol", "does not list the symbol"),
        (
            {"symbol": "BTC-USD", "quantity": "1", "order_type": "limit"},
            "limit_price",
            "a limit order needs a limit price",
        ),
    ],
)
async def test_a_refused_field_is_shown_next_to_it(
    alice_in: AsyncTestClient[Any],
    application: Application,
    alice: User,
    paper: BrokerConnection,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    token = csrf_of((await alice_in.get(f"/brokers/{paper.id}/order/")).text)
    answer = await alice_in.post(
        f"/brokers/{paper.id}/order/", data={"_csrf_token": token, "side": "buy", **fields}
    )

    assert answer.status_code == 422
    after_field = answer.text.split(f'name="{field}"', 1)[1]
    assert after_field.split("<label>", 1)[0].count('class="field-error"') == 1
    assert message in after_field.split("<label>", 1)[0]
    assert (await application.orders.list(alice.id)).orders == ()


async def test_an_order_over_a_risk_limit_names_the_rule_on_the_page_and_in_the_api(
    alice_in: AsyncTestClient[Any], application: Application, alice: User, paper: BrokerConnection
) -> None:
    await application.risk.set_limits(alice.id, max_order_notional=Decimal(10))
    token = csrf_of((await alice_in.get(f"/brokers/{paper.id}/order/")).text)
    order = {"symbol": "BTC-USD", "side": "buy", "quantity": "1"}

    confirm = await alice_in.post(
        f"/brokers/{paper.id}/order/", data={"_csrf_token": token, **order}
    )
    assert "Blocked by the risk rule max_order_notional" in confirm.text
    placed = await alice_in.post(
        f"/brokers/{paper.id}/order/place/", data={"_csrf_token": token, **order}
    )
    assert placed.status_code == 422
    assert "Blocked by the risk rule max_order_notional" in placed.text

    headers = await _headers(alice_in)
    body = {"connection_id": paper.id, **order}
    previewed = await alice_in.post("/api/v1/orders/preview", headers=headers, json=body)
    assert previewed.json()["blocked"] == "max_order_notional"
    refused = await alice_in.post("/api/v1/orders", headers=headers, json=body)
    assert refused.status_code == 422
    assert refused.json()["rule"] == "max_order_notional"
    assert (await application.orders.list(alice.id)).orders == ()


async def test_an_open_order_is_cancelled_from_the_list_and_the_api(
    alice_in: AsyncTestClient[Any], application: Application, alice: User, paper: BrokerConnection
) -> None:
    headers = await _headers(alice_in)
    resting = {"connection_id": paper.id, "symbol": "BTC-USD", "side": "buy", "quantity": "0.01",
               "order_type": "limit", "limit_price": "1"}  # fmt: skip
    first = await alice_in.post("/api/v1/orders", headers=headers, json=resting)
    assert first.status_code == 201
    assert first.json()["status"] == "open"
    second = await alice_in.post("/api/v1/orders", headers=headers, json=resting)

    listed = await alice_in.get("/orders/")
    assert listed.text.count(">Cancel</button>") == 2
    token = csrf_of(listed.text)
    cancelled = await alice_in.post(
        f"/orders/{first.json()['id']}/cancel/", data={"_csrf_token": token}
    )
    assert f"order {first.json()['id']}: canceled" in cancelled.text
    by_api = await alice_in.post(f"/api/v1/orders/{second.json()['id']}/cancel", headers=headers)
    assert by_api.json()["status"] == "canceled"
    got = await alice_in.get(f"/api/v1/orders/{second.json()['id']}", headers=headers)
    assert got.json()["status"] == "canceled"


async def test_bobs_connection_and_order_are_a_404_for_alice(
    alice_in: AsyncTestClient[Any], application: Application, bob: User
) -> None:
    theirs = await application.connections.add(bob.id, broker="paper", name="bp")
    placed = await application.orders.place(
        bob.id,
        OrderForm(connection="bp", symbol="BTC-USD", side="buy", quantity=Decimal("0.01"),
                  order_type="limit", limit_price=Decimal(1)),
    )  # fmt: skip
    oid = placed.order.client_order_id
    headers = await _headers(alice_in)
    token = headers["x-csrftoken"]
    order = {"symbol": "BTC-USD", "side": "buy", "quantity": "0.01"}
    attempts = [
        ("GET", f"/brokers/{theirs.id}/order/", {}),
        ("POST", f"/brokers/{theirs.id}/order/", {"data": {"_csrf_token": token, **order}}),
        ("POST", f"/brokers/{theirs.id}/order/place/", {"data": {"_csrf_token": token, **order}}),
        ("POST", f"/orders/{oid}/cancel/", {"data": {"_csrf_token": token}}),
        ("GET", f"/api/v1/orders/{oid}", {"headers": headers}),
        ("POST", f"/api/v1/orders/{oid}/cancel", {"headers": headers}),
        ("POST", "/api/v1/orders/preview",
         {"headers": headers, "json": {"connection_id": theirs.id, **order}}),
        ("POST", "/api/v1/orders", {"headers": headers, "json": {"connection_id": theirs.id, **order}}),
    ]  # fmt: skip
    for method, path, options in attempts:
        answer = await alice_in.request(method, path, **options)
        assert answer.status_code == 404, f"{method} {path}: {answer.status_code}"
        assert "bob" not in answer.text

    [still] = (await application.orders.list(bob.id)).orders
    assert still.status is OrderStatus.OPEN
    assert oid not in (await alice_in.get("/orders/")).text
    assert (await alice_in.get("/api/v1/orders", headers=headers)).json()["items"] == []
