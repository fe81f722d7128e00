"""The contract every :class:`~tradecore.ports.SharedLimits` implementation must pass.

Subclass :class:`SharedLimitsContract` and provide a ``limits`` fixture that yields a fresh,
empty store, and a ``second`` fixture that yields *another handle on the same store* (for the
database: another engine on the same database, as another process would open it; for memory:
the same object)::

    class TestLocalLimits(SharedLimitsContract):
        @pytest.fixture
        def limits(self):
            return LocalLimits()

        @pytest.fixture
        def second(self, limits):
            return limits

Times are made by the tests (the store never reads a clock).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tradecore.ports import Block, SharedLimits

__all__ = ["SharedLimitsContract"]

T0 = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class SharedLimitsContract:
    """Windows, blocks and slots as :mod:`tradecore.ports.limits` promises them."""

    @pytest.mark.asyncio
    async def test_it_is_a_shared_limits(self, limits: SharedLimits) -> None:
        assert isinstance(limits, SharedLimits)

    @pytest.mark.asyncio
    async def test_a_window_admits_reservations_up_to_its_limit(self, limits: SharedLimits) -> None:
        reserve = [
            await limits.reserve("w", window_start=T0, window=MINUTE, cost=20, limit=50)
            for _ in range(3)
        ]
        assert reserve == [20, 40, None], "the third would reach 60 > 50: refused, nothing added"
        assert await limits.reserve("w", window_start=T0, window=MINUTE, cost=10, limit=50) == 50

    @pytest.mark.asyncio
    async def test_the_first_reservation_of_a_window_always_passes(
        self, limits: SharedLimits
    ) -> None:
        used = await limits.reserve("w", window_start=T0, window=MINUTE, cost=80, limit=50)
        assert used == 80
        assert await limits.reserve("w", window_start=T0, window=MINUTE, cost=1, limit=50) is None

    @pytest.mark.asyncio
    async def test_windows_and_keys_count_apart(self, limits: SharedLimits) -> None:
        await limits.reserve("w", window_start=T0, window=MINUTE, cost=50, limit=50)
        assert await limits.reserve("w", window_start=T0, window=MINUTE, cost=1, limit=50) is None
        nxt = T0 + MINUTE
        assert await limits.reserve("w", window_start=nxt, window=MINUTE, cost=1, limit=50) == 1
        assert await limits.reserve("v", window_start=T0, window=MINUTE, cost=1, limit=50) == 1

    @pytest.mark.asyncio
    async def test_the_brokers_figure_raises_the_count_never_lowers_it(
        self, limits: SharedLimits
    ) -> None:
        await limits.reserve("w", window_start=T0, window=MINUTE, cost=10, limit=100)
        assert await limits.observe("w", window_start=T0, window=MINUTE, used=95) == 95
        assert await limits.observe("w", window_start=T0, window=MINUTE, used=30) == 95
        assert await limits.reserve("w", window_start=T0, window=MINUTE, cost=10, limit=100) is None
        assert await limits.reserve("w", window_start=T0, window=MINUTE, cost=5, limit=100) == 100

    @pytest.mark.asyncio
    async def test_an_observed_window_starts_from_the_brokers_figure(
        self, limits: SharedLimits
    ) -> None:
        assert await limits.observe("w", window_start=T0, window=MINUTE, used=45) == 45
        assert await limits.reserve("w", window_start=T0, window=MINUTE, cost=10, limit=50) is None

    @pytest.mark.asyncio
    async def test_a_block_holds_until_its_end_and_is_only_extended(
        self, limits: SharedLimits
    ) -> None:
        assert await limits.blocked("host", now=T0) is None
        ban = await limits.block("host", until=T0 + timedelta(minutes=2), reason="ban")
        assert ban == Block(T0 + timedelta(minutes=2), "ban")
        shorter = await limits.block("host", until=T0 + timedelta(seconds=30), reason="pause")
        assert shorter == ban, "a shorter block never shortens the one in force"
        assert await limits.blocked("host", now=T0 + timedelta(seconds=119)) == ban
        assert await limits.blocked("host", now=T0 + timedelta(minutes=2)) is None
        assert await limits.blocked("other", now=T0) is None
        longer = await limits.block("host", until=T0 + timedelta(minutes=5), reason="pause")
        assert longer == Block(T0 + timedelta(minutes=5), "pause")

    @pytest.mark.asyncio
    async def test_slots_are_handed_out_an_interval_apart(self, limits: SharedLimits) -> None:
        second = timedelta(seconds=1)
        slots = [await limits.take_slot("chat", earliest=T0, interval=second) for _ in range(3)]
        assert slots == [T0, T0 + second, T0 + 2 * second]
        late = T0 + timedelta(seconds=10)
        assert await limits.take_slot("chat", earliest=late, interval=second) == late
        assert await limits.take_slot("bot", earliest=T0, interval=second) == T0

    @pytest.mark.asyncio
    async def test_a_block_delays_the_next_slot(self, limits: SharedLimits) -> None:
        await limits.block("chat", until=T0 + timedelta(seconds=7), reason="flood")
        slot = await limits.take_slot("chat", earliest=T0, interval=timedelta(seconds=1))
        assert slot == T0 + timedelta(seconds=7)

    @pytest.mark.asyncio
    async def test_microseconds_are_kept(self, limits: SharedLimits) -> None:
        step = timedelta(microseconds=33_334)
        first = await limits.take_slot("bot", earliest=T0, interval=step)
        assert await limits.take_slot("bot", earliest=T0, interval=step) == first + step

    @pytest.mark.asyncio
    async def test_another_handle_sees_the_same_state(
        self, limits: SharedLimits, second: SharedLimits
    ) -> None:
        await limits.block("host", until=T0 + MINUTE, reason="ban")
        assert await second.blocked("host", now=T0) == Block(T0 + MINUTE, "ban")
        await limits.reserve("w", window_start=T0, window=MINUTE, cost=40, limit=50)
        assert await second.reserve("w", window_start=T0, window=MINUTE, cost=20, limit=50) is None
        await second.take_slot("chat", earliest=T0, interval=MINUTE)
        assert await limits.take_slot("chat", earliest=T0, interval=MINUTE) == T0 + MINUTE

    @pytest.mark.asyncio
    async def test_racing_reservations_never_pass_the_limit(
        self, limits: SharedLimits, second: SharedLimits
    ) -> None:
        async def take(store: SharedLimits) -> int | None:
            return await store.reserve("w", window_start=T0, window=MINUTE, cost=7, limit=100)

        results = await asyncio.gather(*(take(limits if n % 2 else second) for n in range(30)))
        granted = [used for used in results if used is not None]
        assert len(granted) == 14, "14 x 7 = 98 <= 100; a 15th would pass the limit"
        assert sorted(granted) == [7 * n for n in range(1, 15)]

    @pytest.mark.asyncio
    async def test_racing_slots_are_all_distinct(
        self, limits: SharedLimits, second: SharedLimits
    ) -> None:
        interval = timedelta(seconds=1)
        slots = await asyncio.gather(
            *(
                (limits if n % 2 else second).take_slot("chat", earliest=T0, interval=interval)
                for n in range(10)
            )
        )
        assert sorted(slots) == [T0 + n * interval for n in range(10)]

    @pytest.mark.asyncio
    async def test_the_smallest_limit_given_to_a_window_binds_everyone(
        self, limits: SharedLimits, second: SharedLimits
    ) -> None:
        # One process learned the limit is 50; another still assumes 1000.
        assert await limits.reserve("w", window_start=T0, window=MINUTE, cost=30, limit=50) == 30
        refused = await second.reserve("w", window_start=T0, window=MINUTE, cost=30, limit=1000)
        assert refused is None, "60 > 50, the limit the window was given"
        assert await second.reserve("w", window_start=T0, window=MINUTE, cost=20, limit=1000) == 50
