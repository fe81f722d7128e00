"""A typed view of what the installed plugins provide, so services never touch ``pm.hook``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

import pluggy
from attrs import field, frozen

from tradecore.errors import PluginError
from tradecore.plugins._labels import error_summary, plugin_label
from tradecore.ports.factories import BrokerFactory, NotifierFactory, StrategyFactory

__all__ = ["PluginInfo", "PluginRegistry"]

_F = TypeVar("_F", BrokerFactory, NotifierFactory, StrategyFactory)


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@frozen(kw_only=True)
class PluginInfo:
    """One registered plugin and what it provides.

    :param distribution: the installed distribution it comes from (``None`` when it was
        registered in-process rather than through an entry point).
    """

    name: str
    distribution: str | None = None
    version: str | None = None
    brokers: tuple[str, ...] = field(default=(), converter=_names)
    notifiers: tuple[str, ...] = field(default=(), converter=_names)
    strategies: tuple[str, ...] = field(default=(), converter=_names)

    @property
    def source(self) -> str:
        """``distribution version``, or ``(in-process)`` for plugins registered by code."""
        if self.distribution is None:
            return "(in-process)"
        return f"{self.distribution} {self.version}" if self.version else self.distribution


def _distributions(pm: pluggy.PluginManager) -> dict[int, tuple[str, str]]:
    found: dict[int, tuple[str, str]] = {}
    for plugin, dist in pm.list_plugin_distinfo():
        found[id(plugin)] = (str(dist.project_name), str(dist.version))
    return found


class PluginRegistry:
    """Brokers, notifiers and strategies by name, with the plugin that provides each.

    Build it with :meth:`from_manager`; names are unique per kind, a duplicate is a
    :class:`~tradecore.errors.PluginError` naming both plugins and their distributions.
    """

    def __init__(
        self,
        *,
        plugins: Sequence[PluginInfo],
        brokers: Mapping[str, BrokerFactory],
        notifiers: Mapping[str, NotifierFactory],
        strategies: Mapping[str, StrategyFactory],
    ) -> None:
        self._plugins = tuple(plugins)
        self._brokers = MappingProxyType(dict(brokers))
        self._notifiers = MappingProxyType(dict(notifiers))
        self._strategies = MappingProxyType(dict(strategies))

    @classmethod
    def from_manager(cls, pm: pluggy.PluginManager) -> PluginRegistry:
        """Ask every registered plugin what it provides.

        :raises PluginError: a hook raised, returned something else than a list of factories,
            or two plugins registered the same name.
        """
        dists = _distributions(pm)
        infos: dict[str, dict[str, Any]] = {}
        for name, plugin in pm.list_name_plugin():
            if plugin is None:  # a blocked name: pluggy keeps it registered as None
                continue
            dist, version = dists.get(id(plugin), (None, None))
            infos[name] = {"name": name, "distribution": dist, "version": version}

        def describe(plugin_name: str) -> str:
            info = infos.get(plugin_name, {})
            return plugin_label(plugin_name, info.get("distribution"), info.get("version"))

        def collect(
            hook_name: str, kind: str, plural: str, factory_type: type[_F]
        ) -> dict[str, _F]:
            owners: dict[str, str] = {}
            collected: dict[str, _F] = {}
            registered = [plugin for _, plugin in pm.list_name_plugin() if plugin is not None]
            for impl in getattr(pm.hook, hook_name).get_hookimpls():
                plugin_name = impl.plugin_name
                # Call one plugin at a time through pluggy (so tracing sees it) to know who
                # provided what; pluggy drops a None result, which is reported as such.
                others = [plugin for plugin in registered if plugin is not impl.plugin]
                try:
                    answers = pm.subset_hook_caller(hook_name, remove_plugins=others)()
                    result = answers[0] if answers else None
                except Exception as exc:
                    raise PluginError(
                        f"{describe(plugin_name)} raised in {hook_name}: {error_summary(exc)}"
                    ) from exc
                if not isinstance(result, list | tuple):
                    raise PluginError(
                        f"{describe(plugin_name)}: {hook_name} must return a list, "
                        f"got {type(result).__name__}"
                    )
                for factory in result:
                    if not isinstance(factory, factory_type):
                        raise PluginError(
                            f"{describe(plugin_name)}: {hook_name} returned "
                            f"{type(factory).__name__}, expected {factory_type.__name__}"
                        )
                    if factory.name in collected:
                        raise PluginError(
                            f"{kind} {factory.name!r} is registered twice: by "
                            f"{describe(owners[factory.name])} and by {describe(plugin_name)}; "
                            "uninstall one or block it with TRADECORE_DISABLE_PLUGINS"
                        )
                    owners[factory.name] = plugin_name
                    collected[factory.name] = factory
                    infos.setdefault(plugin_name, {"name": plugin_name}).setdefault(
                        plural, []
                    ).append(factory.name)
            return collected

        brokers = collect("tradecore_register_brokers", "broker", "brokers", BrokerFactory)
        notifiers = collect(
            "tradecore_register_notifiers", "notifier", "notifiers", NotifierFactory
        )
        strategies = collect(
            "tradecore_register_strategies", "strategy", "strategies", StrategyFactory
        )
        plugins = [PluginInfo(**info) for _, info in sorted(infos.items())]
        return cls(plugins=plugins, brokers=brokers, notifiers=notifiers, strategies=strategies)

    @property
    def plugins(self) -> tuple[PluginInfo, ...]:
        """Every registered plugin, by name."""
        return self._plugins

    @property
    def brokers(self) -> Mapping[str, BrokerFactory]:
        """Broker factories by broker name."""
        return self._brokers

    @property
    def notifiers(self) -> Mapping[str, NotifierFactory]:
        """Notifier factories by notifier name."""
        return self._notifiers

    @property
    def strategies(self) -> Mapping[str, StrategyFactory]:
        """Strategy factories by strategy type."""
        return self._strategies

    def broker(self, name: str) -> BrokerFactory:
        """Return the broker factory called ``name``.

        :raises PluginError: no installed plugin provides it (the message lists those that do).
        """
        return _lookup(self._brokers, name, "broker")

    def notifier(self, name: str) -> NotifierFactory:
        """Return the notifier factory called ``name``. :raises PluginError: unknown."""
        return _lookup(self._notifiers, name, "notifier")

    def strategy(self, name: str) -> StrategyFactory:
        """Return the strategy factory called ``name``. :raises PluginError: unknown."""
        return _lookup(self._strategies, name, "strategy")


def _lookup(factories: Mapping[str, _F], name: str, kind: str) -> _F:
    try:
        return factories[name]
    except KeyError:
        known = ", ".join(sorted(factories)) or "none installed"
        raise PluginError(f"unknown {kind} {name!r}; available: {known}") from None
