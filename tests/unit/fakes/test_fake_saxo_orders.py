"""The fake Saxo's orders, checked against
https://www.developer.saxo/openapi/learn/order-placement, Saxo's OpenAPI reference and
https://www.developer.saxo/openapi/learn/rate-limiting: placement rules, fills into positions,
order activities, the T+1 trade report, cancels, the 15 s duplicate guard, the one-order-per-second
limit and scripted faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.fakes.saxo_exchange import API_BASE, DEFAULT_CLIENT_KEY, FakeSaxo

ACCOUNT_KEY = "LZTc7DdejXODf-WSl2aCyQ=="
TODAY = "2024-03-04"


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeSaxo:
    saxo = FakeSaxo(now=clock)
    saxo.add_account(ACCOUNT_KEY, "192134INET", cash=Decimal(100_000))
    saxo.add_instrument(
        211, "Stock", "AAPL:xnas", "Apple Inc.", bid=Decimal("189.98"), ask=Decimal("190.02")
    )
    saxo.add_instrument(
        21,
        "FxSpot",
        "EURUSD",
        bid=Decimal("1.08512"),
        ask=Decimal("1.08527"),
        tick_size=Decimal("0.00001"),
        lot_size=Decimal(1000),
        min_amount=Decimal(1000),
    )
    return saxo


@pytest.fixture
async def http(fake: FakeSaxo) -> AsyncIterator[httpx.AsyncClient]:
    token = fake.issue_tokens()["access_token"]
    async with httpx.AsyncClient(
        transport=fake.mock_transport(),
        base_url=API_BASE,
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client


def order(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "AccountKey": ACCOUNT_KEY,
        "Uic": 211,
        "AssetType": "Stock",
        "BuySell": "Buy",
        "Amount": 10,
        "OrderType": "Market",
        "OrderDuration": {"DurationType": "DayOrder"},
        "ManualOrder": False,
        "ExternalReference": "sync-0001",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


async def place(http: httpx.AsyncClient, request_id: str | None = None, **changes: Any):
    headers = {"X-Request-ID": request_id} if request_id else {}
    return await http.post("/trade/v2/orders", json=order(**changes), headers=headers)


async def activities(http: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    answer = await http.get(
        "/cs/v1/audit/orderactivities",
        params={
            "ClientKey": DEFAULT_CLIENT_KEY,
            "FieldGroups": "DisplayAndFormat",
            **params,
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["Data"]


async def report(http: httpx.AsyncClient, fake: FakeSaxo) -> list[dict[str, Any]]:
    answer = await http.get(
        f"/cs/v1/reports/trades/{quote(fake.client_key, safe='')}",
        params={"FromDate": TODAY, "ToDate": TODAY, "AccountKey": ACCOUNT_KEY},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["Data"]


async def test_market_buy_fills_at_the_ask_and_reaches_the_report_next_day(fake, http) -> None:
    placed = await place(http, "req-1")
    order_id = placed.json()["OrderId"]
    events = await activities(http, OrderId=order_id)
    net = (await http.get("/port/v1/netpositions/me")).json()["Data"]
    before = await report(http, fake)
    fake.end_of_day()
    after = await report(http, fake)

    assert placed.status_code == 200
    assert placed.json() == {"OrderId": order_id, "ExternalReference": "sync-0001"}
    assert order_id.isdigit()
    assert placed.headers["x-request-id"] == "req-1"
    assert [e["Status"] for e in events] == ["Placed", "FinalFill"]
    assert events[1]["FillAmount"] == 10
    assert events[1]["AveragePrice"] == 190.02
    assert events[1]["DisplayAndFormat"]["Symbol"] == "AAPL:xnas"
    assert net[0]["NetPositionBase"]["Amount"] == 10
    assert net[0]["NetPositionView"]["AverageOpenPrice"] == 190.02
    assert fake.accounts[ACCOUNT_KEY].cash == Decimal("98099.8")
    assert before == []
    assert len(after) == 1
    assert (after[0]["OrderId"], after[0]["Amount"], after[0]["Price"]) == (order_id, 10, 190.02)
    assert after[0]["TradeEventType"] == "Bought"
    assert after[0]["ExternalReference"] == "sync-0001"
    assert after[0]["TradeExecutionTime"] == "2024-03-04T09:30:00Z"
    assert fake.orders[0].status == "Filled"


async def test_resting_limit_is_listed_then_cancelled(clock, fake, http) -> None:
    placed = await place(http, OrderType="Limit", OrderPrice=185.5, Amount=5)
    order_id = placed.json()["OrderId"]
    listed = (
        await http.get(
            "/port/v1/orders",
            params={
                "ClientKey": fake.client_key,
                "AccountKey": ACCOUNT_KEY,
                "Status": "All",
                "FieldGroups": "DisplayAndFormat",
            },
        )
    ).json()["Data"]
    single = await http.get(f"/port/v1/orders/{quote(fake.client_key, safe='')}/{order_id}")
    no_key = await http.delete(f"/trade/v2/orders/{order_id}")
    cancelled = await http.delete(
        f"/trade/v2/orders/{order_id},999", params={"AccountKey": ACCOUNT_KEY}
    )
    after = (await http.get("/port/v1/orders/me")).json()["Data"]
    last = await activities(http, EntryType="Last")

    assert [o["OrderId"] for o in listed] == [order_id]
    row = listed[0]
    assert (row["OpenOrderType"], row["Price"], row["FilledAmount"]) == ("Limit", 185.5, 0)
    assert (row["Duration"], row["ExternalReference"]) == (
        {"DurationType": "DayOrder"},
        "sync-0001",
    )
    assert row["DisplayAndFormat"]["Symbol"] == "AAPL:xnas"
    assert single.json()["Data"][0]["OrderId"] == order_id
    assert no_key.status_code == 400
    assert cancelled.json() == {
        "Orders": [
            {"OrderId": order_id},
            {
                "OrderId": "999",
                "ErrorInfo": {"ErrorCode": "OrderNotFound", "Message": "Order not found."},
            },
        ]
    }
    assert after == []
    assert [(e["OrderId"], e["Status"]) for e in last] == [(order_id, "Cancelled")]


async def test_limits_that_cross_fill_and_quotes_fill_resting_orders(clock, fake, http) -> None:
    crossing = await place(http, OrderType="Limit", OrderPrice=190.05)
    clock.advance(1)
    resting = await place(
        http, OrderType="Limit", OrderPrice=189.5, ExternalReference="rest-1", Amount=3
    )
    fake.set_quote(211, "Stock", Decimal("189.40"), Decimal("189.45"))
    clock.advance(1)
    day = await place(http, OrderType="Limit", OrderPrice=150, ExternalReference="day-1")
    fake.end_of_day()
    last = {e["ExternalReference"]: e for e in await activities(http, EntryType="Last")}

    assert crossing.status_code == resting.status_code == day.status_code == 200
    assert last["sync-0001"]["Status"] == "FinalFill"
    assert last["sync-0001"]["AveragePrice"] == 190.02
    assert (last["rest-1"]["Status"], last["rest-1"]["AveragePrice"]) == ("FinalFill", 189.45)
    assert last["day-1"]["Status"] == "Expired"
    assert len(await report(http, fake)) == 2


async def test_partial_fills_log_fill_then_final_fill(fake, http) -> None:
    order_id = (await place(http, OrderType="Limit", OrderPrice=180, Amount=10)).json()["OrderId"]
    fake.fill_order(order_id, Decimal(4))
    fake.fill_order(order_id, price=Decimal("179.99"))
    events = await activities(http, OrderId=order_id, Status="Fill,FinalFill")

    assert [(e["Status"], e["FillAmount"], e["FilledAmount"]) for e in events] == [
        ("Fill", 4, 4),
        ("FinalFill", 6, 10),
    ]
    assert events[1]["AveragePrice"] == 179.994


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"Uic": 999}, "IllegalInstrumentId"),
        ({"Amount": 1000000}, "InsufficientCash"),
        ({"OrderType": "Limit", "OrderPrice": 185.555}, "PriceNotInTickSizeIncrements"),
        ({"Uic": 21, "AssetType": "FxSpot", "Amount": 1500}, "AmountNotInLotSize"),
        ({"Uic": 21, "AssetType": "FxSpot", "Amount": 500}, "AmountBelowMinimumLotSize"),
        ({"AccountKey": "unknown=="}, "IllegalAccount"),
        ({"ExternalReference": "x" * 51}, "InvalidModelState"),
        ({"BuySell": "Hold"}, "InvalidModelState"),
        ({"OrderDuration": None}, "InvalidModelState"),
        ({"OrderType": "Limit"}, "InvalidModelState"),
    ],
)
async def test_rejections_are_400_with_an_error_code(fake, http, changes, code) -> None:
    answer = await place(http, **changes)

    assert answer.status_code == 400
    assert answer.json()["ErrorCode"] == code
    assert fake.orders == []


async def test_missing_manual_order_is_wrapped_in_error_info(fake, http) -> None:
    answer = await place(http, ManualOrder=None)

    assert answer.status_code == 400
    assert answer.json()["ErrorInfo"]["ErrorCode"] == "InvalidModelState"
    assert fake.orders == []


async def test_identical_requests_within_15_seconds_are_409(clock, fake, http) -> None:
    first = await place(http, "intent-1")
    clock.advance(5)
    duplicate = await place(http, "intent-1")
    clock.advance(1)  # the 409 used this second's order slot (one order per second)
    other_id = await place(http, "intent-2")
    clock.advance(15)
    later = await place(http, "intent-1")

    assert first.status_code == 200
    assert (duplicate.status_code, duplicate.json()["ErrorCode"]) == (409, "DuplicateOperation")
    assert other_id.status_code == 200
    assert later.status_code == 200
    assert len(fake.orders) == 3


async def test_one_order_per_second_per_session(clock, fake, http) -> None:
    first = await place(http, "a")
    second = await place(http, "b")
    clock.advance(1)
    third = await place(http, "c")

    assert (first.status_code, second.status_code, third.status_code) == (200, 429, 200)
    assert second.headers["x-ratelimit-sessionorders-limit"] == "1"
    assert second.headers["x-ratelimit-sessionorders-remaining"] == "0"
    assert second.headers["x-ratelimit-sessionorders-reset"] == "1"
    assert second.content == b""
    assert len(fake.orders) == 2


async def test_timeout_after_execute_places_the_order_but_loses_the_answer(fake, http) -> None:
    fake.script("POST", "/trade/v2/orders", "timeout_after_execute")

    with pytest.raises(httpx.ReadTimeout):
        await place(http, "lost-1", ExternalReference="lost-1")
    found = await activities(http, EntryType="Last")

    assert [(e["ExternalReference"], e["Status"]) for e in found] == [("lost-1", "FinalFill")]
    assert fake.orders[0].request_id == "lost-1"
    assert fake.count("POST", "/trade/v2/orders") == 1


async def test_timeout_before_execute_places_nothing(fake, http) -> None:
    fake.script("POST", "/trade/v2/orders", "timeout_before_execute")

    with pytest.raises(httpx.ConnectError):
        await place(http, "never-1")
    retry = await place(http, "never-1")

    assert retry.status_code == 200
    assert len(fake.orders) == 1


async def test_trade_not_completed_and_no_order_id_still_place(clock, fake, http) -> None:
    fake.script("POST", "/trade/v2/orders", "trade_not_completed")
    fake.script("POST", "/trade/v2/orders", "no_order_id")

    pending = await place(http, "p-1")
    clock.advance(1)
    blank = await place(http, "p-2")

    assert pending.status_code == 200
    assert pending.json() == {
        "OrderId": fake.orders[0].order_id,
        "ErrorInfo": {"ErrorCode": "TradeNotCompleted", "Message": "Trade not completed"},
    }
    assert (blank.status_code, blank.json()) == (200, {})
    assert len(fake.orders) == 2


async def test_order_activities_page_by_skiptoken(clock, fake, http) -> None:
    fake.page_size = 3
    for n in range(3):
        await place(http, f"r-{n}", ExternalReference=f"ref-{n}")
        clock.advance(1)
    first = (await http.get("/cs/v1/audit/orderactivities", params={"EntryType": "All"})).json()
    rest = (await http.get(f"https://saxo.test{first['__next']}")).json()

    assert first["__count"] == 6
    assert "$skiptoken=" in first["__next"]
    log_ids = [int(e["LogId"]) for e in first["Data"] + rest["Data"]]
    assert log_ids == sorted(set(log_ids))
    assert len(log_ids) == 6
    assert "__next" not in rest
