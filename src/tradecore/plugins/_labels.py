"""How plugin errors name a plugin: its name and the distribution (and version) it comes from."""

from __future__ import annotations

import types

import pluggy

__all__ = ["error_summary", "in_process_name", "plugin_label", "registered_label"]


def plugin_label(name: str, distribution: str | None, version: str | None) -> str:
    """``plugin 'acme' (tradecore-acme 1.2.0)``; ``(in-process)`` for a plugin registered by code."""
    if distribution is None:
        return f"plugin {name!r} (in-process)"
    return (
        f"plugin {name!r} ({distribution} {version})"
        if version
        else f"plugin {name!r} ({distribution})"
    )


def registered_label(pm: pluggy.PluginManager, plugin: object) -> str:
    """The label of a plugin already registered in ``pm``, found by identity."""
    name = pm.get_name(plugin)
    if name is None or name == str(id(plugin)):  # pluggy names an unnamed instance by its id
        name = in_process_name(plugin)
    for registered, dist in pm.list_plugin_distinfo():
        if registered is plugin:
            return plugin_label(name, str(dist.project_name), str(dist.version))
    return plugin_label(name, None, None)


def in_process_name(plugin: object) -> str:
    """A readable name for a plugin object registered without one (never its repr)."""
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    kind = plugin if isinstance(plugin, type) else type(plugin)
    return f"{kind.__module__}.{kind.__qualname__}"


def error_summary(exc: BaseException) -> str:
    """``ErrorType: first line of its message``: one line, never a traceback."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    message = "; ".join(lines)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
