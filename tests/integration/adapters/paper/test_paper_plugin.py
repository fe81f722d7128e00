"""The paper broker is a plugin like any other: found through its entry point, built by its factory."""

from __future__ import annotations

from datetime import UTC, datetime

from tradecore.domain import BrokerConnection
from tradecore.plugins import BrokerContext, PluginRegistry, get_plugin_manager
from tradecore.ports import BrokerPort
from tradecore.testing import FakeClock
from tradecore_adapters.paper import plugin
from tradecore_adapters.paper.broker import PaperBroker

CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_the_entry_point_provides_the_paper_broker_with_its_settings() -> None:
    registry = PluginRegistry.from_manager(get_plugin_manager(allowed=["paper"]))
    factory = registry.broker("paper")
    assert [spec.name for spec in factory.settings] == [
        "seed",
        "currency",
        "starting_cash",
        "history_days",
        "activity_minutes",
    ]
    assert all(spec.default is not None for spec in factory.settings)
    assert factory.secrets == ()
    info = next(p for p in registry.plugins if "paper" in p.brokers)
    assert info.distribution == "tradecore"


def test_the_factory_builds_a_broker_port_from_a_connection_without_settings() -> None:
    registry = PluginRegistry.from_manager(
        get_plugin_manager(load_entrypoints=False, plugins=[("paper", plugin)])
    )
    connection = BrokerConnection(user_id="user-1", broker="paper", name="demo", created_at=CREATED)
    broker = registry.broker("paper").create(connection, BrokerContext(clock=FakeClock(CREATED)))
    assert isinstance(broker, PaperBroker)
    assert isinstance(broker, BrokerPort)
    assert (broker.info.name, broker.info.display_name) == ("paper", "Paper (simulated)")
