"""One test per hook (``test_hook_<hook name>``, checked by tests/unit/test_hookspecs_documented.py),
plus what happens when a hook returns the wrong thing. In-process plugins only: no entry points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from tradecore.errors import PluginError
from tradecore.plugins import (
    BrokerFactory,
    NotifierFactory,
    PluginRegistry,
    StrategyFactory,
    get_plugin_manager,
    hookimpl,
)


def unused(*args: Any) -> Any:
    raise AssertionError("the registry must not build anything")


def registry_with(plugin: object, name: str = "testplugin") -> PluginRegistry:
    return PluginRegistry.from_manager(
        get_plugin_manager(load_entrypoints=False, plugins=[(name, plugin)])
    )


def test_hook_tradecore_register_brokers() -> None:
    factory = BrokerFactory(name="acme", description="Acme Bank", create=unused)

    class Plugin:
        @hookimpl
        def tradecore_register_brokers(self) -> list[BrokerFactory]:
            return [factory]

    registry = registry_with(Plugin())

    assert registry.brokers == {"acme": factory}
    assert registry.broker("acme") is factory
    (info,) = registry.plugins
    assert (info.name, info.brokers, info.source) == ("testplugin", ("acme",), "(in-process)")


def test_hook_tradecore_register_notifiers() -> None:
    factory = NotifierFactory(name="pager", description="Pages someone", create=unused)

    class Plugin:
        @hookimpl
        def tradecore_register_notifiers(self) -> list[NotifierFactory]:
            return [factory]

    registry = registry_with(Plugin())

    assert registry.notifiers == {"pager": factory}
    assert registry.notifier("pager") is factory
    assert registry.plugins[0].notifiers == ("pager",)


def test_hook_tradecore_register_strategies() -> None:
    factory = StrategyFactory(name="dca", description="Dollar-cost averaging", create=unused)

    class Plugin:
        @hookimpl
        def tradecore_register_strategies(self) -> list[StrategyFactory]:
            return [factory]

    registry = registry_with(Plugin())

    assert registry.strategies == {"dca": factory}
    assert registry.strategy("dca") is factory
    assert registry.plugins[0].strategies == ("dca",)


def test_plugin_implementing_only_some_hooks_contributes_nothing_else() -> None:
    class Plugin:
        @hookimpl
        def tradecore_register_strategies(self) -> list[StrategyFactory]:
            return []

    registry = registry_with(Plugin())

    assert (registry.brokers, registry.notifiers, registry.strategies) == ({}, {}, {})


def test_unknown_broker_name_is_a_plugin_error_listing_the_known_ones() -> None:
    class Plugin:
        @hookimpl
        def tradecore_register_brokers(self) -> list[BrokerFactory]:
            return [BrokerFactory(name="acme", description="Acme", create=unused)]

    with pytest.raises(PluginError, match="unknown broker 'nope'; available: acme"):
        registry_with(Plugin()).broker("nope")


@pytest.mark.parametrize(
    "returned",
    [
        pytest.param(BrokerFactory(name="acme", description="Acme", create=unused), id="bare"),
        pytest.param(None, id="none"),
        pytest.param({"acme": "factory"}, id="dict"),
        pytest.param([NotifierFactory(name="x", description="x", create=unused)], id="notifier"),
        pytest.param(["acme"], id="str"),
    ],
)
def test_hook_returning_anything_but_a_list_of_factories_is_a_plugin_error(
    returned: Sequence[object],
) -> None:
    class Plugin:
        @hookimpl
        def tradecore_register_brokers(self) -> Sequence[object]:
            return returned

    with pytest.raises(PluginError, match=r"'sloppy'.*tradecore_register_brokers"):
        registry_with(Plugin(), name="sloppy")


def test_hook_raising_is_a_plugin_error_naming_the_plugin() -> None:
    class Plugin:
        @hookimpl
        def tradecore_register_notifiers(self) -> list[NotifierFactory]:
            raise KeyError("missing")

    with pytest.raises(PluginError, match=r"'fragile'.*KeyError"):
        registry_with(Plugin(), name="fragile")


def test_in_process_plugin_implementing_an_unknown_hook_is_a_plugin_error() -> None:
    class Plugin:
        @hookimpl
        def tradecore_register_exchanges(self) -> list[object]:
            return []

    with pytest.raises(PluginError, match="tradecore_register_exchanges"):
        get_plugin_manager(load_entrypoints=False, plugins=[Plugin()])


def test_same_broker_name_from_two_in_process_plugins_names_both() -> None:
    class Plugin:
        @hookimpl
        def tradecore_register_brokers(self) -> list[BrokerFactory]:
            return [BrokerFactory(name="acme", description="Acme", create=unused)]

    pm = get_plugin_manager(load_entrypoints=False, plugins=[("one", Plugin()), ("two", Plugin())])

    with pytest.raises(PluginError, match=r"'acme'.*'one'.*'two'"):
        PluginRegistry.from_manager(pm)
