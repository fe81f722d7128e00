"""The plugin contract: everything a plugin author imports comes from here.

A plugin is a module declared in the ``tradecore.plugins`` entry-point group of its distribution::

    [project.entry-points."tradecore.plugins"]
    acme = "tradecore_acme.plugin"

whose hook implementations return factories::

    from tradecore.plugins import BrokerFactory, hookimpl

    @hookimpl
    def tradecore_register_brokers() -> list[BrokerFactory]:
        return [BrokerFactory(name="acme", description="Acme Bank", create=AcmeBroker.create)]

See ``docs/plugins/writing.md``.
"""

from __future__ import annotations

from tradecore.plugins._manager import get_plugin_manager
from tradecore.plugins._markers import ENTRYPOINT_GROUP, PROJECT_NAME, hookimpl
from tradecore.plugins._registry import PluginInfo, PluginRegistry
from tradecore.ports.cache import BrokerCache
from tradecore.ports.factories import (
    BrokerContext,
    BrokerFactory,
    NotifierContext,
    NotifierFactory,
    SecretSpec,
    SettingSpec,
    StrategyFactory,
)
from tradecore.ports.parameters import ParameterKind, ParameterValues, StrategyParameter

__all__ = [
    "ENTRYPOINT_GROUP",
    "PROJECT_NAME",
    "BrokerCache",
    "BrokerContext",
    "BrokerFactory",
    "NotifierContext",
    "NotifierFactory",
    "ParameterKind",
    "ParameterValues",
    "PluginInfo",
    "PluginRegistry",
    "SecretSpec",
    "SettingSpec",
    "StrategyFactory",
    "StrategyParameter",
    "get_plugin_manager",
    "hookimpl",
]
