"""Read the environment into the frozen :class:`~tradecore_adapters.settings.Settings`: the one
reading of tradecore's environment variables, shared by every front end (the command line, a
web server, Python code opening the application like the command line does). See
``docs/configuration.md`` for each variable.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from tradecore.domain import (
    DEFAULT_FREQUENCY_MINUTES,
    MAX_FREQUENCY_MINUTES,
    MIN_FREQUENCY_MINUTES,
    Secret,
)
from tradecore.errors import ConfigurationError
from tradecore.services import Retention
from tradecore_adapters.logging_setup import DEFAULT_LOG_BACKUPS, DEFAULT_LOG_MAX_BYTES
from tradecore_adapters.settings import (
    DEFAULT_CONCURRENT_CYCLES,
    DEFAULT_IDLE_CHECK_SECONDS,
    DEFAULT_LEASE_SECONDS,
    DEFAULT_SHUTDOWN_GRACE_SECONDS,
    Settings,
    default_home,
)

__all__ = ["LOG_LEVELS", "settings_from_environment"]

_KEEP_ALL = {"none", "off", "never"}
_RETENTION_DAYS = 90
_RETENTION_COUNT = 1000
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
"""The log levels, from the quietest to the most talkative."""
_MIN_LOG_MAX_BYTES = 1024
_MAX_LOG_BACKUPS = 100


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
    if level not in LOG_LEVELS or not isinstance(logging.getLevelName(level), int):
        raise ConfigurationError(
            f"AUTOMATION_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}; got {level!r}"
        )
    return level


def _log_file(environ: Mapping[str, str]) -> Path | None:
    raw = environ.get("AUTOMATION_LOG_FILE", "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if path.is_dir():
        raise ConfigurationError(f"AUTOMATION_LOG_FILE must be a file; {path} is a directory")
    return path.absolute()


def _whole_number(environ: Mapping[str, str], name: str) -> int | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return -1


def _log_max_bytes(environ: Mapping[str, str]) -> int:
    size = _whole_number(environ, "AUTOMATION_LOG_MAX_BYTES")
    if size is None:
        return DEFAULT_LOG_MAX_BYTES
    if size < _MIN_LOG_MAX_BYTES:
        raw = environ["AUTOMATION_LOG_MAX_BYTES"].strip()
        raise ConfigurationError(
            f"AUTOMATION_LOG_MAX_BYTES must be a whole number of bytes, at least "
            f"{_MIN_LOG_MAX_BYTES}; got {raw!r}"
        )
    return size


def _log_backups(environ: Mapping[str, str]) -> int:
    return _bounded(
        environ,
        "AUTOMATION_LOG_BACKUPS",
        default=DEFAULT_LOG_BACKUPS,
        low=0,
        high=_MAX_LOG_BACKUPS,
        unit="files",
    )


def _bounded(
    environ: Mapping[str, str], name: str, *, default: int, low: int, high: int, unit: str
) -> int:
    number = _whole_number(environ, name)
    if number is None:
        return default
    if not low <= number <= high:
        raw = environ[name].strip()
        raise ConfigurationError(
            f"{name} must be a whole number of {unit} from {low} to {high}; got {raw!r}"
        )
    return number


def _optional_bounded(
    environ: Mapping[str, str], name: str, *, default: int, high: int, unit: str
) -> int | None:
    if environ.get(name, "").strip().lower() in _KEEP_ALL:
        return None
    try:
        return _bounded(environ, name, default=default, low=1, high=high, unit=unit)
    except ConfigurationError:
        raw = environ[name].strip()
        raise ConfigurationError(
            f"{name} must be a whole number of {unit} from 1 to {high}, or 'none' to keep "
            f"everything; got {raw!r}"
        ) from None


def _retention(environ: Mapping[str, str]) -> Retention:
    days = _optional_bounded(
        environ,
        "AUTOMATION_RUN_RETENTION_DAYS",
        default=_RETENTION_DAYS,
        high=36_500,
        unit="days",
    )
    count = _optional_bounded(
        environ,
        "AUTOMATION_RUN_RETENTION_COUNT",
        default=_RETENTION_COUNT,
        high=10_000_000,
        unit="runs",
    )
    return Retention(max_age=None if days is None else timedelta(days=days), keep_per_user=count)


def _home(environ: Mapping[str, str]) -> Path:
    raw = environ.get("TRADECORE_HOME", "").strip()
    if not raw:
        return default_home()
    home = Path(raw).expanduser()
    if home.exists() and not home.is_dir():
        raise ConfigurationError(f"TRADECORE_HOME must be a directory; {home} is a file")
    return home.absolute()


def _database_url(environ: Mapping[str, str]) -> str | None:
    raw = environ.get("TRADECORE_DATABASE_URL", "").strip()
    if not raw:
        return None
    from tradecore_adapters.sqlalchemy import database_url

    try:
        database_url(raw)
    except ConfigurationError as exc:
        raise ConfigurationError(f"TRADECORE_DATABASE_URL: {exc}") from None
    return raw


def _secret_keys(environ: Mapping[str, str]) -> Secret | None:
    raw = environ.get("TRADECORE_SECRET_KEY", "").strip()
    return Secret(raw) if raw else None


def settings_from_environment(environ: Mapping[str, str]) -> Settings:
    """Build :class:`Settings` from ``environ``.

    :raises ConfigurationError: a variable has a value tradecore cannot use; the message names it
        (and never shows a key or a password).
    """
    allowed = environ.get("TRADECORE_PLUGINS")
    return Settings(
        home=_home(environ),
        database_url=_database_url(environ),
        secret_keys=_secret_keys(environ),
        default_frequency_minutes=_frequency(environ),
        log_level=_log_level(environ),
        log_file=_log_file(environ),
        log_max_bytes=_log_max_bytes(environ),
        log_backups=_log_backups(environ),
        disabled_plugins=_names(environ.get("TRADECORE_DISABLE_PLUGINS")),
        allowed_plugins=None if allowed is None else _names(allowed),
        trace_plugins=_flag(environ, "TRADECORE_TRACE_PLUGINS"),
        max_concurrent_cycles=_bounded(
            environ,
            "AUTOMATION_MAX_CONCURRENT_CYCLES",
            default=DEFAULT_CONCURRENT_CYCLES,
            low=1,
            high=64,
            unit="cycles",
        ),
        lease_seconds=_bounded(
            environ,
            "AUTOMATION_LEASE_SECONDS",
            default=DEFAULT_LEASE_SECONDS,
            low=3,
            high=3600,
            unit="seconds",
        ),
        idle_check_seconds=_bounded(
            environ,
            "AUTOMATION_IDLE_CHECK_SECONDS",
            default=DEFAULT_IDLE_CHECK_SECONDS,
            low=1,
            high=600,
            unit="seconds",
        ),
        shutdown_grace_seconds=_bounded(
            environ,
            "AUTOMATION_SHUTDOWN_GRACE",
            default=DEFAULT_SHUTDOWN_GRACE_SECONDS,
            low=0,
            high=3600,
            unit="seconds",
        ),
        retention=_retention(environ),
    )
