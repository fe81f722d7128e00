"""The automation as JSON-ready data: status, runs with their steps, daemons and their leases.

Times are UTC ISO 8601, durations seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tradecore.domain import AutomationRun, DaemonInfo, LeaseInterval
from tradecore.services import AutomationStatus

__all__ = [
    "daemon_data",
    "iso",
    "run_data",
    "run_summary",
    "seconds",
    "status_data",
]


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
