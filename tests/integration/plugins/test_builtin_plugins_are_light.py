"""The built-in plugin modules load without their adapters: a broker or notifier module (and its
HTTP stack) is imported when a connection or target of that type is built, not when the plugins
are discovered. Each check runs in a fresh interpreter, so nothing imported by another test counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

from tradecore import BrokerConnection, Secret
from tradecore.plugins import BrokerContext, PluginRegistry, get_plugin_manager
from tradecore.testing import FakeClock

# Loaded only by the adapter a connection or target uses.
ADAPTER_MODULES = (
    "httpx",
    "httpcore",
    "tenacity",
    "telegram",
    "rich",
    "cryptography.hazmat.primitives.serialization",
    "tradecore_adapters.binance.broker",
    "tradecore_adapters.saxo.broker",
    "tradecore_adapters.saxo.login",
    "tradecore_adapters.paper.broker",
    "tradecore_adapters.telegram.notifier",
    "tradecore_adapters.console.notifier",
)

DISCOVER = """
import json, sys
from tradecore.plugins import PluginRegistry, get_plugin_manager
registry = PluginRegistry.from_manager(get_plugin_manager())
names = {"brokers": sorted(registry.brokers), "notifiers": sorted(registry.notifiers)}
if sys.argv[1:]:
    from datetime import UTC, datetime
    from tradecore import BrokerConnection, Secret
    from tradecore.plugins import BrokerContext
    from tradecore.testing import FakeClock
    secrets = {"api_key": Secret("key"), "api_secret": Secret("secret")}
    connection = BrokerConnection(
        user_id="u", broker=sys.argv[1], name="c", created_at=datetime(2026, 1, 1, tzinfo=UTC),
        secrets=secrets if sys.argv[1] == "binance" else {},
    )
    registry.broker(sys.argv[1]).create(connection, BrokerContext(clock=FakeClock()))
print(json.dumps({"names": names, "modules": sorted(sys.modules)}))
"""


def discover(*build: str) -> tuple[dict[str, list[str]], set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", DISCOVER, *build],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer = json.loads(done.stdout)
    return answer["names"], set(answer["modules"])


def test_discovering_every_plugin_imports_no_adapter() -> None:
    names, modules = discover()
    assert {"binance", "paper", "saxo", "dummy"} <= set(names["brokers"])
    assert {"console", "telegram"} <= set(names["notifiers"])
    assert sorted(modules & set(ADAPTER_MODULES)) == []


def test_building_a_paper_broker_imports_the_paper_adapter_only() -> None:
    _, modules = discover("paper")
    assert "tradecore_adapters.paper.broker" in modules
    assert sorted(modules & {"httpx", "tradecore_adapters.binance.broker", "tenacity"}) == []


def test_building_a_binance_broker_imports_its_adapter() -> None:
    _, modules = discover("binance")
    assert {"tradecore_adapters.binance.broker", "httpx"} <= modules
    assert "tradecore_adapters.saxo.broker" not in modules


KEYS = {"api_key": "key", "api_secret": "secret"}
SAXO = {"app_key": "app"}


def connection(
    broker: str, name: str, settings: dict[str, str] | None = None, **secrets: str
) -> BrokerConnection:
    return BrokerConnection(
        user_id="u",
        broker=broker,
        name=name,
        settings=settings or {},
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        secrets={key: Secret(value) for key, value in secrets.items()},
    )


def test_a_factory_shares_one_binance_hosts_and_one_saxo_cache_between_its_brokers() -> None:
    registry = PluginRegistry.from_manager(get_plugin_manager())
    context = BrokerContext(clock=FakeClock())
    binance = registry.broker("binance")
    first = binance.create(connection("binance", "a", **KEYS), context)
    second = binance.create(connection("binance", "b", **KEYS), context)
    assert first._client._hosts is second._client._hosts  # type: ignore[attr-defined]
    saxo = registry.broker("saxo")
    one = saxo.create(connection("saxo", "a", SAXO), context)
    two = saxo.create(connection("saxo", "b", SAXO), context)
    assert one._cache is two._cache  # type: ignore[attr-defined]
    other = PluginRegistry.from_manager(get_plugin_manager()).broker("binance")
    third = other.create(connection("binance", "c", **KEYS), context)
    assert third._client._hosts is not first._client._hosts  # type: ignore[attr-defined]
