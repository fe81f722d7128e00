"""A ``fake`` broker plugin for use-case tests: a new :class:`FakeBroker` each time an adapter
is built (as a real plugin does), the newest kept per connection, with failures a test plants."""

from __future__ import annotations

from collections.abc import Callable

from tradecore.domain import BrokerConnection, OAuthTokens
from tradecore.ports import BrokerContext, BrokerFactory, BrokerPort, SecretSpec, SettingSpec
from tradecore.testing import FakeBroker, FakeClock

__all__ = ["FakeVenue"]


class FakeVenue:
    """A ``fake`` broker plugin with one optional setting (``region``: eu or us) and one
    optional secret (``api_key``).

    :attr:`brokers` holds the newest adapter built per connection id; :meth:`fail` plants a
    failure in every adapter built from then on; :attr:`refuse` may refuse a connection.
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.brokers: dict[str, FakeBroker] = {}
        self.refuse: Callable[[BrokerConnection], None] | None = None
        self._failures: list[tuple[str, BaseException]] = []
        self.renewed: dict[str, OAuthTokens] = {}
        """Per connection id: the tokens its adapters' ``refresh_auth_token`` returns."""
        self.setup: dict[str, Callable[[FakeBroker], None]] = {}
        """Per connection id: what to put in each new adapter of that connection."""

    def fail(self, method: str, exc: BaseException) -> None:
        """Make ``method`` raise ``exc`` in every adapter built from now on."""
        self._failures.append((method, exc))

    def create(self, connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
        if self.refuse is not None:
            self.refuse(connection)
        broker = FakeBroker(
            clock=self.clock, connection_id=connection.id, tokens=self.renewed.get(connection.id)
        )
        for method, exc in self._failures:
            broker.fail(method, exc)
        if connection.id in self.setup:
            self.setup[connection.id](broker)
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
