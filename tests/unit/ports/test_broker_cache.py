"""BrokerCache: what a broker type keeps across cycles, bounded in keys and age."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tradecore.ports import BrokerCache, BrokerCaches
from tradecore.testing import FakeClock


class Loads:
    """A loader that counts its calls and returns ``value-N``."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        await asyncio.sleep(0)
        return f"value-{self.calls}"


async def test_a_value_is_loaded_once_then_kept() -> None:
    cache, load = BrokerCache(clock=FakeClock()), Loads()

    assert await cache.get_or_load("markets:a", load) == "value-1"
    assert await cache.get_or_load("markets:a", load) == "value-1"
    assert load.calls == 1


async def test_a_value_older_than_max_age_is_loaded_again() -> None:
    clock = FakeClock()
    cache, load = BrokerCache(clock=clock, max_age=timedelta(minutes=10)), Loads()
    await cache.get_or_load("k", load)

    clock.advance(timedelta(minutes=9, seconds=59))
    assert await cache.get_or_load("k", load) == "value-1"
    clock.advance(timedelta(seconds=1))
    assert await cache.get_or_load("k", load) == "value-2"
    # A shorter age of its own; never longer than the cache's.
    clock.advance(timedelta(minutes=2))
    assert await cache.get_or_load("k", load, max_age=timedelta(minutes=1)) == "value-3"
    clock.advance(timedelta(minutes=11))
    assert await cache.get_or_load("k", load, max_age=timedelta(days=1)) == "value-4"


async def test_the_least_recently_used_key_goes_past_max_entries() -> None:
    cache, load = BrokerCache(clock=FakeClock(), max_entries=2), Loads()
    await cache.get_or_load("a", load)
    await cache.get_or_load("b", load)
    await cache.get_or_load("a", load)  # a used again: b is the oldest
    await cache.get_or_load("c", load)

    assert len(cache) == 2
    assert await cache.get_or_load("a", load) == "value-1"
    assert await cache.get_or_load("b", load) == "value-4"  # b was dropped


async def test_adapters_asking_at_once_share_one_load() -> None:
    cache, load = BrokerCache(clock=FakeClock()), Loads()

    values = await asyncio.gather(*(cache.get_or_load("k", load) for _ in range(5)))

    assert values == ["value-1"] * 5
    assert load.calls == 1


async def test_a_failed_load_keeps_nothing_and_raises_to_every_waiter() -> None:
    cache = BrokerCache(clock=FakeClock())
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise RuntimeError("venue down")

    results = await asyncio.gather(
        cache.get_or_load("k", failing), cache.get_or_load("k", failing), return_exceptions=True
    )
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    assert calls == 1
    assert len(cache) == 0
    assert await cache.get_or_load("k", Loads()) == "value-1"


async def test_invalidate_and_clear_forget() -> None:
    cache, load = BrokerCache(clock=FakeClock()), Loads()
    await cache.get_or_load("a", load)
    await cache.get_or_load("b", load)

    cache.invalidate("a")
    assert await cache.get_or_load("a", load) == "value-3"
    cache.clear()
    assert len(cache) == 0


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        BrokerCache(clock=FakeClock(), max_entries=0)
    with pytest.raises(ValueError, match="max_age"):
        BrokerCache(clock=FakeClock(), max_age=timedelta(0))


async def test_each_broker_type_has_its_own_cache_and_clear_empties_all() -> None:
    caches = BrokerCaches(clock=FakeClock(), max_entries=3)
    binance = caches.for_broker("ccxtbinance")
    await binance.get_or_load("k", Loads())

    assert caches.for_broker("ccxtbinance") is binance
    assert caches.for_broker("dummy") is not binance
    assert binance.max_entries == 3
    caches.clear()
    assert len(binance) == 0
    assert "value" not in repr(binance)
