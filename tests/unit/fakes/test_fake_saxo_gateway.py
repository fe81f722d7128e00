"""The fake Saxo's OpenAPI gateway, checked against Saxo's public documentation
(https://www.developer.saxo/openapi/referencedocs,
https://www.developer.saxo/openapi/learn/openapi-request-response,
https://www.developer.saxo/openapi/learn/rate-limiting): Bearer auth, X-Correlation, URL-encoded
keys, paging links, exact decimals, rate limits, reference data, scripted faults."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

import httpx
import pytest
from tests.fakes.saxo_exchange import API_BASE, AUTH_BASE, FakeSaxo

ACCOUNT_KEY = "LZTc+7Dd/ejXODf-WSl2aCyQ=="  # '+', '/' and '=' must be percent-encoded
CLIENT_KEY = "7m4I|vt+YL/UnEGg77o9uQhw=="


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
    saxo = FakeSaxo(now=clock, page_size=2)
    saxo.client_key = CLIENT_KEY
    account = saxo.add_account(ACCOUNT_KEY, "192134INET")
    saxo.add_account("Other-Account==", "192135INET", "USD")
    saxo.add_instrument(
        21,
        "FxSpot",
        "GBPUSD",
        "British Pound/US Dollar",
        bid=Decimal("1.29169"),
        ask=Decimal("1.29179"),
        tick_size=Decimal("0.00001"),
        lot_size=Decimal(1000),
        min_amount=Decimal(1000),
    )
    for uic, symbol in ((211, "AAPL:xnas"), (212, "MSFT:xnas"), (213, "NVDA:xnas")):
        saxo.add_instrument(uic, "Stock", symbol, f"{symbol} Inc.")
        account.add_net_position(uic, "Stock", Decimal(uic), Decimal("99.5"))
    account.add_net_position(21, "FxSpot", Decimal(100000), Decimal("1.32167"))
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


async def collect(http: httpx.AsyncClient, path: str, params: dict[str, str]) -> list[dict]:
    """Follow ``__next`` (resolved against the host) until absent."""
    rows: list[dict] = []
    answer = await http.get(path, params=params)
    while True:
        assert answer.status_code == 200, answer.text
        page = answer.json()
        rows.extend(page["Data"])
        if "__next" not in page:
            return rows
        answer = await http.get(httpx.URL(AUTH_BASE).join(page["__next"]))


async def test_unauthenticated_calls_get_401_with_an_empty_body(fake, http) -> None:
    missing = await http.get("/port/v1/users/me", headers={"Authorization": ""})
    unknown = await http.get("/port/v1/users/me", headers={"Authorization": "Bearer nope"})

    for answer in (missing, unknown):
        assert (answer.status_code, answer.content) == (401, b"")
        assert answer.headers["x-correlation"]


async def test_every_gateway_answer_has_a_unique_correlation_id(fake, http) -> None:
    answers = [
        await http.get("/port/v1/users/me"),
        await http.get("/port/v1/clients/me"),
        await http.get("/port/v1/nothing/here"),
    ]

    ids = [a.headers["x-correlation"] for a in answers]
    assert len(set(ids)) == 3
    assert fake.correlation_ids == ids
    assert answers[1].json()["PositionNettingMode"] == "EndOfDay"
    assert answers[1].json()["DefaultAccountKey"] == ACCOUNT_KEY


async def test_unknown_urls_are_html_404s(http) -> None:
    wrong_path = await http.get("/port/v9/netpositions")
    off_gateway = await http.get(f"{AUTH_BASE}/openapi/port/v1/users/me")

    for answer in (wrong_path, off_gateway):
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        with pytest.raises(json.JSONDecodeError):
            answer.json()


async def test_keys_are_decoded_from_query_and_path(fake, http) -> None:
    encoded = await http.get(
        "/port/v1/netpositions", params={"ClientKey": CLIENT_KEY, "AccountKey": ACCOUNT_KEY}
    )
    raw_plus = await http.get(
        f"/port/v1/netpositions?ClientKey={quote(CLIENT_KEY, safe='')}&AccountKey={ACCOUNT_KEY}"
    )
    path_key = await http.get(
        f"/port/v1/orders/{quote(CLIENT_KEY, safe='')}/123", params={"AccountKey": ACCOUNT_KEY}
    )

    assert encoded.status_code == 200
    assert encoded.json()["__count"] == 4
    assert raw_plus.status_code == 400  # '+' unencoded reads as a space: unknown account
    assert raw_plus.json()["ErrorCode"] == "IllegalAccount"
    assert path_key.json() == {"Data": []}
    assert fake.requests[0].param("AccountKey") == ACCOUNT_KEY


async def test_net_positions_page_with_relative_then_absolute_next_links(fake, http) -> None:
    params = {"ClientKey": CLIENT_KEY, "FieldGroups": "NetPositionBase,NetPositionView"}
    first = (await http.get("/port/v1/netpositions", params=params)).json()
    relative = await collect(http, "/port/v1/netpositions", params)
    fake.absolute_next = True
    absolute_page = (await http.get("/port/v1/netpositions", params=params)).json()
    absolute = await collect(http, "/port/v1/netpositions", params)
    skipped = (
        await http.get("/port/v1/netpositions/me", params={"$top": "3", "$skip": "3"})
    ).json()

    assert first["__count"] == 4
    assert first["__next"].startswith("/sim/openapi/port/v1/netpositions?ClientKey=7m4I%7C")
    assert "$top=2&$skip=2" in first["__next"]
    assert absolute_page["__next"].startswith("https://saxo.test/sim/openapi/port/v1/")
    uics = [row["NetPositionBase"]["Uic"] for row in relative]
    assert uics == [211, 212, 213, 21]
    assert [row["NetPositionId"] for row in absolute] == [r["NetPositionId"] for r in relative]
    assert [row["NetPositionBase"]["Uic"] for row in skipped["Data"]] == [21]
    assert "__next" not in skipped


async def test_decimals_are_written_exactly_and_display_only_when_asked(http) -> None:
    plain = await http.get("/port/v1/netpositions/me", params={"$top": "10"})
    shown = await http.get(
        "/port/v1/netpositions/me",
        params={"$top": "10", "FieldGroups": "NetPositionBase,NetPositionView,DisplayAndFormat"},
    )

    text = plain.text
    assert '"Amount":100000,' in text
    assert '"AverageOpenPrice":1.32167,' in text
    assert '"CurrentPrice":1.29169,' in text
    fx = plain.json(parse_float=Decimal)["Data"][3]
    assert fx["NetPositionView"]["ProfitLossOnTrade"] == Decimal("-2998")
    assert "DisplayAndFormat" not in fx
    assert shown.json()["Data"][3]["DisplayAndFormat"]["Symbol"] == "GBPUSD"
    assert shown.json()["Data"][3]["DisplayAndFormat"]["Decimals"] == 5


async def test_port_queries_require_a_known_client_key(http) -> None:
    missing = await http.get("/port/v1/positions")
    unknown = await http.get("/port/v1/positions", params={"ClientKey": "someone-else=="})

    assert (missing.status_code, missing.json()["ErrorCode"]) == (400, "InvalidModelState")
    assert (unknown.status_code, unknown.json()["ErrorCode"]) == (400, "InvalidRequest")


async def test_positions_and_closed_positions_shapes(fake, http) -> None:
    account = fake.accounts[ACCOUNT_KEY]
    account.add_position(
        21, "FxSpot", Decimal(100000), Decimal("1.32167"), position_id="1019942425"
    )
    account.add_closed_position(
        21,
        "FxSpot",
        Decimal(-100000),
        Decimal("1.0594"),
        Decimal("1.09139"),
        opening_position_id="139597294",
        closing_position_id="139694249",
    )

    lots = (await http.get("/port/v1/positions/me")).json()["Data"]
    closed = (await http.get("/port/v1/closedpositions/me")).json()["Data"]

    assert lots[0]["PositionId"] == "1019942425"
    assert lots[0]["PositionBase"]["OpenPrice"] == 1.32167
    assert closed[0]["ClosedPositionUniqueId"] == "139597294-139694249"
    assert closed[0]["ClosedPosition"]["BuyOrSell"] == "Sell"
    assert closed[0]["ClosedPosition"]["ClosedProfitLoss"] == -3199


async def test_session_limit_per_service_group_then_429(clock, fake, http) -> None:
    fake.session_limit = 3

    port = [await http.get("/port/v1/users/me") for _ in range(4)]
    ref = await http.get("/ref/v1/instruments")
    other_session = await http.get(
        "/port/v1/users/me",
        headers={"Authorization": f"Bearer {fake.issue_tokens()['access_token']}"},
    )
    clock.advance(45)
    still = await http.get("/port/v1/users/me")
    clock.advance(15)
    reset = await http.get("/port/v1/users/me")

    remaining = [a.headers["x-ratelimit-session-remaining"] for a in port]
    assert [a.status_code for a in port] == [200, 200, 200, 429]
    assert remaining == ["2", "1", "0", "0"]
    assert port[3].headers["x-ratelimit-session-reset"] == "60"
    assert port[3].headers["x-ratelimit-session-limit"] == "3"
    assert (ref.status_code, other_session.status_code) == (200, 200)
    assert (still.status_code, still.headers["x-ratelimit-session-reset"]) == (429, "15")
    assert (reset.status_code, reset.headers["x-ratelimit-session-remaining"]) == (200, "2")


async def test_instrument_search_details_and_prices(http) -> None:
    found = (await http.get("/ref/v1/instruments", params={"Keywords": "aapl"})).json()
    by_type = (await http.get("/ref/v1/instruments", params={"AssetTypes": "FxSpot"})).json()
    details = (await http.get("/ref/v1/instruments/details/21/FxSpot")).json()
    unknown = await http.get("/ref/v1/instruments/details/999/Stock")
    price = await http.get(
        "/trade/v1/infoprices",
        params={"Uic": "21", "AssetType": "FxSpot", "FieldGroups": "Quote,DisplayAndFormat"},
    )
    bad_price = await http.get("/trade/v1/infoprices", params={"Uic": "999", "AssetType": "Stock"})

    assert [i["Identifier"] for i in found["Data"]] == [211]
    assert found["Data"][0]["SummaryType"] == "Instrument"
    assert [i["Symbol"] for i in by_type["Data"]] == ["GBPUSD"]
    assert (details["TickSize"], details["LotSize"], details["MinimumTradeSize"]) == (
        0.00001,
        1000,
        1000,
    )
    assert (unknown.status_code, unknown.json()["ErrorCode"]) == (404, "IllegalInstrumentId")
    assert '"Mid":1.29174,' in price.text
    quote_ = price.json()["Quote"]
    assert (quote_["PriceTypeAsk"], quote_["DelayedByMinutes"], quote_["ErrorCode"]) == (
        "Tradable",
        0,
        "None",
    )
    assert price.json()["LastUpdated"] == "2024-03-04T09:30:00Z"
    assert (bad_price.status_code, bad_price.json()["ErrorCode"]) == (400, "InvalidUic")


async def test_report_trades_filter_dates_and_page_by_skiptoken(fake, http) -> None:
    account = fake.accounts[ACCOUNT_KEY]
    start = datetime(2024, 2, 1, 8, tzinfo=UTC)
    seeded = account.add_report_trades(211, "Stock", 9, start, spacing=timedelta(hours=12))
    path = f"/cs/v1/reports/trades/{quote(CLIENT_KEY, safe='')}"
    params = {"FromDate": "2024-02-02", "ToDate": "2024-02-04", "AccountKey": ACCOUNT_KEY}

    first = (await http.get(path, params=params)).json()
    rows = await collect(http, path, params)
    missing = await http.get(path, params={"FromDate": "2024-02-02"})
    no_client = await http.get("/cs/v1/reports/trades", params=params)

    assert "$skiptoken=" in first["__next"]
    assert [r["TradeDate"] for r in rows] == ["2024-02-02"] * 2 + ["2024-02-03"] * 2 + [
        "2024-02-04"
    ] * 2
    assert [r["TradeId"] for r in rows] == [t.trade_id for t in seeded[2:8]]
    assert {r["InstrumentSymbol"] for r in rows} == {"AAPL:xnas"}
    assert [r["TradeEventType"] for r in rows[:2]] == ["Bought", "Sold"]
    assert rows[0]["TradeExecutionTime"] == "2024-02-02T08:00:00Z"
    assert rows[1]["Amount"] < 0
    assert rows[1]["TradedValue"] == -rows[1]["Amount"] * rows[1]["Price"]
    assert (missing.status_code, missing.json()["ErrorCode"]) == (400, "BadRequestError")
    assert (no_client.status_code, no_client.json()["ErrorCode"]) == (400, "BadRequestError")


async def test_scripted_answers_are_fifo_and_do_nothing(fake, http) -> None:
    fake.script("GET", "/port/v1/users", ("status", 503, None))
    fake.script("GET", "/sim/openapi/port/v1/users/me", ("status", 500, b"<html>oops</html>"))
    fake.script("GET", "/port", ("rate_limited", 7))

    answers = [await http.get("/port/v1/users/me") for _ in range(4)]

    assert [a.status_code for a in answers] == [503, 500, 429, 200]
    assert answers[0].content == b""
    assert answers[1].headers["content-type"].startswith("text/html")
    assert answers[2].headers["x-ratelimit-session-remaining"] == "0"
    assert answers[2].headers["x-ratelimit-session-reset"] == "7"
    assert fake.unused_scripts() == []
    assert fake.count("GET", "/port/v1/users/me") == 4
    assert fake.count("GET", "/sim/openapi/port") == 4
    assert fake.count("GET", "/ref") == 0


async def test_scripted_timeout_before_execute_raises_connect_error(fake, http) -> None:
    fake.script("GET", "/port/v1/users/me", "timeout_before_execute")

    with pytest.raises(httpx.ConnectError):
        await http.get("/port/v1/users/me")
    assert (await http.get("/port/v1/users/me")).status_code == 200
