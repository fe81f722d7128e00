"""The Binance throttle on the shared limits ("LIMITS",
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits): two throttles on one
store behave as two processes sharing a database. Simulated time: no real waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradecore.errors import OrderRejected, RateLimited
from tradecore.testing import FakeClock
from tradecore_adapters.binance._errors import IpBanned
from tradecore_adapters.binance._limits import BinanceHost
from tradecore_adapters.binance._throttle import Throttle
from tradecore_adapters.shared_limits import LocalLimits

BASE = "https://api.binance.com"
T0 = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)  # the start of a minute


def throttle(limits: LocalLimits, clock: FakeClock, waits: list[float] | None = None) -> Throttle:
    return Throttle(
        limits=limits,
        clock=clock,
        server_ms=lambda _base: int(clock.now().timestamp() * 1000),
        account="acct",
        on_wait=(waits if waits is not None else []).append,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


async def test_two_processes_share_one_weight_ceiling(clock: FakeClock) -> None:
    limits = LocalLimits()
    host = BinanceHost(BASE, weight_limit=100, headroom=0.9)  # ceiling 90
    first, second = throttle(limits, clock), throttle(limits, clock)
    for _ in range(2):
        await first.before(host, 20, "GET /api/v3/myTrades")
        await second.before(host, 20, "GET /api/v3/myTrades")
    assert clock.now() == T0, "80 <= 90: no wait"
    await first.before(host, 20, "GET /api/v3/myTrades")
    assert clock.now() >= T0 + timedelta(minutes=1), "a fifth 20 would reach 100 > 90"
    assert clock.now() <= T0 + timedelta(minutes=1, seconds=1)


async def test_the_brokers_used_weight_makes_others_wait(clock: FakeClock) -> None:
    limits = LocalLimits()
    host = BinanceHost(BASE, weight_limit=100, headroom=0.9)
    waits: list[float] = []
    await throttle(limits, clock).after(BASE, 85, {})  # another IP user spent 85 meanwhile
    clock.advance(timedelta(seconds=30))
    await throttle(limits, clock, waits).before(host, 10, "GET /api/v3/account")
    assert waits == [pytest.approx(30.25)]


async def test_a_request_heavier_than_the_ceiling_goes_alone_at_the_start_of_a_minute(
    clock: FakeClock,
) -> None:
    host = BinanceHost(BASE, weight_limit=10)
    await throttle(LocalLimits(), clock).before(host, 20, "GET /api/v3/exchangeInfo")
    assert clock.now() == T0


async def test_a_ban_stops_every_process_until_it_ends(clock: FakeClock) -> None:
    limits = LocalLimits()
    host = BinanceHost(BASE)
    await throttle(limits, clock).banned(BASE, 120)
    with pytest.raises(IpBanned, match=r"banned this IP until 2026-12-07 11:02:00 UTC"):
        await throttle(limits, clock).before(host, 1, "GET /api/v3/time")
    clock.advance(timedelta(seconds=120))
    await throttle(limits, clock).before(host, 1, "GET /api/v3/time")


async def test_a_pause_makes_every_process_wait_its_retry_after(clock: FakeClock) -> None:
    limits = LocalLimits()
    host = BinanceHost(BASE)
    waits: list[float] = []
    await throttle(limits, clock).paused(BASE, 57)
    await throttle(limits, clock, waits).before(host, 1, "GET /api/v3/time")
    assert waits == [57.0]
    assert clock.now() == T0 + timedelta(seconds=57)


async def test_a_pause_longer_than_a_minute_refuses_without_waiting(clock: FakeClock) -> None:
    limits = LocalLimits()
    await throttle(limits, clock).paused(BASE, 300)
    with pytest.raises(RateLimited, match=r"pause until .* not sent") as raised:
        await throttle(limits, clock).before(BinanceHost(BASE), 1, "GET /api/v3/time")
    assert raised.value.retry_after == 300
    assert clock.now() == T0


async def test_orders_wait_for_the_next_ten_seconds_past_the_accounts_count(
    clock: FakeClock,
) -> None:
    limits = LocalLimits()
    await throttle(limits, clock).after(BASE, None, {"x-mbx-order-count-10s": "50"})
    await throttle(limits, clock).before_order(BASE)
    assert T0 + timedelta(seconds=10) <= clock.now() <= T0 + timedelta(seconds=11)


async def test_orders_are_refused_unsent_past_the_days_count(clock: FakeClock) -> None:
    limits = LocalLimits()
    await throttle(limits, clock).after(BASE, None, {"x-mbx-order-count-1d": "160000"})
    with pytest.raises(OrderRejected, match=r"orders per day .* not sent"):
        await throttle(limits, clock).before_order(BASE)


async def test_a_request_at_a_minutes_end_counts_in_the_next_minute_too(clock: FakeClock) -> None:
    limits = LocalLimits()
    host = BinanceHost(BASE, weight_limit=100, headroom=0.9)
    clock.advance(timedelta(seconds=59))  # it may reach Binance after the minute turned
    await throttle(limits, clock).before(host, 20, "GET /api/v3/myTrades")
    clock.advance(timedelta(seconds=1, milliseconds=500))
    used = await limits.reserve(
        "binance:weight:api.binance.com",
        window_start=T0 + timedelta(minutes=1),
        window=timedelta(minutes=1),
        cost=0,
        limit=100,
    )
    assert used == 20
