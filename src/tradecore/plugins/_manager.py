"""Building the plugin manager: specs, entry points, blocking, validation. Never at import time."""

from __future__ import annotations

import importlib.metadata
from collections import defaultdict
from collections.abc import Callable, Iterable

import pluggy

from tradecore.errors import PluginError
from tradecore.plugins import hookspecs
from tradecore.plugins._markers import ENTRYPOINT_GROUP, PROJECT_NAME

__all__ = ["get_plugin_manager"]


def get_plugin_manager(
    *,
    load_entrypoints: bool = True,
    plugins: Iterable[object | tuple[str, object]] = (),
    blocked: Iterable[str] = (),
    allowed: Iterable[str] | None = None,
    trace: Callable[[str], object] | None = None,
) -> pluggy.PluginManager:
    """Build a plugin manager with the tradecore hooks and the installed plugins.

    :param load_entrypoints: load the plugins declared in the ``tradecore.plugins`` entry-point
        group (the built-in ones included). Tests pass ``False`` and their own ``plugins``.
    :param plugins: plugin objects (modules or instances) to register first, each optionally as
        a ``(name, plugin)`` pair.
    :param blocked: plugin names never to load (``TRADECORE_DISABLE_PLUGINS``).
    :param allowed: when given, only entry-point plugins with these names are loaded
        (``TRADECORE_PLUGINS``).
    :param trace: a writer receiving pluggy's hook-call trace (``TRADECORE_TRACE_PLUGINS``).
    :raises PluginError: a plugin fails to import, two distributions declare the same plugin
        name, or a plugin implements a hook that does not exist.
    """
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    for entry in plugins:
        name, plugin = entry if isinstance(entry, tuple) else (None, entry)
        if name is not None and pm.is_blocked(name):
            continue
        _register(pm, plugin, name)
    if load_entrypoints:
        _load_entrypoints(pm, None if allowed is None else frozenset(allowed))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r} is invalid: {exc}") from exc
    if trace is not None:
        pm.trace.root.setwriter(trace)
        pm.enable_tracing()
    return pm


def _register(pm: pluggy.PluginManager, plugin: object, name: str | None) -> None:
    try:
        pm.register(plugin, name=name)
    except (ValueError, pluggy.PluginValidationError) as exc:
        raise PluginError(f"cannot register plugin {name or plugin!r}: {exc}") from exc


def _entrypoints_by_name() -> dict[str, dict[str, importlib.metadata.EntryPoint]]:
    # name -> {distribution name -> entry point}; one distribution found twice on sys.path counts once.
    found: dict[str, dict[str, importlib.metadata.EntryPoint]] = defaultdict(dict)
    for entry_point in importlib.metadata.entry_points(group=ENTRYPOINT_GROUP):
        dist = entry_point.dist.name if entry_point.dist is not None else "?"
        found[entry_point.name].setdefault(dist, entry_point)
    return found


def _load_entrypoints(pm: pluggy.PluginManager, allowed: frozenset[str] | None) -> None:
    for name, by_dist in sorted(_entrypoints_by_name().items()):
        if allowed is not None and name not in allowed:
            continue
        if pm.is_blocked(name) or pm.has_plugin(name):
            continue
        if len(by_dist) > 1:
            raise PluginError(
                f"plugin name {name!r} is declared by several distributions: "
                f"{', '.join(sorted(by_dist))}; uninstall one or block it with "
                "TRADECORE_DISABLE_PLUGINS"
            )
        ((dist, entry_point),) = by_dist.items()
        try:
            pm.load_setuptools_entrypoints(ENTRYPOINT_GROUP, name=name)
        except Exception as exc:
            raise PluginError(
                f"plugin {name!r} ({entry_point.value}) from distribution {dist} failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
