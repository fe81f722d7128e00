"""What the use-case tests share: a :class:`ServiceContext` on the memory repository, a fake
clock and a ``fake`` broker whose adapters the test can reach."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tradecore.domain import BrokerConnection
from tradecore.ports import BrokerContext, BrokerFactory, BrokerPort, SecretSpec, SettingSpec
from tradecore.services import ServiceContext
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import DEFAULT_TIME
from tradecore_adapters.memory import MemoryRepository


class FakeVenue:
    """A ``fake`` broker plugin: one :class:`FakeBroker` per connection id, kept across opens,
    with one optional setting (``region``: eu or us) and one optional secret (``api_key``)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.brokers: dict[str, FakeBroker] = {}
        self.refuse: Callable[[BrokerConnection], None] | None = None

    def create(self, connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
        if self.refuse is not None:
            self.refuse(connection)
        broker = self.brokers.get(connection.id)
        if broker is None:
            broker = FakeBroker(clock=self.clock, connection_id=connection.id)
            self.brokers[connection.id] = broker
        return broker

    def factory(self) -> BrokerFactory:
        return BrokerFactory(
            name="fake",
            description="a fake broker",
            create=self.create,
            settings=(SettingSpec(name="region", description="eu or us", choices=("eu", "us")),),
            secrets=(SecretSpec(name="api_key", description="the key", required=False),),
        )


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
