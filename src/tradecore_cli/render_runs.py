"""How automation looks in the terminal: a user's status, the run ledger, a pass's outcome.
Pure rendering: text and JSON-ready data, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tradecore.domain import (
    AutomationRun,
    AutomationState,
    DaemonInfo,
    DigestDelivery,
    RunStatus,
    TaskResult,
)
from tradecore.services import AutomationStatus, LeasedRun

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "at",
    "busy_data",
    "daemons_lines",
    "leased_run_data",
    "leased_run_line",
    "relative",
    "run_data",
    "run_lines",
    "status_data",
    "status_lines",
    "statuses_table",
]


def at(moment: datetime | None) -> str:
    """``2026-03-02 09:00:00 UTC`` (or ``-``)."""
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def relative(moment: datetime, now: datetime) -> str:
    """``in 29 min`` / ``3 min ago`` / ``now``."""
    seconds = (moment - now).total_seconds()
    if abs(seconds) < 1:
        return "now"
    text = _span(timedelta(seconds=abs(seconds)))
    return f"in {text}" if seconds > 0 else f"{text} ago"


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _duration(delta: timedelta | None) -> str:
    return "-" if delta is None else f"{delta.total_seconds():.1f} s"


def _next_run(status: AutomationStatus) -> str:
    when = status.next_run
    if when is None:
        return "none (automation is " + status.state.value + ")"
    if status.config is not None and status.config.run_requested_at == when:
        return f"as soon as a scheduler runs (run-now asked {relative(when, status.now)})"
    if when <= status.now:
        return f"due now (since {at(when)}): the next scheduler pass runs it"
    return f"{at(when)} ({relative(when, status.now)})"


def _outcomes(status: AutomationStatus) -> str:
    counts = status.outcomes
    total = sum(counts.values())
    if total == 0:
        return "no finished run yet"
    rate = status.success_rate or 0.0
    return (
        f"{rate:.0%} of the last {total} run(s) succeeded: "
        f"{counts[RunStatus.SUCCESS]} success, {counts[RunStatus.PARTIAL]} partial, "
        f"{counts[RunStatus.FAILURE]} failure"
    )


def status_lines(status: AutomationStatus, user_name: str) -> list[str]:
    """The status of one user's automation, one fact per line."""
    frequency = status.frequency_minutes
    last = status.last_run
    lines = [
        f"Automation of {user_name}: {status.state.value}",
        f"  frequency:     every {frequency} min" if frequency else "  frequency:     -",
        f"  next run:      {_next_run(status)}",
    ]
    if status.running is not None:
        lines.append(
            f"  running now:   run {status.running.run_id} on {status.running.owner} "
            f"since {at(status.running.claimed_at)}"
        )
    if last is None:
        lines.append("  last run:      never")
    else:
        state = last.status.value if last.status else "unfinished"
        lines.append(f"  last run:      {at(last.started_at)} ({state}, {last.trigger.value})")
        if last.digest is DigestDelivery.PENDING and last.finished_at is not None:
            lines.append(f"  last digest:   {_PENDING_DIGEST.strip()}")
    lines.append(f"  last duration: {_duration(status.last_duration)}")
    lines.append(f"  recent runs:   {_outcomes(status)}")
    if status.state is AutomationState.STOPPED:
        lines.append("Start it with: tradecore automation start")
    return lines


def statuses_table(rows: Sequence[tuple[str, AutomationStatus]]) -> Table:
    """One row per user: state, frequency, next run, last run, success rate."""
    # rich is imported for tables only: `tradecore run` (cron) and a one-user status print lines.
    from rich.table import Table

    from tradecore_cli.render import literal_table

    table = Table(title="Automation", title_justify="left")
    for header in ("user", "state", "every", "next run", "last run", "last status", "success"):
        table.add_column(header)
    for name, status in rows:
        last = status.last_run
        rate = status.success_rate
        table.add_row(
            name,
            status.state.value,
            f"{status.frequency_minutes} min" if status.frequency_minutes else "-",
            at(status.next_run),
            at(last.started_at) if last else "never",
            (last.status.value if last.status else "unfinished") if last else "-",
            "-" if rate is None else f"{rate:.0%}",
        )
    return literal_table(table)


def daemons_lines(
    daemons: Sequence[DaemonInfo], now: datetime, *, silent_after: timedelta
) -> list[str]:
    """The registered daemons, with when each was last seen (one silent for longer than
    ``silent_after`` is flagged: it probably died without unregistering)."""
    if not daemons:
        return ["Schedulers: no daemon is registered (cron passes do not register)"]
    lines = ["Schedulers:"]
    for daemon in daemons:
        line = (
            f"  {daemon.owner} on {daemon.host}, up since {at(daemon.started_at)}, "
            f"last seen {relative(daemon.seen_at, now)}"
        )
        if now - daemon.seen_at > silent_after:
            line += " (silent: probably stopped without unregistering)"
        lines.append(line)
    return lines


_PENDING_DIGEST = (
    "    digest not sent to every target yet (its sender lost the cycle's lease); the next "
    "cycle sends it"
)


def _step_line(step: TaskResult) -> str:
    facts = [f"{name.replace('_', ' ')}: {count}" for name, count in step.counts.items()]
    text = f"    {step.kind.value:<13} {step.subject:<20} {step.status.value:<8}"
    text += f" {_duration(step.duration)}"
    if facts:
        text += "  " + ", ".join(facts)
    if step.error:
        text += f"\n      error: {step.error}"
    for note in step.notes:
        text += f"\n      {note}"
    return text


def run_lines(run: AutomationRun) -> list[str]:
    """One run of the ledger and its steps."""
    state = run.status.value if run.status else "unfinished"
    head = (
        f"{at(run.started_at)}  {state:<10} {run.trigger.value:<8} "
        f"{_duration(run.duration):>8}  run {run.id}"
    )
    steps = [_step_line(step) for step in run.steps]
    lines = [head, *(steps or ["    (no steps)"])]
    if run.digest is DigestDelivery.PENDING and run.finished_at is not None:
        lines.append(_PENDING_DIGEST)
    return lines


def _seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def run_data(run: AutomationRun) -> dict[str, Any]:
    """A run with its steps as JSON-ready data."""
    return {
        "id": run.id,
        "trigger": run.trigger.value,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_seconds": _seconds(run.duration),
        "status": None if run.status is None else run.status.value,
        "digest": None if run.digest is None else run.digest.value,
        "steps": [
            {
                "kind": step.kind.value,
                "subject": step.subject,
                "subject_id": step.subject_id,
                "status": step.status.value,
                "started_at": _iso(step.started_at),
                "duration_seconds": _seconds(step.duration),
                "counts": dict(step.counts),
                "api": dict(step.api),
                "error": None if step.error is None else str(step.error),
                "notes": [str(note) for note in step.notes],
            }
            for step in run.steps
        ],
    }


def status_data(status: AutomationStatus, user_name: str) -> dict[str, Any]:
    """A user's automation status as JSON-ready data."""
    config = status.config
    return {
        "user": user_name,
        "state": status.state.value,
        "frequency_minutes": status.frequency_minutes,
        "next_run": _iso(status.next_run),
        "run_requested_at": _iso(None if config is None else config.run_requested_at),
        "last_run": None if status.last_run is None else run_data(status.last_run),
        "last_duration_seconds": _seconds(status.last_duration),
        "recent": {key.value: count for key, count in status.outcomes.items()},
        "success_rate": status.success_rate,
        "running": None
        if status.running is None
        else {
            "run_id": status.running.run_id,
            "owner": status.running.owner,
            "since": _iso(status.running.claimed_at),
        },
    }


def leased_run_line(run: LeasedRun, user_name: str) -> str:
    """What one cycle of a pass came to."""
    if run.error is not None:
        return f"{user_name}: did not finish (run {run.run_id}): {run.error}"
    state = run.status.value if run.status else "unknown"
    return f"{user_name}: {state} (run {run.run_id}, {run.trigger.value})"


def leased_run_data(
    run: LeasedRun, user_name: str, stored: AutomationRun | None = None
) -> dict[str, Any]:
    """What one cycle of a pass came to, as JSON-ready data; ``stored`` (the run as recorded,
    with its steps) goes under ``run`` when given."""
    return {
        "user": user_name,
        "run_id": run.run_id,
        "trigger": run.trigger.value,
        "status": None if run.status is None else run.status.value,
        "ok": run.ok,
        "error": run.error,
        "run": None if stored is None else run_data(stored),
    }


def busy_data(busy: str, names: Mapping[str, str]) -> dict[str, str]:
    """A user a pass left alone (``"user_id: why"``), as JSON-ready data."""
    user_id, _, why = busy.partition(": ")
    return {"user": names.get(user_id, user_id), "reason": why}
