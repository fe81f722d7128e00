"""Fixtures of the order-protocol fault tests: simulated time, a venue per broker, a SQLite
ledger that survives restarts (see ``order_fault_harness``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.integration.orders.order_fault_harness import (
    START,
    VENUES,
    BinanceVenue,
    Ledger,
    PaperVenueHarness,
    SaxoVenue,
    Venue,
)

from tradecore.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """Simulated time shared by the code under test and the venues: nothing sleeps for real."""
    return FakeClock(START)


@pytest.fixture(params=sorted(VENUES))
async def venue(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[Venue]:
    """Each broker in turn: the paper venue, the fake Binance, the fake Saxo."""
    made = VENUES[request.param](clock)
    yield made
    assert not made.internal_errors(), "a fake failed: a bug in the test or the fake"
    await made.aclose()


@pytest.fixture
async def paper(clock: FakeClock) -> AsyncIterator[PaperVenueHarness]:
    made = PaperVenueHarness(clock)
    yield made
    await made.aclose()


@pytest.fixture
async def binance(clock: FakeClock) -> AsyncIterator[BinanceVenue]:
    made = BinanceVenue(clock)
    yield made
    assert not made.internal_errors(), "the fake Binance failed: a bug in the test or the fake"
    await made.aclose()


@pytest.fixture
async def saxo(clock: FakeClock) -> AsyncIterator[SaxoVenue]:
    made = SaxoVenue(clock)
    yield made
    assert not made.internal_errors(), "the fake Saxo failed: a bug in the test or the fake"
    await made.aclose()


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    """A SQLite file; every process (repository) opened on it is closed at the end."""
    made = Ledger(tmp_path / "tradecore.db")
    yield made
    await made.aclose()
