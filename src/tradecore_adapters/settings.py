"""The application's settings: plain, frozen data. The environment is read into them by
:func:`tradecore_adapters.environment.settings_from_environment`, when a front end asks."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import platformdirs
from attrs import evolve, field, frozen

from tradecore.domain import DEFAULT_FREQUENCY_MINUTES
from tradecore.domain.secret import Secret
from tradecore.services.ledger import DEFAULT_RETENTION, Retention
from tradecore_adapters.logging_setup import DEFAULT_LOG_BACKUPS, DEFAULT_LOG_MAX_BYTES

__all__ = [
    "DATABASE_FILE_NAME",
    "DEFAULT_CONCURRENT_CYCLES",
    "DEFAULT_IDLE_CHECK_SECONDS",
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_SHUTDOWN_GRACE_SECONDS",
    "DEMO_HOME_NAME",
    "KEY_FILE_NAME",
    "Settings",
    "default_home",
    "sqlite_url_for",
]

DATABASE_FILE_NAME = "tradecore.db"
KEY_FILE_NAME = "secret.key"
DEMO_HOME_NAME = "demo"
DEFAULT_CONCURRENT_CYCLES = 4
DEFAULT_LEASE_SECONDS = 60
DEFAULT_IDLE_CHECK_SECONDS = 15
DEFAULT_SHUTDOWN_GRACE_SECONDS = 60


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _optional_names(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _optional_path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


def default_home() -> Path:
    """The platform's user data directory for tradecore (``~/.local/share/tradecore`` on Linux)."""
    return platformdirs.user_data_path("tradecore", appauthor=False)


def sqlite_url_for(path: Path) -> str:
    """The SQLite URL of the database file at ``path``."""
    return f"sqlite:///{path.expanduser().absolute()}"


@frozen(kw_only=True)
class Settings:
    """Everything the composition root needs to wire the application.

    :param home: the data directory (``TRADECORE_HOME``; by default the platform's user data
        directory): the default database and the key file live here.
    :param database_url: ``TRADECORE_DATABASE_URL``; ``None`` means the SQLite file
        ``tradecore.db`` in ``home``.
    :param secret_keys: ``TRADECORE_SECRET_KEY``: comma-separated Fernet keys, newest first;
        ``None`` means the key file ``secret.key`` in ``home``.
    :param default_frequency_minutes: ``AUTOMATION_DEFAULT_FREQUENCY``.
    :param log_level: ``AUTOMATION_LOG_LEVEL``.
    :param log_file: ``AUTOMATION_LOG_FILE``: a rotating log file, besides standard error;
        ``None``: no log file.
    :param log_max_bytes: ``AUTOMATION_LOG_MAX_BYTES``: the size at which the log file rotates.
    :param log_backups: ``AUTOMATION_LOG_BACKUPS``: how many rotated log files are kept.
    :param disabled_plugins: ``TRADECORE_DISABLE_PLUGINS``: plugin names never loaded.
    :param allowed_plugins: ``TRADECORE_PLUGINS``: when set, only these entry-point plugins load.
    :param trace_plugins: ``TRADECORE_TRACE_PLUGINS``: print pluggy's hook-call trace.
    :param notifiers: the notifiers every digest goes to.
    :param max_concurrent_connections: how many connections of one user sync at once.
    :param max_concurrent_cycles: ``AUTOMATION_MAX_CONCURRENT_CYCLES``: how many users' cycles
        a scheduler runs at once.
    :param lease_seconds: ``AUTOMATION_LEASE_SECONDS``: how long a claimed cycle stays claimed
        without a heartbeat (a dead scheduler's work is taken over after it).
    :param idle_check_seconds: ``AUTOMATION_IDLE_CHECK_SECONDS``: the longest the daemon sleeps
        without looking for work (run-now requests are picked up within it).
    :param shutdown_grace_seconds: ``AUTOMATION_SHUTDOWN_GRACE``: how long running cycles may
        finish after SIGTERM.
    :param retention: ``AUTOMATION_RUN_RETENTION_DAYS`` and ``AUTOMATION_RUN_RETENTION_COUNT``.
    """

    home: Path = field(factory=default_home, converter=Path)
    database_url: str | None = None
    secret_keys: Secret | None = None
    default_frequency_minutes: int = DEFAULT_FREQUENCY_MINUTES
    log_level: str = "INFO"
    log_file: Path | None = field(default=None, converter=_optional_path)
    log_max_bytes: int = DEFAULT_LOG_MAX_BYTES
    log_backups: int = DEFAULT_LOG_BACKUPS
    disabled_plugins: tuple[str, ...] = field(default=(), converter=_names)
    allowed_plugins: tuple[str, ...] | None = field(default=None, converter=_optional_names)
    trace_plugins: bool = False
    notifiers: tuple[str, ...] = field(default=("console",), converter=_names)
    max_concurrent_connections: int = 4
    max_concurrent_cycles: int = DEFAULT_CONCURRENT_CYCLES
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    idle_check_seconds: int = DEFAULT_IDLE_CHECK_SECONDS
    shutdown_grace_seconds: int = DEFAULT_SHUTDOWN_GRACE_SECONDS
    retention: Retention = DEFAULT_RETENTION

    @property
    def database(self) -> str:
        """The database URL in use: ``database_url``, or the SQLite file in ``home``."""
        return self.database_url or sqlite_url_for(self.home / DATABASE_FILE_NAME)

    @property
    def key_file(self) -> Path:
        """Where the key file is (read only when ``secret_keys`` is not set)."""
        return self.home / KEY_FILE_NAME

    @property
    def uses_default_database(self) -> bool:
        """``True`` when the database is the SQLite file in ``home``."""
        return self.database_url is None

    def demo(self) -> Settings:
        """The settings of the demo: its own home (``home/demo``), database and key file."""
        return evolve(self, home=self.home / DEMO_HOME_NAME, database_url=None, secret_keys=None)
