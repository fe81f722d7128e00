"""The run ledger in aggregate, in memory: what :class:`~tradecore.ports.RunRepository`'s
``stats``, ``last_successes`` and ``latest_figures`` answer, as functions of the tables."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from tradecore.domain import (
    AutomationRun,
    DurationHistogram,
    RecordedFigures,
    RunCount,
    RunStats,
    RunStatus,
    TaskKind,
)
from tradecore_adapters.memory._store import Tables

__all__ = ["last_successes", "latest_figures", "run_stats"]


def run_stats(tables: Tables, bounds: tuple[timedelta, ...]) -> RunStats:
    """See :meth:`tradecore.ports.RunRepository.stats`."""
    runs: list[AutomationRun] = list(tables.runs.values())
    counted = Counter((run.status, run.trigger) for run in runs)
    counts = [
        RunCount(status=status, trigger=trigger, count=n)
        for (status, trigger), n in counted.items()
    ]
    counts.sort(key=lambda c: ("" if c.status is None else c.status.value, c.trigger.value))
    durations = [run.duration for run in runs if run.duration is not None]
    histogram = DurationHistogram(
        bounds=bounds,
        cumulative=tuple(sum(1 for d in durations if d <= bound) for bound in bounds),
        count=len(durations),
        total=sum(durations, timedelta(0)),
    )
    return RunStats(counts=counts, durations=histogram)


def last_successes(tables: Tables) -> dict[str, datetime]:
    """See :meth:`tradecore.ports.RunRepository.last_successes`."""
    latest: dict[str, datetime] = {}
    for run in tables.runs.values():
        if run.status is RunStatus.SUCCESS and run.finished_at is not None:
            known = latest.get(run.user_id)
            if known is None or run.finished_at > known:
                latest[run.user_id] = run.finished_at
    return latest


def latest_figures(tables: Tables, since: datetime) -> Sequence[RecordedFigures]:
    """See :meth:`tradecore.ports.RunRepository.latest_figures`."""
    latest: dict[tuple[str, str], tuple[tuple[datetime, datetime, str], RecordedFigures]] = {}
    for run in tables.runs.values():
        if run.started_at < since:
            continue
        for step in run.steps:
            if step.kind is not TaskKind.SYNC or step.subject_id is None:
                continue
            key = (run.user_id, step.subject_id)
            # The latest step by start; of equal starts, the latest run's (then its id).
            rank = (step.started_at, run.started_at, run.id)
            if key in latest and latest[key][0] >= rank:
                continue
            connection = tables.connections.get(step.subject_id)
            latest[key] = (
                rank,
                RecordedFigures(
                    user_id=run.user_id,
                    connection_id=step.subject_id,
                    broker=None if connection is None else connection.broker,
                    recorded_at=step.started_at,
                    api=step.api,
                ),
            )
    return [figures for _, (_, figures) in sorted(latest.items()) if figures.api]
