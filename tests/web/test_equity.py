"""The equity chart and API over recorded equity points: one line per connection and
currency, exact values, the user's own connections only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.web.support import log_in

from tradecore.domain import EquityPoint, User
from tradecore.testing.builders import make_connection
from tradecore_adapters.bootstrap import Application

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _record(
    application: Application, user: User, connection: str, currency: str, values: list[str]
) -> None:
    owned = make_connection(user_id=user.id, name=connection)
    async with application.repository.unit_of_work() as uow:
        if all(each.name != connection for each in await uow.connections.list(user.id)):
            await uow.connections.add(owned)
        await uow.equity.add(
            user.id,
            [
                EquityPoint(
                    user_id=user.id,
                    connection_id=owned.id,
                    at=T0 + timedelta(hours=index),
                    currency=currency,
                    value=Decimal(value),
                    priced=1,
                )
                for index, value in enumerate(values)
            ],
        )
        await uow.commit()


@pytest.fixture
async def recorded(application: Application, alice: User, bob: User) -> Application:
    await _record(application, alice, "main", "USD", ["1000.5", "1100.000000000001", "990"])
    await _record(application, alice, "main", "EUR", ["10", "12"])
    await _record(application, alice, "saxo", "USD", ["500", "450.25"])
    await _record(application, bob, "bobs", "USD", ["99999"])
    return application


async def test_api_equity_gives_each_series_with_exact_values(
    client: Any, recorded: Application, alice: User
) -> None:
    made = await recorded.api_tokens.create(alice.id, ["read"])
    headers = {"Authorization": f"Bearer {made.secret}"}

    body = (await client.get("/api/v1/equity", headers=headers)).json()

    assert [(each["connection"], each["currency"]) for each in body["series"]] == [
        ("main", "EUR"),
        ("main", "USD"),
        ("saxo", "USD"),
    ]
    usd = body["series"][1]
    assert [point["value"] for point in usd["points"]] == ["1000.5", "1100.000000000001", "990"]
    assert usd["points"][0]["at"] == "2026-03-01T12:00:00+00:00"
    assert "99999" not in str(body)
    since = await client.get(
        "/api/v1/equity", params={"since": "2026-03-01T13:00", "connection": "main"},
        headers=headers,
    )  # fmt: skip
    assert [len(each["points"]) for each in since.json()["series"]] == [1, 2]
    other = await client.get("/api/v1/equity", params={"connection": "bobs"}, headers=headers)
    assert other.status_code == 404


async def test_equity_page_draws_a_chart_per_currency_a_line_per_connection(
    client: Any, recorded: Application
) -> None:
    await log_in(client, "alice")

    page = await client.get("/equity/")

    assert page.status_code == 200
    assert page.text.count("<svg") == 2  # EUR and USD
    assert page.text.count("<polyline") == 3
    assert 'data-series="saxo · USD"' in page.text
    assert "1100.000000000001" in page.text  # the highest USD value, exact
    assert "450.25" in page.text  # the lowest
    assert "99999" not in page.text
    bad = await client.get("/equity/", params={"since": "soon"})
    assert bad.status_code == 400
    assert 'class="field-error"' in bad.text
