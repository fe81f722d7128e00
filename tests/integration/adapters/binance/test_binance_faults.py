"""What the Binance adapter does when Binance (or the network) misbehaves (docs/brokers/binance.md,
"Orders" and "Limits, retries and the clock"): an order is never sent twice, reads wait as told, a
ban stops everything, clock drift is corrected, and garbage is a typed error."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, BrokerMaker

from tradecore.domain import Account, Instrument, OrderRequest, OrderStatus, OrderType, Side
from tradecore.errors import (
    BrokerUnavailable,
    MalformedResponse,
    OrderOutcomeUnknown,
    RateLimited,
)
from tradecore.testing import FakeClock
from tradecore_adapters.binance._errors import IpBanned

BAN = {
    "code": -1003,
    "msg": "Way too much request weight used; IP banned until 1659761931230. "
    "Please use the websocket for live updates to avoid bans.",
}
BAD_GATEWAY = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def _spot(broker_account: str = "spot") -> Account:
    return Account(connection_id="conn-binance", account_id=broker_account)


def _market_buy(client_order_id: str = "tc-fault-0001") -> OrderRequest:
    return OrderRequest(
        connection_id="conn-binance",
        account_id="spot",
        client_order_id=client_order_id,
        instrument=Instrument(symbol="BTCUSDT"),
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal("0.01000"),
    )


async def test_post_timeout_sends_exactly_one_order_and_the_error_carries_the_client_id(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    # The order reaches the matching engine, then the answer is lost.
    fake.script("POST", "/api/v3/order", drop=True, execute=True)
    broker = make_broker()
    request = _market_buy()
    with pytest.raises(OrderOutcomeUnknown) as caught:
        await broker.place_order(request)
    assert caught.value.client_order_id == request.client_order_id
    assert fake.count("POST", "/api/v3/order") == 1
    # Looking it up (never resending) finds it filled.
    found = await broker.get_order_status(
        _spot(), request.client_order_id, instrument=request.instrument
    )
    assert found.status is OrderStatus.FILLED
    assert fake.count("POST", "/api/v3/order") == 1


@pytest.mark.parametrize(
    "script",
    [
        {"status": 503, "json": {"code": -1000, "msg": "Unknown error, please check your request"}},
        {
            "status": 400,
            "json": {"code": -1007, "msg": "Timeout waiting for response from backend server."},
        },
        {"status": 400, "json": {"code": -1006, "msg": "An unexpected response was received."}},
        {"status": 200, "body": b'{"symbol":"BTCUSDT","orderId":'},
        {"status": 502, "body": BAD_GATEWAY},
    ],
    ids=["503", "-1007", "-1006", "truncated-json", "html-502"],
)
async def test_ambiguous_answers_to_a_post_are_outcome_unknown_and_never_retried(
    fake: FakeBinance, make_broker: BrokerMaker, script: dict[str, object]
) -> None:
    fake.script("POST", "/api/v3/order", **script)  # type: ignore[arg-type]
    with pytest.raises(OrderOutcomeUnknown) as caught:
        await make_broker().place_order(_market_buy())
    assert caught.value.client_order_id == "tc-fault-0001"
    assert fake.count("POST", "/api/v3/order") == 1


async def test_429_with_retry_after_waits_then_the_read_succeeds(
    fake: FakeBinance, make_broker: BrokerMaker, clock: FakeClock
) -> None:
    fake.script(
        "GET",
        "/api/v3/account",
        status=429,
        json={"code": -1003, "msg": "Too much request weight used; current limit is 6000."},
        headers={"Retry-After": "3"},
    )
    broker = make_broker()
    positions = await broker.get_positions(_spot())
    assert {p.instrument.symbol for p in positions} == {"USDT", "BTC"}
    assert fake.count("GET", "/api/v3/account") == 2
    assert max(clock.sleeps) >= 3, "Retry-After is honoured"
    assert broker.api_figures()["retries"] == "1"


async def test_429_beyond_the_retry_budget_gives_up_with_rate_limited(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    fake.script(
        "GET",
        "/api/v3/account",
        status=429,
        json={"code": -1003, "msg": "Too much request weight used"},
        headers={"Retry-After": "600"},
    )
    with pytest.raises(RateLimited) as caught:
        await make_broker().get_positions(_spot())
    assert caught.value.retry_after == 600
    assert fake.count("GET", "/api/v3/account") == 1


async def test_418_is_a_clear_error_and_nothing_more_is_sent_to_the_host(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    fake.script("GET", "/api/v3/account", status=418, json=BAN, headers={"Retry-After": "120"})
    broker = make_broker()
    with pytest.raises(IpBanned, match=r"banned this IP until .* UTC"):
        await broker.get_positions(_spot())
    sent = len(fake.requests)
    with pytest.raises(IpBanned):
        await broker.get_trades(_spot())
    with pytest.raises(IpBanned):
        await make_broker().get_positions(_spot())  # another connection of the same process
    with pytest.raises(IpBanned):
        await broker.place_order(_market_buy())
    assert len(fake.requests) == sent, "no request may reach a host that banned us"


async def test_ban_ends_when_retry_after_has_passed(
    fake: FakeBinance, make_broker: BrokerMaker, clock: FakeClock
) -> None:
    fake.script("GET", "/api/v3/account", status=418, json=BAN, headers={"Retry-After": "120"})
    broker = make_broker()
    with pytest.raises(IpBanned):
        await broker.get_positions(_spot())
    clock.advance(timedelta(seconds=121))
    assert await broker.get_positions(_spot())


async def test_minus_1021_resyncs_the_clock_and_retries_the_read_once(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    broker = make_broker()
    await broker.get_positions(_spot())  # measures the offset (0)
    # Binance's clock jumps 20 s back: our corrected timestamps are now 20 s ahead (-1021).
    fake.clock_offset_ms = -20_000
    before = fake.count("GET", "/api/v3/time")
    positions = await broker.get_positions(_spot())
    assert positions
    assert fake.count("GET", "/api/v3/time") == before + 1
    figures = broker.api_figures()
    assert figures["clock_resyncs"] == "1"
    assert -21_000 < int(figures["clock_offset_ms"]) < -19_000


async def test_the_clock_offset_is_measured_from_the_answering_request_not_across_the_wait(
    fake: FakeBinance, make_broker: BrokerMaker, clock: FakeClock
) -> None:
    # Binance's clock runs 2 s ahead; the first /time is refused with Retry-After 17 s. Measured
    # across the wait, the offset would be 2 s - 8.5 s and the next signed read a -1021.
    fake.clock_offset_ms = 2_000
    fake.script(
        "GET",
        "/api/v3/time",
        status=429,
        json={"code": -1003, "msg": "Too many requests."},
        headers={"Retry-After": "17"},
    )
    broker = make_broker()
    assert await broker.get_positions(_spot())
    assert max(clock.sleeps) >= 17, "Retry-After is honoured"
    figures = broker.api_figures()
    assert 1_900 <= int(figures["clock_offset_ms"]) <= 2_100
    assert "clock_resyncs" not in figures, "no -1021 on the signed read"
    assert fake.count("GET", "/api/v3/time") == 2
    assert fake.count("GET", "/api/v3/account") == 1


async def test_a_persistent_minus_1021_fails_after_one_resync(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    body = {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
    fake.script("GET", "/api/v3/account", status=400, json=body, times=5)
    with pytest.raises(BrokerUnavailable, match="-1021"):
        await make_broker().get_positions(_spot())
    assert fake.count("GET", "/api/v3/account") == 2


async def test_malformed_json_is_a_typed_error(fake: FakeBinance, make_broker: BrokerMaker) -> None:
    fake.script("GET", "/api/v3/account", body=b'{"balances": [', times=1)
    with pytest.raises(MalformedResponse, match="not JSON"):
        await make_broker().get_positions(_spot())


async def test_an_html_502_is_retried_then_reported_as_unavailable(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    fake.script("GET", "/api/v3/account", status=502, body=BAD_GATEWAY, times=10)
    with pytest.raises(BrokerUnavailable, match="HTML page: 502 Bad Gateway"):
        await make_broker().get_positions(_spot())
    assert fake.count("GET", "/api/v3/account") == 4, "bounded: four attempts"


async def test_the_weight_budget_slows_down_before_the_limit(
    fake: FakeBinance, make_broker: BrokerMaker, clock: FakeClock
) -> None:
    # A tiny limit: exchangeInfo says 100 per minute; each myTrades costs 20.
    fake.weight_limit = 100
    account = fake.accounts[API_KEY]
    for symbol in ("ETHUSDT", "ETHBTC", "BNBUSDT"):
        account.add_trades(symbol, 3)
    broker = make_broker(symbols="ETHUSDT,ETHBTC,BNBUSDT")
    await broker.get_positions(_spot())
    page = await broker.get_trades(_spot())
    while page.has_more:
        page = await broker.get_trades(_spot(), cursor=page.cursor)
    statuses = [r for r in fake.requests if r.path == "/api/v3/myTrades"]
    assert len(statuses) == 4
    assert not [s for s in clock.sleeps if s == 0], "no zero-length sleeps"
    figures = broker.api_figures()
    assert float(figures["throttled_s"]) > 0, "it waited for the next minute"
    assert "retries" not in figures, "it never hit the limit (no 429 to recover from)"
    assert broker.api_figures()["used_weight"].endswith("/100")


async def test_a_failing_page_among_concurrent_ones_is_one_typed_error(
    fake: FakeBinance, make_broker: BrokerMaker
) -> None:
    # Several symbols are fetched at once; one of them keeps failing behind a proxy.
    fake.accounts[API_KEY].add_trades("ETHBTC", 3)
    broker = make_broker(symbols="ETHBTC,ETHUSDT,BNBUSDT")
    await broker.get_positions(_spot())
    fake.script("GET", "/api/v3/myTrades", status=502, body=BAD_GATEWAY, times=40)
    with pytest.raises(BrokerUnavailable, match="502 Bad Gateway") as caught:
        await broker.get_trades(_spot())
    assert not isinstance(caught.value, BaseExceptionGroup)
