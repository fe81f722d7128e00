"""The application's settings: plain, frozen data. Only ``tradecore_cli`` reads the environment
to build it (see ``tradecore_cli.settings``)."""

from __future__ import annotations

from collections.abc import Iterable

from attrs import field, frozen

from tradecore.domain import DEFAULT_FREQUENCY_MINUTES

__all__ = ["Settings"]


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _optional_names(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


@frozen(kw_only=True)
class Settings:
    """Everything the composition root needs to wire the application.

    :param default_frequency_minutes: ``AUTOMATION_DEFAULT_FREQUENCY``.
    :param log_level: ``AUTOMATION_LOG_LEVEL``.
    :param disabled_plugins: ``TRADECORE_DISABLE_PLUGINS``: plugin names never loaded.
    :param allowed_plugins: ``TRADECORE_PLUGINS``: when set, only these entry-point plugins load.
    :param trace_plugins: ``TRADECORE_TRACE_PLUGINS``: print pluggy's hook-call trace.
    :param notifiers: the notifiers every digest goes to.
    :param max_concurrent_connections: how many connections of one user sync at once.
    """

    default_frequency_minutes: int = DEFAULT_FREQUENCY_MINUTES
    log_level: str = "INFO"
    disabled_plugins: tuple[str, ...] = field(default=(), converter=_names)
    allowed_plugins: tuple[str, ...] | None = field(default=None, converter=_optional_names)
    trace_plugins: bool = False
    notifiers: tuple[str, ...] = field(default=("console",), converter=_names)
    max_concurrent_connections: int = 4
