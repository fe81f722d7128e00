"""The run context of log records: which run (and which user) a log line belongs to.

Every log line of a cycle carries its run id. The scheduler and the cycle service wrap the work of
a run in :func:`run_context`; :class:`RunContextFilter`, attached to the log handlers, copies the
current run id and user id onto each record as ``record.run_id`` and ``record.user_id`` (``-``
outside a run), so a format string can show them (``[run %(run_id)s]``).

The context lives in a :class:`contextvars.ContextVar`: it follows the code through ``await``,
every :mod:`asyncio` task created inside :func:`run_context` inherits it (a copy taken when the
task is created), and concurrent runs in separate tasks never see each other's ids.

Standard library only: this module is part of the pure core.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

__all__ = ["RunContextFilter", "current_run_id", "run_context"]

_OUTSIDE = "-"  # what a record shows when it was logged outside any run


class _Run(NamedTuple):
    run_id: str
    user_id: str | None


_current: ContextVar[_Run | None] = ContextVar("tradecore_run", default=None)


@contextmanager
def run_context(run_id: str, user_id: str | None = None) -> Iterator[None]:
    """Make ``run_id`` (and ``user_id``) the current run for the code inside the ``with`` block.

    The previous run context (usually none) is restored on exit, even when the block raises, so
    run contexts nest. Tasks created inside the block keep the ids for their whole life.

    :param run_id: the id of the run, shown in every log line of the run.
    :param user_id: the user the run works for, when there is one.
    """
    token = _current.set(_Run(run_id, user_id))
    try:
        yield
    finally:
        _current.reset(token)


def current_run_id() -> str | None:
    """The id of the current run, or ``None`` outside any :func:`run_context`."""
    run = _current.get()
    return None if run is None else run.run_id


class RunContextFilter(logging.Filter):
    """Set ``record.run_id`` and ``record.user_id`` from the current run (``-`` outside a run, or
    for a run without a user); never drops a record.

    A record that already carries a ``run_id`` (given with ``extra=``, or set where it was logged
    before it crossed to another thread) keeps it, with its own ``user_id`` or ``-``: the ids of
    a record never mix two runs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "run_id"):
            run = _current.get()
            record.run_id = _OUTSIDE if run is None else run.run_id
            if not hasattr(record, "user_id"):
                record.user_id = _OUTSIDE if run is None or run.user_id is None else run.user_id
        elif not hasattr(record, "user_id"):
            record.user_id = _OUTSIDE
        return True
