"""What the use-case tests share: a :class:`ServiceContext` on the memory repository, a fake
clock and a ``fake`` broker whose adapters the test can reach."""

from __future__ import annotations

import attrs
import pytest
from tests.fakes.fake_venue import FakeVenue
from tests.fakes.lost_secrets import NoSecretVenue

from tradecore.services import ServiceContext
from tradecore.testing import FakeClock
from tradecore.testing.builders import DEFAULT_TIME
from tradecore_adapters.memory import MemoryRepository


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DEFAULT_TIME)


@pytest.fixture
def venue(clock: FakeClock) -> FakeVenue:
    return FakeVenue(clock)


@pytest.fixture
def context(clock: FakeClock, venue: FakeVenue) -> ServiceContext:
    return ServiceContext(
        repository=MemoryRepository(clock=clock),
        clock=clock,
        brokers={"fake": venue.factory()},
    )


@pytest.fixture
def no_secret(clock: FakeClock) -> NoSecretVenue:
    return NoSecretVenue(clock)


@pytest.fixture
def lost_context(context: ServiceContext, no_secret: NoSecretVenue) -> ServiceContext:
    return attrs.evolve(context, brokers={**context.brokers, "open": no_secret.factory()})
