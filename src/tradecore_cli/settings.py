"""Read the environment into the frozen :class:`~tradecore_adapters.settings.Settings`.

This is the only place tradecore reads environment variables.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import click

from tradecore.domain import (
    DEFAULT_FREQUENCY_MINUTES,
    MAX_FREQUENCY_MINUTES,
    MIN_FREQUENCY_MINUTES,
)
from tradecore.errors import ConfigurationError
from tradecore_adapters.settings import Settings

__all__ = ["load_settings", "settings_of"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


def _names(raw: str | None) -> tuple[str, ...]:
    return tuple(name.strip() for name in (raw or "").split(",") if name.strip())


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be 1/0, true/false, yes/no or on/off; got {raw!r}")


def _frequency(environ: Mapping[str, str]) -> int:
    raw = environ.get("AUTOMATION_DEFAULT_FREQUENCY", "").strip()
    if not raw:
        return DEFAULT_FREQUENCY_MINUTES
    try:
        minutes = int(raw)
    except ValueError:
        minutes = -1
    if not MIN_FREQUENCY_MINUTES <= minutes <= MAX_FREQUENCY_MINUTES:
        raise ConfigurationError(
            f"AUTOMATION_DEFAULT_FREQUENCY must be a whole number of minutes from "
            f"{MIN_FREQUENCY_MINUTES} to {MAX_FREQUENCY_MINUTES}; got {raw!r}"
        )
    return minutes


def _log_level(environ: Mapping[str, str]) -> str:
    level = environ.get("AUTOMATION_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if level not in _LEVELS or not isinstance(logging.getLevelName(level), int):
        raise ConfigurationError(
            f"AUTOMATION_LOG_LEVEL must be one of {', '.join(_LEVELS)}; got {level!r}"
        )
    return level


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build :class:`Settings` from ``environ``.

    :raises ConfigurationError: a variable has a value tradecore cannot use; the message names it.
    """
    allowed = environ.get("TRADECORE_PLUGINS")
    return Settings(
        default_frequency_minutes=_frequency(environ),
        log_level=_log_level(environ),
        disabled_plugins=_names(environ.get("TRADECORE_DISABLE_PLUGINS")),
        allowed_plugins=None if allowed is None else _names(allowed),
        trace_plugins=_flag(environ, "TRADECORE_TRACE_PLUGINS"),
    )


def settings_of(ctx: click.Context) -> Settings:
    """The settings of the command's environment, read once per invocation."""
    root = ctx.find_root()
    if "settings" not in root.obj:
        root.obj["settings"] = load_settings(root.obj["environ"])
    settings: Settings = root.obj["settings"]
    return settings
