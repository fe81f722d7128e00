"""Positions, trades and equity through the pages and the JSON API: filters, paging, the
principal's own rows only, decimals exact as strings."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.web.support import log_in

from tradecore.domain import User
from tradecore.testing.builders import make_connection, make_position, make_trade
from tradecore_adapters.bootstrap import Application

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _seed(application: Application, user: User, connection: str, symbols: list[str]) -> None:
    owned = make_connection(user_id=user.id, name=connection)
    async with application.repository.unit_of_work() as uow:
        await uow.connections.add(owned)
        await uow.positions.sync_snapshot(
            user.id,
            owned.id,
            "spot",
            [
                make_position(
                    connection_id=owned.id,
                    symbol=symbol,
                    quantity=Decimal("0.123456789012345678"),
                    currency="USD",
                    market_value=Decimal("1000.000000000000000001"),
                    as_of=T0,
                )
                for symbol in symbols
            ],
            as_of=T0,
        )
        await uow.trades.add_new(
            user.id,
            [
                make_trade(
                    connection_id=owned.id,
                    broker_trade_id=f"{connection}-{index}",
                    symbol=symbols[index % len(symbols)],
                    price=Decimal("42000.123456789"),
                    executed_at=T0 + timedelta(minutes=index),
                )
                for index in range(7)
            ],
        )
        await uow.commit()


@pytest.fixture
async def seeded(application: Application, alice: User, bob: User) -> Application:
    await _seed(application, alice, "main", ["BTC-USD", "ETH-USD"])
    await _seed(application, bob, "bobs", ["BOBCOIN"])
    return application


async def _token(application: Application, user: User, *scopes: str) -> dict[str, str]:
    made = await application.api_tokens.create(user.id, scopes)
    return {"Authorization": f"Bearer {made.secret}"}


async def test_positions_page_shows_only_the_users_positions_and_filters(
    client: Any, seeded: Application
) -> None:
    await log_in(client, "alice")

    page = await client.get("/positions/")
    assert page.status_code == 200
    assert "BTC-USD" in page.text
    assert "ETH-USD" in page.text
    assert "BOBCOIN" not in page.text
    assert "bobs" not in page.text
    assert "0.123456789012345678" in page.text

    only_eth = await client.get("/positions/", params={"symbol": "eth-usd"})
    assert "ETH-USD" in only_eth.text
    assert "BTC-USD" not in only_eth.text


async def test_positions_of_another_users_connection_are_refused_at_the_field(
    client: Any, seeded: Application
) -> None:
    await log_in(client, "alice")

    page = await client.get("/positions/", params={"connection": "bobs"})

    assert page.status_code == 400
    assert 'class="field-error"' in page.text
    assert "BOBCOIN" not in page.text


async def test_trades_page_is_newest_first_and_filters_by_time(
    client: Any, seeded: Application
) -> None:
    await log_in(client, "alice")

    page = await client.get("/trades/")
    assert page.status_code == 200
    assert page.text.index("main-6") < page.text.index("main-0")
    assert "bobs-" not in page.text

    window = await client.get(
        "/trades/", params={"since": "2026-03-01T12:02", "until": "2026-03-01T12:04"}
    )
    assert "main-2" in window.text
    assert "main-3" in window.text
    assert "main-4" not in window.text
    assert "main-1" not in window.text

    bad = await client.get("/trades/", params={"since": "yesterday"})
    assert bad.status_code == 400
    assert "since must be a date" in bad.text


async def test_api_trades_respects_the_page_limit_and_keeps_decimals_exact(
    client: Any, seeded: Application, alice: User
) -> None:
    headers = await _token(seeded, alice, "read")

    answer = await client.get("/api/v1/trades", params={"limit": 3}, headers=headers)

    assert answer.status_code == 200
    body = answer.json()
    assert [each["broker_trade_id"] for each in body["items"]] == ["main-6", "main-5", "main-4"]
    assert body["items"][0]["price"] == "42000.123456789"
    assert body["items"][0]["executed_at"] == "2026-03-01T12:06:00+00:00"
    assert "next_cursor" in body

    for refused in (0, 501):
        too = await client.get("/api/v1/trades", params={"limit": refused}, headers=headers)
        assert too.status_code == 400
        assert too.headers["content-type"].startswith("application/problem+json")


async def test_api_positions_are_the_tokens_users_only_with_exact_decimals(
    client: Any, seeded: Application, alice: User
) -> None:
    headers = await _token(seeded, alice, "read")

    body = (await client.get("/api/v1/positions", headers=headers)).json()

    assert sorted(each["symbol"] for each in body["items"]) == ["BTC-USD", "ETH-USD"]
    assert {each["quantity"] for each in body["items"]} == {"0.123456789012345678"}
    assert {each["market_value"] for each in body["items"]} == {"1000.000000000000000001"}
    other = await client.get("/api/v1/positions", params={"connection": "bobs"}, headers=headers)
    assert other.status_code == 404
    assert "BOBCOIN" not in other.text


async def test_the_read_api_refuses_a_token_without_the_read_scope(
    client: Any, seeded: Application, alice: User
) -> None:
    headers = await _token(seeded, alice, "write")

    for path in ("/api/v1/positions", "/api/v1/trades", "/api/v1/equity"):
        assert (await client.get(path, headers=headers)).status_code == 403


async def _many_trades(application: Application, user: User, count: int) -> None:
    async with application.repository.unit_of_work() as uow:
        owned = (await uow.connections.list(user.id))[0]
        await uow.trades.add_new(
            user.id,
            [
                make_trade(
                    connection_id=owned.id,
                    broker_trade_id=f"many-{index:04d}",
                    symbol="BTC-USD",
                    executed_at=T0 + timedelta(days=1, seconds=index),
                )
                for index in range(count)
            ],
        )
        await uow.commit()


async def test_api_trades_pages_follow_the_cursor_to_the_end(
    client: Any, seeded: Application, alice: User
) -> None:
    headers = await _token(seeded, alice, "read")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        body = (await client.get("/api/v1/trades", params=params, headers=headers)).json()
        assert len(body["items"]) <= 3
        seen.extend(each["broker_trade_id"] for each in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"main-{index}" for index in range(6, -1, -1)]
    damaged = await client.get("/api/v1/trades", params={"cursor": "x" + "A" * 40}, headers=headers)
    assert damaged.status_code == 400


async def test_trades_page_shows_fifty_and_a_next_page_link_keeping_the_filters(
    client: Any, seeded: Application, alice: User
) -> None:
    await _many_trades(seeded, alice, 60)
    await log_in(client, "alice")

    first = await client.get("/trades/", params={"symbol": "BTC-USD"})
    assert first.text.count("many-") == 50
    found = re.search(r'<a class="button" rel="next" href="([^"]+)"', first.text)
    assert found is not None
    link = html.unescape(found.group(1))
    assert "symbol=BTC-USD" in link

    second = await client.get(link)
    assert second.text.count("many-") == 10
    assert "many-0009" in second.text
    assert "many-0059" not in second.text
