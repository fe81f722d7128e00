"""Set up the standard :mod:`logging` of a tradecore process: standard error, an optional rotating
file, the run id on every line and no secret anywhere.

tradecore logs under ``tradecore.*`` (and the adapters under their module names) with the
standard library; :func:`configure_logging` decides where those records go::

    2024-05-01T12:00:00.123Z INFO tradecore.services.cycle [run 7f3a…]: cycle started

- the timestamp is UTC (``Z``); ``[run -]`` marks a line logged outside any run
  (see :mod:`tradecore.logs`);
- every handler of the root logger, ours and anyone else's (pytest's ``caplog`` included), gets
  a :class:`~tradecore.logs.RunContextFilter` and a
  :class:`~tradecore_adapters.redaction.RedactingFilter`, so a secret never reaches the terminal
  nor the log file;
- ``httpx``, ``httpcore`` and ``aiosqlite`` (which log request URLs and statement arguments) stay
  at ``WARNING``, and Alembic's routine messages are shown at ``DEBUG`` only.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import time
from pathlib import Path
from typing import TextIO

from tradecore.errors import ConfigurationError
from tradecore.logs import RunContextFilter
from tradecore_adapters.redaction import RedactingFilter

__all__ = [
    "DEFAULT_LOG_BACKUPS",
    "DEFAULT_LOG_MAX_BYTES",
    "LOG_FORMAT",
    "configure_logging",
]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [run %(run_id)s]: %(message)s"
DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_LOG_BACKUPS = 5

_STREAM_HANDLER = "tradecore.stderr"
_FILE_HANDLER = "tradecore.file"
_QUIET = ("httpx", "httpcore", "aiosqlite")  # they log URLs and statement arguments
_CHATTY = ("alembic",)  # "Context impl SQLiteImpl." on every command; shown at DEBUG only


def _formatter() -> logging.Formatter:
    """:data:`LOG_FORMAT` with ISO 8601 UTC timestamps to the millisecond:
    ``2024-05-01T12:00:00.123Z``."""
    formatter = logging.Formatter(LOG_FORMAT)
    formatter.converter = time.gmtime
    formatter.default_time_format = "%Y-%m-%dT%H:%M:%S"
    formatter.default_msec_format = "%s.%03dZ"
    return formatter


class _RotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A :class:`~logging.handlers.RotatingFileHandler` that also keeps its size limit with no
    backup: with ``backupCount=0`` the standard one never rolls over (the file grows without
    end); this one starts the file afresh instead."""

    def doRollover(self) -> None:
        if self.backupCount > 0:
            super().doRollover()
            return
        if self.stream:
            self.stream.close()
        self.mode = "w"
        try:
            self.stream = self._open()
        finally:
            self.mode = "a"


def _ours(handler: logging.Handler) -> bool:
    return handler.get_name() in (_STREAM_HANDLER, _FILE_HANDLER)


def _file_handler(path: Path, max_bytes: int, backups: int) -> logging.Handler:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(f"cannot open the log file {path}: {reason}") from None
    handler.set_name(_FILE_HANDLER)
    return handler


def configure_logging(
    level: str,
    *,
    log_file: Path | None = None,
    max_bytes: int = DEFAULT_LOG_MAX_BYTES,
    backups: int = DEFAULT_LOG_BACKUPS,
    stream: TextIO | None = None,
) -> None:
    """Send log records at ``level`` and above to standard error and, when ``log_file`` is set, to
    a rotating file.

    Calling it again replaces what an earlier call set up (never a second handler), so a command
    can change the level (``-v``) or the file.

    :param level: ``CRITICAL``, ``ERROR``, ``WARNING``, ``INFO`` or ``DEBUG``: the root logger's
        level.
    :param log_file: the log file; its parent directories are created. When it reaches
        ``max_bytes`` it is renamed ``<name>.1`` (the older ``.1`` becoming ``.2``…) and a new one
        is started; with ``backups=0`` it is started afresh.
    :param max_bytes: the size at which the log file rotates.
    :param backups: how many rotated files are kept.
    :param stream: where the terminal log goes. ``None`` means standard error, but only when the
        root logger has no handler of someone else's (like :func:`logging.basicConfig`): an
        application embedding tradecore, or pytest, keeps its own; an explicit stream is always
        used.
    :raises ConfigurationError: the log file cannot be created or opened; nothing is changed.
    """
    root = logging.getLogger()
    handlers: list[logging.Handler] = []
    if log_file is not None:
        handlers.append(_file_handler(log_file, max_bytes, backups))
    foreign = [handler for handler in root.handlers if not _ours(handler)]
    if stream is not None or not foreign:
        terminal = logging.StreamHandler(stream if stream is not None else sys.stderr)
        terminal.set_name(_STREAM_HANDLER)
        handlers.append(terminal)

    for handler in [handler for handler in root.handlers if _ours(handler)]:
        root.removeHandler(handler)
        handler.close()
    formatter = _formatter()
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, RunContextFilter) for f in handler.filters):
            handler.addFilter(RunContextFilter())
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
