"""The command line's settings: the environment read once per invocation (by
:func:`tradecore_adapters.bootstrap.settings_from_environment`), with logging set up from them and
raised by ``-v``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import click
from attrs import evolve

from tradecore.errors import ConfigurationError

if TYPE_CHECKING:
    from tradecore_adapters.bootstrap import Settings

__all__ = ["apply_verbosity", "load_settings", "settings_of", "verbosity_level"]


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build :class:`Settings` from an environment mapping (the command line's name for
    :func:`~tradecore_adapters.bootstrap.settings_from_environment`, imported on first use so
    that a command's ``--help`` does not load the adapters).

    :raises ConfigurationError: a variable has a value tradecore cannot use (named).
    """
    from tradecore_adapters.bootstrap import settings_from_environment

    return settings_from_environment(environ)


def _configure_logging(settings: Settings) -> None:
    from tradecore_adapters.bootstrap import configure_logging

    try:
        configure_logging(
            settings.log_level,
            log_file=settings.log_file,
            max_bytes=settings.log_max_bytes,
            backups=settings.log_backups,
        )
    except ConfigurationError as exc:
        raise ConfigurationError(f"AUTOMATION_LOG_FILE: {exc}") from None


def settings_of(ctx: click.Context) -> Settings:
    """The settings of the command's environment, read once per invocation (which also sets up
    logging at ``AUTOMATION_LOG_LEVEL``, to standard error and ``AUTOMATION_LOG_FILE``, through
    the redacting filter)."""
    root = ctx.find_root()
    if "settings" not in root.obj:
        loaded = load_settings(root.obj["environ"])
        _configure_logging(loaded)
        root.obj["settings"] = loaded
    settings: Settings = root.obj["settings"]
    return settings


def verbosity_level(base: str, verbose: int) -> str:
    """The log level for a command given ``-v`` ``verbose`` times: ``-v`` shows ``INFO``, ``-vv``
    (or more) ``DEBUG``; never less than ``base`` (``AUTOMATION_LOG_LEVEL``) shows."""
    from tradecore_adapters.bootstrap import LOG_LEVELS

    wanted = "DEBUG" if verbose >= 2 else "INFO" if verbose == 1 else base
    return wanted if LOG_LEVELS.index(wanted) > LOG_LEVELS.index(base) else base


def apply_verbosity(ctx: click.Context, verbose: int) -> str:
    """Raise the log level of this invocation for a command's ``-v`` flags (see
    :func:`verbosity_level`) and return the level in effect; ``settings_of`` then reports it as
    ``log_level``. Without ``-v`` nothing changes."""
    settings = settings_of(ctx)
    level = verbosity_level(settings.log_level, verbose)
    if level != settings.log_level:
        settings = evolve(settings, log_level=level)
        _configure_logging(settings)
        ctx.find_root().obj["settings"] = settings
    return level
