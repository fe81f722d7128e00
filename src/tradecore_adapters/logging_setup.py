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
  at ``WARNING``, and Alembic's routine messages are shown at ``DEBUG`` only;
- a vendor library's warnings and errors (python-telegram-bot's, which logs a traceback and the
  raw HTML page of a proxy's 502 at ``ERROR``) are one line each, without the data: the full
  text and traceback are logged at ``DEBUG`` (see :func:`tame_vendor_logger`). All of it goes
  through the redacting filter.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import time
from pathlib import Path
from typing import TextIO

from tradecore.errors import ConfigurationError
from tradecore.logs import RunContextFilter
from tradecore_adapters.redaction import RedactingFilter, guard_logger, redact

__all__ = [
    "DEFAULT_LOG_BACKUPS",
    "DEFAULT_LOG_MAX_BYTES",
    "LOG_FORMAT",
    "VendorLineFilter",
    "configure_logging",
    "tame_vendor_logger",
]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [run %(run_id)s]: %(message)s"
DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_LOG_BACKUPS = 5

_STREAM_HANDLER = "tradecore.stderr"
_FILE_HANDLER = "tradecore.file"
_QUIET = ("httpx", "httpcore", "aiosqlite")  # they log URLs and statement arguments
_CHATTY = ("alembic",)  # "Context impl SQLiteImpl." on every command; shown at DEBUG only
# python-telegram-bot's loggers (a filter on a logger does not see its children's records).
_VENDOR = (
    "telegram",
    "telegram.Bot",
    "telegram.ext",
    "telegram.ext.AIORateLimiter",
    "telegram.ext.Application",
    "telegram.ext.ExtBot",
    "telegram.ext.Updater",
    "telegram.request",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
)
_DETAILS = "_tradecore_vendor_details"
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[a-zA-Z]")
_TAG = re.compile(r"<[^<>]{0,200}>")
_MAX_LINE = 200


class VendorLineFilter(logging.Filter):
    """Keep each warning or error of a vendor library to one line without its data.

    The line is the library's own message with its arguments (a response body, a payload)
    left out, its first line only, no markup, and the exception's type instead of its
    traceback. When ``DEBUG`` is on for the logger, the whole record (arguments and traceback)
    is logged just before, at ``DEBUG``. Records below ``WARNING`` pass unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or getattr(record, _DETAILS, False):
            return True
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "details of the %s below: %s",
                record.levelname,
                record.getMessage(),
                exc_info=record.exc_info,
                stack_info=False,
                extra={_DETAILS: True},
            )
        record.msg, record.args = _one_line(record), None
        record.exc_info = record.exc_text = record.stack_info = None
        return True


def _one_line(record: logging.LogRecord) -> str:
    template = str(record.msg)
    text = _PLACEHOLDER.sub("…", template).replace("%%", "%") if record.args else template
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = " ".join(_TAG.sub("", line).split()) or "(no message)"
    if len(line) > _MAX_LINE:
        line = line[: _MAX_LINE - 1] + "…"
    if record.exc_info and record.exc_info[0] is not None:
        line += f" ({record.exc_info[0].__name__})"
    return redact(line)


def tame_vendor_logger(name: str) -> None:
    """Give the vendor logger ``name`` a :class:`VendorLineFilter` and a redacting filter of its
    own (once each), so its records are short and masked whatever handlers catch them."""
    guard_logger(name)
    logger = logging.getLogger(name)
    if not any(isinstance(f, VendorLineFilter) for f in logger.filters):
        # First, so that it shortens the record as the library made it; the redaction follows.
        logger.filters.insert(0, VendorLineFilter())


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
    for name in _VENDOR:
        tame_vendor_logger(name)
