"""The fake Binance's ``GET /api/v3/allOrders`` (Binance's "All orders": symbol required, a
window of at most 24 hours, ascending by order id), which the order search reads."""

from __future__ import annotations

from tests.unit.fakes.test_binance_exchange import (
    assert_error,
    client,
    fake,
    get,
    post_order,
)

__all__ = ["client", "fake"]  # the fixtures, shared


def market_buy(client_id: str) -> list[tuple[str, str]]:
    return [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quantity", "0.01"),
        ("newClientOrderId", client_id),
    ]


async def test_all_orders_lists_every_order_of_the_symbol_in_the_window(fake, client) -> None:
    for client_id in ("first", "second"):
        assert (await post_order(client, fake, market_buy(client_id))).status_code == 200
    now = fake.server_time_ms()
    window = [("startTime", str(now - 60_000)), ("endTime", str(now + 60_000))]

    listed = await get(client, fake, "/api/v3/allOrders", [("symbol", "BTCUSDT"), *window])
    later = await get(
        client,
        fake,
        "/api/v3/allOrders",
        [("symbol", "BTCUSDT"), ("startTime", str(now + 1_000)), ("endTime", str(now + 2_000))],
    )
    other = await get(client, fake, "/api/v3/allOrders", [("symbol", "LTCBTC"), *window])
    too_long = await get(
        client,
        fake,
        "/api/v3/allOrders",
        [("symbol", "BTCUSDT"), ("startTime", "0"), ("endTime", str(86_400_001))],
    )
    no_symbol = await get(client, fake, "/api/v3/allOrders", window)

    assert listed.status_code == 200, listed.text
    rows = listed.json()
    assert [row["clientOrderId"] for row in rows] == ["first", "second"]
    assert rows[0]["orderId"] < rows[1]["orderId"]
    assert {row["status"] for row in rows} == {"FILLED"}
    assert later.json() == []
    assert other.json() == []
    assert_error(too_long, 400, -1127)
    assert_error(no_symbol, 400, -1102)
