"""The fake Binance itself, checked against Binance's documented rules and test vectors, so that
a broken fake cannot make the adapter's tests lie. Requests are signed by hand here, with ``hmac``.

The HMAC vectors are those of Binance's "Request security",
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from tests.fakes.binance_exchange import FakeBinance

API = "https://api.binance.com"
# The official HMAC test vector (Request security).
KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
VECTOR_TIMESTAMP = 1499827319559
# The throwaway Ed25519 key python-binance publishes (its tests/test_cryptography.py).
ED_PRIVATE_PEM = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIPQmzwVKJETqVd7L9E/DFbkvrOigy1tLL+9QF0mSn6dV
-----END PRIVATE KEY-----
"""
ED_PUBLIC = "MCowBQYDK2VwAyEAXD1NDYTGn4fIYgPcsQKTNhdEj3D2FnO5OAvyjiQgXYE="
REPO = Path(__file__).resolve().parents[3]


def hmac_hex(payload: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def encode(params: list[tuple[str, str]]) -> str:
    return urlencode(params, quote_via=quote, safe="")


def server_ms(fake: FakeBinance) -> int:
    return fake.server_time_ms()


def signed(fake: FakeBinance, params: list[tuple[str, str]], *, secret: str = SECRET) -> str:
    """``params`` plus recvWindow and timestamp, percent-encoded, with the signature last."""
    query = encode([*params, ("recvWindow", "5000"), ("timestamp", str(server_ms(fake)))])
    return f"{query}&signature={hmac_hex(query, secret)}"


MID_MINUTE_MS = 1_700_000_070_000
"""A fixed time 30 s past a minute boundary (1_700_000_040_000 is one)."""


@pytest.fixture
def fake() -> FakeBinance:
    # Frozen in mid-minute, so the weights a test counts never start again at a minute boundary.
    return _stocked(FakeBinance(clock_ms=lambda: MID_MINUTE_MS))


def _stocked(exchange: FakeBinance) -> FakeBinance:
    exchange.add_symbol("BTCUSDT", "BTC", "USDT", price="30000.00")
    exchange.add_symbol("LTCBTC", "LTC", "BTC", price="0.20", tick_size="0.00001000")
    exchange.add_account(KEY, secret=SECRET, balances={"USDT": ("100000", "0"), "BTC": ("2", "0")})
    return exchange


@pytest.fixture
async def client(fake: FakeBinance) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=fake.mock_transport(), base_url=API) as http:
        yield http


async def get(client: httpx.AsyncClient, fake: FakeBinance, path: str, params) -> httpx.Response:
    return await client.get(f"{path}?{signed(fake, params)}", headers={"X-MBX-APIKEY": KEY})


def assert_error(response: httpx.Response, status: int, code: int, msg: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    if msg is not None:
        assert response.json()["msg"] == msg


# -- signing -----------------------------------------------------------------------------------


async def test_official_hmac_vector_is_accepted(fake, client) -> None:
    payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    signature = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert hmac_hex(payload) == signature
    fake.clock_offset_ms = VECTOR_TIMESTAMP + 100 - MID_MINUTE_MS

    response = await client.post(
        f"/api/v3/order?{payload}&signature={signature.upper()}",  # HMAC: case-insensitive
        headers={"X-MBX-APIKEY": KEY},
    )

    assert response.status_code == 200, response.text
    order = response.json()
    assert (order["symbol"], order["status"], order["type"]) == ("LTCBTC", "NEW", "LIMIT")
    assert (order["price"], order["origQty"], order["fills"]) == ("0.10000000", "1.00000000", [])
    assert fake.accounts[KEY].balance("BTC").locked == Decimal("0.1")


async def test_mixed_query_and_body_vector_signs_their_concatenation(fake, client) -> None:
    # The official vector formerly in Request security: query + body with no '&' between them.
    fake.clock_offset_ms = VECTOR_TIMESTAMP + 100 - MID_MINUTE_MS
    body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    signature = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"

    response = await client.post(
        "/api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
        content=f"{body}&signature={signature}".encode(),
        headers={"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200, response.text
    assert fake.requests[-1].param("quantity") == "1"


async def test_ed25519_vector_is_accepted(client) -> None:
    fake = FakeBinance(clock_ms=lambda: MID_MINUTE_MS)
    fake.add_symbol("BTCUSDT", "BTC", "USDT", price="60000.00")
    fake.add_account("ed-key", ed25519_public_key=ED_PUBLIC, balances={"USDT": ("100000", "0")})
    fake.clock_offset_ms = 1631234567890 + 100 - MID_MINUTE_MS
    payload = "price=50000&quantity=1&side=BUY&symbol=BTCUSDT&timestamp=1631234567890&type=LIMIT"
    expected = (
        "a4Pm3p02D2HXtNfo3DBaVCe9Ov7kledewgYtGjekotFmZ5wXa3mC5AtLB7CpAphyNjeyovIuDP+9fyjYmsojCw=="
    )
    private_key = load_pem_private_key(ED_PRIVATE_PEM, password=None)
    assert base64.b64encode(private_key.sign(payload.encode())).decode() == expected  # type: ignore[call-arg,union-attr]

    async with httpx.AsyncClient(transport=fake.mock_transport(), base_url=API) as http:
        encoded = await http.post(
            f"/api/v3/order?{payload}&signature={quote(expected, safe='')}",
            headers={"X-MBX-APIKEY": "ed-key"},
        )
        raw_plus = await http.post(
            f"/api/v3/order?{payload}&signature={expected}", headers={"X-MBX-APIKEY": "ed-key"}
        )

    # The signature passed; the vector's LIMIT order itself lacks timeInForce.
    assert_error(encoded, 400, -1102)
    assert "timeInForce" in encoded.json()["msg"]
    # A base64 '+' not percent-encoded arrives as a space: invalid.
    assert_error(raw_plus, 400, -1022, "Signature for this request is not valid.")


async def test_bad_signatures_are_rejected_with_1022(fake, client) -> None:
    headers = {"X-MBX-APIKEY": KEY}
    good = signed(fake, [("omitZeroBalances", "true")])
    query, _, signature = good.rpartition("&signature=")
    wrong = await client.get(f"/api/v3/account?{query}&signature={'0' * 64}", headers=headers)
    not_last = await client.get(f"/api/v3/account?signature={signature}&{query}", headers=headers)
    other_secret = await client.get(
        f"/api/v3/account?{signed(fake, [], secret='nope')}", headers=headers
    )
    missing = await client.get(f"/api/v3/account?{query}", headers=headers)
    ok = await client.get(f"/api/v3/account?{good}", headers=headers)

    for response in (wrong, not_last, other_secret):
        assert_error(response, 400, -1022, "Signature for this request is not valid.")
    assert_error(missing, 400, -1102)
    assert ok.status_code == 200, ok.text


async def test_non_percent_encoded_payload_is_rejected(fake, client) -> None:
    # The official non-ASCII vector: accepted encoded, rejected when signed raw.
    fake.clock_offset_ms = VECTOR_TIMESTAMP + 100 - MID_MINUTE_MS
    tail = "&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    encoded = "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96" + tail
    raw = "symbol=\uff11\uff12\uff13\uff14\uff15\uff16" + tail  # full-width digits, not encoded
    headers = {"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"}
    assert hmac_hex(encoded) == "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"

    accepted = await client.post(
        "/api/v3/order", content=f"{encoded}&signature={hmac_hex(encoded)}", headers=headers
    )
    rejected = await client.post(
        "/api/v3/order",
        content=f"{raw}&signature={hmac_hex(raw)}".encode(),
        headers=headers,
    )
    spaces = "symbol=LTCBTC&newClientOrderId=a+b&recvWindow=5000&timestamp=1499827319559"
    plus = await client.get(
        f"/api/v3/openOrders?{spaces}&signature={hmac_hex(spaces)}", headers=headers
    )

    assert_error(accepted, 400, -1121, "Invalid symbol.")  # signature fine, symbol unlisted
    assert_error(rejected, 400, -1022)
    assert_error(plus, 400, -1022)


async def test_timestamps_outside_the_window_get_1021(fake, client) -> None:
    headers = {"X-MBX-APIKEY": KEY}

    async def account_at(timestamp: int, window: str = "5000") -> httpx.Response:
        query = encode([("recvWindow", window), ("timestamp", str(timestamp))])
        return await client.get(
            f"/api/v3/account?{query}&signature={hmac_hex(query)}", headers=headers
        )

    now = server_ms(fake)
    stale = await account_at(now - 6000)
    ahead = await account_at(now + 1500)
    wide = await account_at(now - 6000, "10000")
    too_wide = await account_at(now, "60001")
    fake.clock_offset_ms = -3_000  # our clock is 3 s ahead of the server
    skewed = await account_at(server_ms(fake) + 3_000)

    assert_error(stale, 400, -1021, "Timestamp for this request is outside of the recvWindow.")
    assert_error(
        ahead, 400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
    )
    assert wide.status_code == 200
    assert_error(too_wide, 400, -1131, "recvWindow must be less than 60000")
    assert_error(
        skewed, 400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
    )


async def test_server_time_follows_an_injected_clock_plus_offset() -> None:
    now = [1_700_000_000_000]
    fake = FakeBinance(clock_ms=lambda: now[0])
    fake.clock_offset_ms = 250
    async with httpx.AsyncClient(transport=fake.mock_transport(), base_url=API) as http:
        first = (await http.get("/api/v3/time")).json()
        now[0] += 61_000
        second = await http.get("/fapi/v1/time")

    assert first == {"serverTime": 1_700_000_000_250}
    assert second.json() == {"serverTime": 1_700_000_061_250}
    assert second.headers["x-mbx-used-weight-1m"] == "1"


async def test_missing_or_unknown_api_key_is_401_2015(fake, client) -> None:
    query = signed(fake, [])
    missing = await client.get(f"/api/v3/account?{query}")
    unknown = await client.get(f"/api/v3/account?{query}", headers={"X-MBX-APIKEY": "other"})
    for response in (missing, unknown):
        assert_error(response, 401, -2015, "Invalid API-key, IP, or permissions for action.")
        assert response.headers["x-mbx-used-weight-1m"]


# -- trades, account, weights ------------------------------------------------------------------


async def test_my_trades_pages_by_from_id_without_gaps_or_repeats(fake, client) -> None:
    account = fake.accounts[KEY]
    assert list(account.add_trades("BTCUSDT", 2345)) == list(range(1, 2346))
    seen: list[int] = []
    from_id, pages = 1, 0
    while True:
        response = await get(
            client,
            fake,
            "/api/v3/myTrades",
            [("symbol", "BTCUSDT"), ("fromId", str(from_id)), ("limit", "1000")],
        )
        rows = response.json()
        pages += 1
        if not rows:
            break
        seen += [row["id"] for row in rows]
        from_id = rows[-1]["id"] + 1

    assert seen == list(range(1, 2346))
    assert pages == 4
    first = (
        await get(client, fake, "/api/v3/myTrades", [("symbol", "BTCUSDT"), ("fromId", "1")])
    ).json()
    assert len(first) == 500  # default limit
    row = first[0]
    assert set(row) == {
        "symbol",
        "id",
        "orderId",
        "orderListId",
        "price",
        "qty",
        "quoteQty",
        "commission",
        "commissionAsset",
        "time",
        "isBuyer",
        "isMaker",
        "isBestMatch",
    }
    assert (row["price"], row["qty"], row["quoteQty"]) == (
        "4.00000100",
        "12.00000000",
        "48.00001200",
    )
    assert (row["isBuyer"], first[1]["isBuyer"], type(row["time"])) == (True, False, int)
    latest = (await get(client, fake, "/api/v3/myTrades", [("symbol", "BTCUSDT")])).json()
    assert [r["id"] for r in latest] == list(range(1846, 2346))


async def test_my_trades_rejects_bad_combinations(fake, client) -> None:
    fake.accounts[KEY].add_trades("BTCUSDT", 3)
    symbol = [("symbol", "BTCUSDT")]
    combined = await get(
        client, fake, "/api/v3/myTrades", [*symbol, ("fromId", "1"), ("startTime", "1")]
    )
    too_many = await get(client, fake, "/api/v3/myTrades", [*symbol, ("limit", "1001")])
    no_symbol = await get(client, fake, "/api/v3/myTrades", [("fromId", "1")])
    bad_symbol = await get(client, fake, "/api/v3/myTrades", [("symbol", "NOPE")])
    unread = await get(client, fake, "/api/v3/myTrades", [*symbol, ("fromid", "1")])

    assert_error(combined, 400, -1128, "Combination of optional parameters invalid.")
    assert_error(too_many, 400, -1100)
    assert_error(no_symbol, 400, -1102)
    assert_error(bad_symbol, 400, -1121, "Invalid symbol.")
    assert_error(unread, 400, -1104)


async def test_account_shows_zero_balances_unless_omitted(fake, client) -> None:
    full = (await get(client, fake, "/api/v3/account", [])).json()
    omitted = (await get(client, fake, "/api/v3/account", [("omitZeroBalances", "true")])).json()

    assert {b["asset"]: b["free"] for b in full["balances"]} == {
        "USDT": "100000.00000000",
        "BTC": "2.00000000",
        "LTC": "0.00000000",
    }
    assert [b["asset"] for b in omitted["balances"]] == ["USDT", "BTC"]
    assert (full["accountType"], full["canTrade"], type(full["uid"])) == ("SPOT", True, int)


async def test_weights_accumulate_then_429_with_retry_after() -> None:
    # On a frozen clock in mid-minute: on the wall clock the weights of a minute boundary crossed
    # during the test would start again from zero.
    fake = _stocked(FakeBinance(clock_ms=lambda: MID_MINUTE_MS))
    async with httpx.AsyncClient(transport=fake.mock_transport(), base_url=API) as client:
        await _weights_accumulate_then_429(fake, client)


async def _weights_accumulate_then_429(fake: FakeBinance, client: httpx.AsyncClient) -> None:
    used = []
    for path in ("/api/v3/time", "/api/v3/exchangeInfo", "/api/v3/ticker/price"):
        response = await client.get(path)
        used.append(int(response.headers["x-mbx-used-weight-1m"]))
    single = await client.get("/api/v3/ticker/price", params={"symbol": "BTCUSDT"})
    account = await get(client, fake, "/api/v3/account", [])
    by_order = await get(
        client, fake, "/api/v3/myTrades", [("symbol", "BTCUSDT"), ("orderId", "1")]
    )
    fake.weight_limit = 60
    refused = await client.get("/api/v3/exchangeInfo")

    assert used == [1, 21, 25]
    assert single.headers["x-mbx-used-weight"] == "27"
    assert account.headers["x-mbx-used-weight-1m"] == "47"
    assert by_order.headers["x-mbx-used-weight-1m"] == "52"
    assert_error(refused, 429, -1003)
    assert refused.json()["msg"].startswith(
        "Too much request weight used; current limit is 60 request weight per 1 MINUTE."
    )
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert fake.used_weight() == 72
    banned = await client.get("/api/v3/time")
    assert banned.status_code == 418, "a request inside the 429's Retry-After gets the IP banned"
    assert int(banned.headers["Retry-After"]) == fake.ban_seconds


async def test_a_ban_answers_418_with_retry_after_until_it_ends_and_logs_every_request() -> None:
    now = [1_700_000_000_000]
    fake = FakeBinance(clock_ms=lambda: now[0])
    async with httpx.AsyncClient(transport=fake.mock_transport(), base_url=API) as http:
        fake.ban(90)
        first = await http.get("/api/v3/time")
        now[0] += 60_000
        later = await http.get("/api/v3/exchangeInfo")
        now[0] += 30_000
        after = await http.get("/api/v3/time")

    assert_error(first, 418, -1003)
    assert first.json()["msg"].startswith("Way too much request weight used; IP banned until")
    assert (first.headers["Retry-After"], later.headers["Retry-After"]) == ("90", "30")
    assert after.status_code == 200
    assert fake.statuses() == [418, 418, 200]
    assert len(fake.requests) == 3
    assert fake.banned_until_ms == 1_700_000_090_000


async def test_rate_limit_answers_429_and_a_request_inside_retry_after_is_banned() -> None:
    now = [1_700_000_000_000]
    fake = FakeBinance(clock_ms=lambda: now[0])
    fake.ban_seconds = 300
    async with httpx.AsyncClient(transport=fake.mock_transport(), base_url=API) as http:
        fake.rate_limit(57)
        limited = await http.get("/api/v3/time")
        now[0] += 57_000
        waited = await http.get("/api/v3/time")
        fake.rate_limit(57)
        await http.get("/api/v3/time")
        now[0] += 10_000
        eager = await http.get("/api/v3/time")

    assert_error(limited, 429, -1003)
    assert limited.headers["Retry-After"] == "57"
    assert waited.status_code == 200, "waiting out Retry-After is fine"
    assert eager.status_code == 418
    assert eager.headers["Retry-After"] == "300"


async def test_weight_is_kept_per_minute() -> None:
    now = [1_700_000_000_000 - 1_700_000_000_000 % 60_000]
    fake = FakeBinance(clock_ms=lambda: now[0])
    async with httpx.AsyncClient(transport=fake.mock_transport(), base_url=API) as http:
        await http.get("/api/v3/exchangeInfo")
        await http.get("/api/v3/time")
        now[0] += 60_000
        await http.get("/api/v3/time")
        await http.get("/fapi/v1/time")

    minute = now[0] // 60_000
    assert fake.weight_by_minute == {
        ("api", minute - 1): 21,
        ("api", minute): 1,
        ("fapi", minute): 1,
    }


async def test_exchange_info_publishes_limits_and_filters(fake, client) -> None:
    info = (await client.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"})).json()
    assert info["rateLimits"][0] == {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": 6000,
    }
    (symbol,) = info["symbols"]
    filters = {f["filterType"]: f for f in symbol["filters"]}
    assert (symbol["baseAsset"], symbol["quoteAsset"], symbol["status"]) == (
        "BTC",
        "USDT",
        "TRADING",
    )
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"] == {
        "filterType": "LOT_SIZE",
        "minQty": "0.00001000",
        "maxQty": "9000.00000000",
        "stepSize": "0.00001000",
    }
    assert (await client.get("/api/v3/ticker/price", params={"symbol": "BTCUSDT"})).json() == {
        "symbol": "BTCUSDT",
        "price": "30000.00000000",
    }
    assert_error(await client.get("/api/v3/ticker/price", params={"symbol": "NOPE"}), 400, -1121)
    missing = await client.get("/api/v3/nothing")
    assert (missing.status_code, missing.headers["content-type"][:9]) == (404, "text/html")


# -- orders ------------------------------------------------------------------------------------


async def post_order(client, fake, params) -> httpx.Response:
    return await client.post(f"/api/v3/order?{signed(fake, params)}", headers={"X-MBX-APIKEY": KEY})


async def test_market_order_fills_into_my_trades(fake, client) -> None:
    account = fake.accounts[KEY]
    account.add_trades("BTCUSDT", 10)

    response = await post_order(
        client,
        fake,
        [
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quantity", "0.01"),
            ("newClientOrderId", "mkt-1"),
        ],
    )

    assert response.status_code == 200, response.text
    order = response.json()
    assert (order["status"], order["executedQty"], order["cummulativeQuoteQty"]) == (
        "FILLED",
        "0.01000000",
        "300.00000000",
    )
    assert order["price"] == "0.00000000"
    assert order["fills"] == [
        {
            "price": "30000.00000000",
            "qty": "0.01000000",
            "commission": "0.00001000",
            "commissionAsset": "BTC",
            "tradeId": 11,
        }
    ]
    trades = (
        await get(client, fake, "/api/v3/myTrades", [("symbol", "BTCUSDT"), ("fromId", "11")])
    ).json()
    assert [(t["id"], t["orderId"], t["isBuyer"], t["isMaker"]) for t in trades] == [
        (11, order["orderId"], True, False)
    ]
    assert account.balance("USDT").free == 100000 - 300
    assert str(account.balance("BTC").free) == "2.00999000"
    again = await post_order(
        client,
        fake,
        [
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "MARKET"),
            ("quantity", "0.01"),
            ("newClientOrderId", "mkt-1"),
        ],
    )
    assert again.status_code == 200, again.text  # a filled order's client id is reusable
    assert len(account.trade_log("BTCUSDT")) == 12


async def test_duplicate_open_client_order_id_gets_2010(fake, client) -> None:
    limit = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "0.1"),
        ("price", "29000"),
        ("newClientOrderId", "dup-1"),
    ]
    lookup = [("symbol", "BTCUSDT"), ("origClientOrderId", "dup-1")]

    first = await post_order(client, fake, limit)
    second = await post_order(client, fake, limit)
    found = await get(client, fake, "/api/v3/order", lookup)
    open_orders = await get(client, fake, "/api/v3/openOrders", [])
    canceled = await client.delete(
        f"/api/v3/order?{signed(fake, lookup)}", headers={"X-MBX-APIKEY": KEY}
    )
    cancel_again = await client.delete(
        f"/api/v3/order?{signed(fake, lookup)}", headers={"X-MBX-APIKEY": KEY}
    )
    unknown = await get(
        client, fake, "/api/v3/order", [("symbol", "BTCUSDT"), ("origClientOrderId", "nope")]
    )

    assert first.json()["status"] == "NEW"
    assert_error(second, 400, -2010, "Duplicate order sent.")
    assert (found.json()["clientOrderId"], found.json()["status"], found.json()["isWorking"]) == (
        "dup-1",
        "NEW",
        True,
    )
    assert [o["clientOrderId"] for o in open_orders.json()] == ["dup-1"]
    assert open_orders.headers["x-mbx-used-weight-1m"] == "86"  # 1 + 1 + 4 + 80 (no symbol)
    assert (canceled.json()["status"], canceled.json()["origClientOrderId"]) == (
        "CANCELED",
        "dup-1",
    )
    assert_error(cancel_again, 400, -2011, "Unknown order sent.")
    assert_error(unknown, 400, -2013, "Order does not exist.")
    assert fake.accounts[KEY].balance("USDT").locked == 0


async def test_resting_order_fills_when_the_price_crosses(fake, client) -> None:
    response = await post_order(
        client,
        fake,
        [
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "31000"),
        ],
    )
    order_id = response.json()["orderId"]
    fake.fill_order(KEY, order_id, "0.4")
    partial = (
        await get(
            client, fake, "/api/v3/order", [("symbol", "BTCUSDT"), ("orderId", str(order_id))]
        )
    ).json()
    fake.set_price("BTCUSDT", "31500")
    filled = (
        await get(
            client, fake, "/api/v3/order", [("symbol", "BTCUSDT"), ("orderId", str(order_id))]
        )
    ).json()

    assert (partial["status"], partial["executedQty"]) == ("PARTIALLY_FILLED", "0.40000000")
    assert (filled["status"], filled["cummulativeQuoteQty"]) == ("FILLED", "31000.00000000")
    assert fake.accounts[KEY].balance("BTC").locked == 0


async def test_order_validation_errors(fake, client) -> None:
    base = [("symbol", "BTCUSDT"), ("side", "BUY")]
    lot = await post_order(client, fake, [*base, ("type", "MARKET"), ("quantity", "0.000001")])
    tick = await post_order(
        client,
        fake,
        [*base, ("type", "LIMIT"), ("timeInForce", "GTC"), ("quantity", "1"), ("price", "100.001")],
    )
    broke = await post_order(client, fake, [*base, ("type", "MARKET"), ("quantity", "10")])
    no_tif = await post_order(
        client, fake, [*base, ("type", "LIMIT"), ("quantity", "1"), ("price", "100")]
    )
    bad_id = await post_order(
        client, fake, [*base, ("type", "MARKET"), ("quantity", "1"), ("newClientOrderId", "a b")]
    )

    assert_error(lot, 400, -1013, "Filter failure: LOT_SIZE")
    assert_error(tick, 400, -1013, "Filter failure: PRICE_FILTER")
    assert_error(broke, 400, -2010, "Account has insufficient balance for requested action.")
    assert_error(no_tif, 400, -1102)
    assert_error(bad_id, 400, -1100)
    assert fake.accounts[KEY].orders == []


# -- futures -----------------------------------------------------------------------------------


async def test_futures_positions_and_user_trades(fake, client) -> None:
    account = fake.accounts[KEY]
    account.add_futures_position("ADAUSDT", "30", "0.385", mark_price="0.41047590")
    account.add_futures_position("BTCUSDT", "0", "0")
    account.add_futures_trades("BTCUSDT", 3, realized_pnl="-0.91539999")

    positions = (await get(client, fake, "/fapi/v3/positionRisk", [])).json()
    trades = await get(
        client, fake, "/fapi/v1/userTrades", [("symbol", "BTCUSDT"), ("fromId", "2")]
    )

    (position,) = positions
    assert (
        position["symbol"],
        position["positionAmt"],
        position["entryPrice"],
        position["adl"],
    ) == ("ADAUSDT", "30", "0.385", 0)
    assert position["unRealizedProfit"] == "0.76427700"
    rows = trades.json()
    assert [r["id"] for r in rows] == [2, 3]
    assert (rows[0]["buyer"], rows[0]["side"], rows[0]["quoteQty"], rows[0]["realizedPnl"]) == (
        False,
        "SELL",
        "15.63802",
        "-0.91539999",
    )
    assert trades.headers["x-mbx-used-weight-1m"] == "10"  # /fapi counts apart from /api
    assert fake.used_weight(futures=True) == 10


# -- fault injection and request log -----------------------------------------------------------


async def test_scripted_drop_raises_read_timeout_and_is_logged(fake, client) -> None:
    fake.script("GET", "/api/v3/time", drop=True)

    with pytest.raises(httpx.ReadTimeout):
        await client.get("/api/v3/time")
    after = await client.get("/api/v3/time")

    assert fake.count("GET", "/api/v3/time") == 2
    assert after.status_code == 200
    assert fake.unused_scripts() == []


async def test_scripted_answers_are_fifo_and_keep_weight_headers(fake, client) -> None:
    ban = {
        "code": -1003,
        "msg": "Way too much request weight used; IP banned until 1659761931230. Please use the websocket for live updates to avoid bans.",
    }
    fake.script(
        "GET",
        "/api/v3/exchangeInfo",
        status=429,
        json={"code": -1003, "msg": "Too much"},
        headers={"Retry-After": "3"},
        times=2,
    )
    fake.script("GET", "/api/v3/exchangeInfo", status=418, json=ban, headers={"Retry-After": "120"})
    fake.script(
        "GET",
        "/api/v3/exchangeInfo",
        status=502,
        body=b"<html><title>502 Bad Gateway</title></html>",
    )
    fake.script("GET", "/api/v3/exchangeInfo", body=b'{"serverTime":')

    answers = [await client.get("/api/v3/exchangeInfo") for _ in range(6)]

    assert [a.status_code for a in answers] == [429, 429, 418, 502, 200, 200]
    assert answers[0].headers["retry-after"] == "3"
    assert "x-mbx-used-weight-1m" not in answers[0].headers  # the script gave headers
    assert answers[2].json() == ban
    assert answers[3].headers["content-type"].startswith("text/html")
    assert answers[3].headers["x-mbx-used-weight-1m"] == "80"
    with pytest.raises(json.JSONDecodeError):
        answers[4].json()
    assert answers[5].json()["symbols"]


async def test_executed_script_places_the_order_but_loses_the_answer(fake, client) -> None:
    fake.script("POST", "/api/v3/order", drop=True, execute=True)
    fake.script(
        "POST",
        "/api/v3/order",
        status=503,
        json={
            "code": -1007,
            "msg": "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        },
    )
    params = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quantity", "0.01"),
        ("newClientOrderId", "lost-1"),
    ]

    with pytest.raises(httpx.ReadTimeout):
        await post_order(client, fake, params)
    unknown = await post_order(client, fake, [*params[:-1], ("newClientOrderId", "never-1")])
    found = await get(
        client, fake, "/api/v3/order", [("symbol", "BTCUSDT"), ("origClientOrderId", "lost-1")]
    )
    never = await get(
        client, fake, "/api/v3/order", [("symbol", "BTCUSDT"), ("origClientOrderId", "never-1")]
    )

    assert found.json()["status"] == "FILLED"
    assert_error(unknown, 503, -1007)
    assert_error(never, 400, -2013)
    recorded = fake.requests[0]
    assert (recorded.method, recorded.path, recorded.param("newClientOrderId")) == (
        "POST",
        "/api/v3/order",
        "lost-1",
    )
    assert recorded.headers["x-mbx-apikey"] == KEY
    assert recorded.params[0] == ("symbol", "BTCUSDT")


# -- loopback HTTP and CLI ---------------------------------------------------------------------


async def test_serve_answers_over_loopback_with_latency(fake) -> None:
    with fake.serve(latency=0.3) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=base_url) as http:
            started = time.perf_counter()
            answers = await asyncio.gather(*(http.get("/api/v3/time") for _ in range(10)))
            elapsed = time.perf_counter() - started
            account = await http.get(
                f"/api/v3/account?{signed(fake, [])}", headers={"X-MBX-APIKEY": KEY}
            )
            order = await http.post(
                "/api/v3/order",
                content=signed(
                    fake,
                    [
                        ("symbol", "BTCUSDT"),
                        ("side", "BUY"),
                        ("type", "MARKET"),
                        ("quantity", "0.001"),
                    ],
                ),
                headers={"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"},
            )
            fake.script("GET", "/api/v3/ping", drop=True)
            with pytest.raises(httpx.RemoteProtocolError):
                await http.get("/api/v3/ping")

    assert all(a.status_code == 200 and "serverTime" in a.json() for a in answers)
    # Concurrent: 0.3 s for the ten, not 3 s in a row (1.2 s of margin for a loaded machine).
    assert 0.3 <= elapsed < 1.5
    assert account.status_code == 200
    assert account.headers["x-mbx-used-weight-1m"] == "30"
    assert order.json()["status"] == "FILLED"


def test_cli_serves_a_benchmark_exchange() -> None:
    command = [
        sys.executable,
        "-m",
        "tests.fakes.binance_exchange",
        "--port",
        "0",
        "--accounts",
        "2",
        "--symbols",
        "3",
        "--trades",
        "5",
    ]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            assert line.startswith("READY http://127.0.0.1:")
            base_url = line.split()[1]
            query = encode([("symbol", "ETHUSDT"), ("timestamp", str(int(time.time() * 1000)))])
            query += f"&signature={hmac_hex(query, 'secret-1')}"
            trades = httpx.get(
                f"{base_url}/api/v3/myTrades?{query}", headers={"X-MBX-APIKEY": "key-1"}
            ).json()
        finally:
            process.terminate()
        assert process.wait(timeout=5) == 0
    assert [t["id"] for t in trades] == [6, 7, 8, 9, 10]
