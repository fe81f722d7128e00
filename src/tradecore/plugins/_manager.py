"""Building the plugin manager: specs, entry points, blocking, validation. Never at import time."""

from __future__ import annotations

import difflib
import importlib.metadata
from collections import defaultdict
from collections.abc import Callable, Iterable

import pluggy

from tradecore.errors import PluginError
from tradecore.plugins import hookspecs
from tradecore.plugins._labels import (
    error_summary,
    in_process_name,
    plugin_label,
    registered_label,
)
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
        name, or a plugin implements a hook that does not exist or with arguments the hook does
        not have. The message names the plugin and its distribution (and version) in one line.
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
    _check_hook_names(pm)
    if trace is not None:
        pm.trace.root.setwriter(trace)
        pm.enable_tracing()
    return pm


def _register(pm: pluggy.PluginManager, plugin: object, name: str | None) -> None:
    try:
        pm.register(plugin, name=name)
    except (ValueError, pluggy.PluginValidationError) as exc:
        label = plugin_label(name or in_process_name(plugin), None, None)
        raise PluginError(f"{label} cannot be registered: {error_summary(exc)}") from exc


def _check_hook_names(pm: pluggy.PluginManager) -> None:
    # pluggy's own check (check_pending) names the plugin by its repr; this one by its name and
    # distribution, with the hook it most likely meant.
    known = sorted(name for name in vars(hookspecs) if name.startswith("tradecore_"))
    for hook_name in sorted(vars(pm.hook)):
        if hook_name.startswith("_"):
            continue
        caller: pluggy.HookCaller = getattr(pm.hook, hook_name)
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            meant = difflib.get_close_matches(hook_name, known, n=1)
            hint = f"did you mean {meant[0]}?" if meant else f"the hooks are {', '.join(known)}"
            raise PluginError(
                f"{registered_label(pm, impl.plugin)} implements {hook_name}, "
                f"which is not a tradecore hook; {hint}"
            )
    pm.check_pending()  # nothing left for it to find; kept as pluggy's own safety net


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
        version = entry_point.dist.version if entry_point.dist is not None else None
        label = plugin_label(name, dist, version)
        try:
            plugin = entry_point.load()  # imported once: pluggy's load below reuses it
        except Exception as exc:
            raise PluginError(
                f"{label} failed to import its module {entry_point.value}: {error_summary(exc)}"
            ) from exc
        if (other := pm.get_name(plugin)) is not None:
            raise PluginError(
                f"{label} names {entry_point.value}, which is already loaded as plugin "
                f"{other!r}; declare each plugin module under one name"
            )
        try:
            pm.load_setuptools_entrypoints(ENTRYPOINT_GROUP, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"{label} has an invalid hook implementation: {error_summary(exc)}"
            ) from exc
        except Exception as exc:
            raise PluginError(f"{label} failed to load: {error_summary(exc)}") from exc
