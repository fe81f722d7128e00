"""The automation as JSON-ready data (status, runs with their steps, daemons), and the pages of
the run history.

Times are UTC ISO 8601, durations seconds. Paging reads the ledger through
:meth:`~tradecore.services.Automation.runs` until ``Automation.run_page`` (keyset paging in
the store) is on main; the cursor is opaque to clients, so the switch changes no client.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tradecore.domain import AutomationRun, DaemonInfo, LeaseInterval
from tradecore.errors import DomainError
from tradecore.services import AutomationStatus
from tradecore_adapters.bootstrap import Application

__all__ = [
    "MAX_PAGE",
    "daemon_data",
    "iso",
    "run_data",
    "run_page",
    "run_summary",
    "seconds",
    "status_data",
]

MAX_PAGE = 500
"""The most runs one page holds."""

_MAX_READ = 10_000  # what Automation.runs reads at most


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601, or ``None``."""
    return None if moment is None else moment.isoformat()


def seconds(delta: timedelta | None) -> float | None:
    """A duration in seconds, or ``None``."""
    return None if delta is None else delta.total_seconds()


def run_summary(run: AutomationRun) -> dict[str, Any]:
    """A run without its steps."""
    return {
        "id": run.id,
        "trigger": run.trigger.value,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "duration_seconds": seconds(run.duration),
        "status": None if run.status is None else run.status.value,
    }


def run_data(run: AutomationRun) -> dict[str, Any]:
    """A run with its steps (what each did, counted, and why one failed)."""
    return {
        **run_summary(run),
        "steps": [
            {
                "kind": step.kind.value,
                "subject": step.subject,
                "subject_id": step.subject_id,
                "status": step.status.value,
                "started_at": iso(step.started_at),
                "duration_seconds": seconds(step.duration),
                "counts": dict(step.counts),
                "api": dict(step.api),
                "error": step.error,
                "notes": list(step.notes),
            }
            for step in run.steps
        ],
    }


def _running(held: LeaseInterval | None) -> dict[str, Any] | None:
    if held is None:
        return None
    return {"run_id": held.run_id, "since": iso(held.claimed_at)}


def status_data(status: AutomationStatus, *, default_frequency: int) -> dict[str, Any]:
    """A user's automation status: state, frequency (the default when never set), next and
    last run, last duration, success rate over the recent runs, and the cycle running now."""
    config = status.config
    frequency = status.frequency_minutes
    return {
        "state": status.state.value,
        "frequency_minutes": default_frequency if frequency is None else frequency,
        "next_run": iso(status.next_run),
        "run_requested_at": iso(None if config is None else config.run_requested_at),
        "last_run": None if status.last_run is None else run_summary(status.last_run),
        "last_duration_seconds": seconds(status.last_duration),
        "success_rate": status.success_rate,
        "recent": {key.value: count for key, count in status.outcomes.items()},
        "running": _running(status.running),
        "now": iso(status.now),
    }


def daemon_data(
    daemon: DaemonInfo, *, alive: bool, leases: Sequence[tuple[str, LeaseInterval]]
) -> dict[str, Any]:
    """A daemon and the leases it holds now (``leases``: user name and lease)."""
    return {
        "owner": daemon.owner,
        "host": daemon.host,
        "pid": daemon.pid,
        "started_at": iso(daemon.started_at),
        "seen_at": iso(daemon.seen_at),
        "alive": alive,
        "leases": [
            {
                "user": name,
                "run_id": held.run_id,
                "fencing": held.fencing,
                "claimed_at": iso(held.claimed_at),
                "expires_at": iso(held.expires_at),
            }
            for name, held in leases
        ],
    }


# -- paging ------------------------------------------------------------------------------------

_BAD_CURSOR = "the cursor is not one a page of runs gave out"


def _encode(position: int, run: AutomationRun) -> str:
    raw = f"{position}|{run.started_at.isoformat()}|{run.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        position, started, run_id = raw.split("|", 2)
        moment = datetime.fromisoformat(started)
        if moment.tzinfo is None or not run_id or int(position) < 0:
            raise ValueError(cursor)
        return int(position), moment, run_id
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise DomainError(_BAD_CURSOR) from None


async def run_page(
    app: Application, user_id: str, *, cursor: str | None, limit: int | None
) -> tuple[list[AutomationRun], str | None]:
    """One page of the user's runs with their steps, newest first, and the cursor of the next
    page (``None`` on the last). A cursor names the last run shown, so runs recorded since
    do not shift the pages.

    :raises DomainError: ``limit`` is not 1 to 500, or the cursor is damaged.
    """
    size = 50 if limit is None else limit
    if not 1 <= size <= MAX_PAGE:
        raise DomainError(f"limit must be between 1 and {MAX_PAGE}, got {size}")
    position, key = 0, None
    if cursor:
        position, started, run_id = _decode(cursor)
        key = (started, run_id)
    wanted = position + size + 1 + 20  # a few runs may have been recorded since
    while True:
        read = await app.automation.runs(user_id, limit=min(wanted, _MAX_READ))
        start = 0
        if key is not None:
            start = next(
                (i for i, run in enumerate(read) if (run.started_at, run.id) < key), len(read)
            )
        after = read[start:]
        if len(after) > size or len(read) < wanted or wanted >= _MAX_READ:
            break
        wanted *= 2
    page = after[:size]
    if len(after) <= size or not page:
        return page, None
    return page, _encode(start + len(page), page[-1])
