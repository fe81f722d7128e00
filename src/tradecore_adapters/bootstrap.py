"""The composition root: settings in, a wired application out. Nothing here runs at import."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from attrs import define

from tradecore.plugins import NotifierContext, PluginRegistry, get_plugin_manager
from tradecore.ports import Clock, NotifierPort, RepositoryPort
from tradecore.services import AutomationCycle
from tradecore_adapters.settings import Settings

__all__ = ["Application", "bootstrap", "load_plugins"]


@define(kw_only=True)
class Application:
    """The wired application: what every command uses.

    Close it with :meth:`aclose` (or ``async with``) to release the repository.
    """

    settings: Settings
    registry: PluginRegistry
    repository: RepositoryPort
    clock: Clock
    notifiers: tuple[NotifierPort, ...]
    cycle: AutomationCycle

    async def aclose(self) -> None:
        """Release the repository's resources."""
        await self.repository.aclose()

    async def __aenter__(self) -> Application:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def load_plugins(
    settings: Settings,
    *,
    plugins: Iterable[object | tuple[str, object]] = (),
    load_entrypoints: bool = True,
    trace: TextIO | None = None,
) -> PluginRegistry:
    """Load the installed plugins as ``settings`` say (blocked, allowed, traced).

    :param trace: where the hook-call trace goes when ``settings.trace_plugins`` (standard error
        by default).
    :raises PluginError: a plugin is broken or two provide the same name.
    """
    writer = (trace or sys.stderr).write if settings.trace_plugins else None
    manager = get_plugin_manager(
        load_entrypoints=load_entrypoints,
        plugins=plugins,
        blocked=settings.disabled_plugins,
        allowed=settings.allowed_plugins,
        trace=writer,
    )
    return PluginRegistry.from_manager(manager)


def bootstrap(
    settings: Settings,
    *,
    repository: RepositoryPort | None = None,
    clock: Clock | None = None,
    notifiers: Sequence[NotifierPort] | None = None,
    plugins: Iterable[object | tuple[str, object]] = (),
    load_entrypoints: bool = True,
    stream: TextIO | None = None,
    trace: TextIO | None = None,
) -> Application:
    """Wire the application from ``settings``; any part can be replaced (tests pass fakes).

    :param plugins: extra plugin objects to register besides the installed ones.
    :param load_entrypoints: load the installed plugins (``False`` in isolated tests).
    :param stream: where terminal notifiers write (standard output by default).
    :param trace: where the plugin hook-call trace goes when ``settings.trace_plugins``.
    :raises PluginError: a plugin is broken or a configured notifier is not installed.
    """
    registry = load_plugins(
        settings, plugins=plugins, load_entrypoints=load_entrypoints, trace=trace
    )
    if clock is None:
        from tradecore_adapters.clock import SystemClock

        clock = SystemClock()
    if repository is None:
        from tradecore_adapters.memory import MemoryRepository

        repository = MemoryRepository()
    if notifiers is None:
        context = NotifierContext(clock=clock, stream=stream)
        notifiers = [registry.notifier(name).create(context) for name in settings.notifiers]
    cycle = AutomationCycle(
        repository=repository,
        clock=clock,
        brokers=registry.brokers,
        strategies=registry.strategies,
        notifiers=tuple(notifiers),
        max_concurrent_connections=settings.max_concurrent_connections,
    )
    return Application(
        settings=settings,
        registry=registry,
        repository=repository,
        clock=clock,
        notifiers=tuple(notifiers),
        cycle=cycle,
    )
