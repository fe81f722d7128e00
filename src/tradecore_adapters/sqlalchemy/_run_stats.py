"""The run ledger in aggregate, in SQL: what :class:`~tradecore.ports.RunRepository`'s
``stats``, ``last_successes`` and ``latest_figures`` answer, each in one or two aggregate
queries (a ledger of 100,000 runs is never loaded).

Durations are computed by the database in integer microseconds, exactly on both backends:
PostgreSQL subtracts its timestamps; SQLite stores fixed-width ISO text
(``2024-01-01 00:00:00.000000``, see :mod:`._types`), so whole seconds come from
``strftime('%s')`` and the microseconds from the text's last six characters.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    bindparam,
    case,
    cast,
    extract,
    func,
    select,
)

from tradecore.domain import (
    DurationHistogram,
    RecordedFigures,
    RunCount,
    RunStats,
    RunStatus,
    TaskKind,
    Trigger,
)
from tradecore.errors import RepositoryError
from tradecore_adapters.shared_limits import span
from tradecore_adapters.sqlalchemy._unit import Transaction, text_order
from tradecore_adapters.sqlalchemy.schema import automation_runs, broker_connections, run_steps

__all__ = ["last_successes", "latest_figures", "run_stats"]

_runs = automation_runs.c
_steps = run_steps.c

# Built once (see _journal.py): the counts by status and trigger, and each user's last success.
_COUNTS = select(_runs.status, _runs.trigger, func.count()).group_by(_runs.status, _runs.trigger)
_LAST_SUCCESSES = (
    select(_runs.user_id, func.max(_runs.finished_at))
    .where(_runs.status == RunStatus.SUCCESS.value, _runs.finished_at.is_not(None))
    .group_by(_runs.user_id)
)


def _micros(tx: Transaction) -> Any:
    # finished_at - started_at in integer microseconds (see the module docstring).
    if tx.sqlite:

        def seconds(column: Any) -> Any:
            return cast(func.strftime("%s", column), Integer)

        def fraction(column: Any) -> Any:
            return cast(func.substr(column, 21, 6), Integer)

        return (seconds(_runs.finished_at) - seconds(_runs.started_at)) * 1_000_000 + (
            fraction(_runs.finished_at) - fraction(_runs.started_at)
        )
    return cast(extract("epoch", _runs.finished_at - _runs.started_at) * 1_000_000, BigInteger)


async def run_stats(tx: Transaction, bounds: tuple[timedelta, ...]) -> RunStats:
    """See :meth:`tradecore.ports.RunRepository.stats`."""
    db = await tx.read()
    grouped = await db.execute(_COUNTS)
    try:
        counts = [
            RunCount(
                status=None if status is None else RunStatus(status),
                trigger=Trigger(trigger),
                count=int(n),
            )
            for status, trigger, n in grouped.all()
        ]
    except ValueError as exc:
        raise RepositoryError(f"a run's status or trigger cannot be read: {exc}") from None
    counts.sort(key=lambda c: ("" if c.status is None else c.status.value, c.trigger.value))
    micros = _micros(tx)
    buckets = [
        func.coalesce(func.sum(case((micros <= span(bound), 1), else_=0)), 0) for bound in bounds
    ]
    row = (
        await db.execute(
            select(func.count(), func.coalesce(func.sum(micros), 0), *buckets).where(
                _runs.finished_at.is_not(None)
            )
        )
    ).one()
    durations = DurationHistogram(
        bounds=bounds,
        cumulative=tuple(int(n) for n in row[2:]),
        count=int(row[0]),
        total=timedelta(microseconds=int(row[1])),
    )
    return RunStats(counts=counts, durations=durations)


async def last_successes(tx: Transaction) -> dict[str, datetime]:
    """See :meth:`tradecore.ports.RunRepository.last_successes`."""
    db = await tx.read()
    rows = (await db.execute(_LAST_SUCCESSES)).all()
    return {str(user_id): finished for user_id, finished in rows}


@functools.cache
def _latest_figures(*, sqlite: bool) -> Select[Any]:
    # Built once per dialect (the run ids' order: see Transaction.text_order).
    run_id = text_order(_runs.id, sqlite=sqlite)
    newest = (
        func.row_number()
        .over(
            partition_by=(_runs.user_id, _steps.subject_id),
            order_by=(
                _steps.started_at.desc(),
                _runs.started_at.desc(),
                run_id.desc(),
            ),
        )
        .label("newest")
    )
    ranked = (
        select(
            _runs.user_id,
            _steps.subject_id,
            _steps.started_at,
            _steps.api,
            newest,
        )
        .select_from(run_steps.join(automation_runs, _runs.id == _steps.run_id))
        .where(
            _runs.started_at >= bindparam("b_since"),
            _steps.kind == TaskKind.SYNC.value,
            _steps.subject_id.is_not(None),
        )
        .subquery()
    )
    return (
        select(ranked.c.user_id, ranked.c.subject_id, ranked.c.started_at, ranked.c.api)
        .add_columns(broker_connections.c.broker)
        .select_from(
            ranked.outerjoin(broker_connections, broker_connections.c.id == ranked.c.subject_id)
        )
        .where(ranked.c.newest == 1)
    )


async def latest_figures(tx: Transaction, since: datetime) -> Sequence[RecordedFigures]:
    """See :meth:`tradecore.ports.RunRepository.latest_figures`."""
    query = _latest_figures(sqlite=tx.sqlite)
    db = await tx.read()
    found: list[RecordedFigures] = []
    rows = (await db.execute(query, {"b_since": since})).all()
    for user_id, connection_id, started_at, api, broker in rows:
        if not isinstance(api, dict) or not all(isinstance(v, str) for v in api.values()):
            raise RepositoryError(
                f"the API figures of a step of connection {connection_id!r} cannot be read"
            )
        if api:
            found.append(
                RecordedFigures(
                    user_id=user_id,
                    connection_id=connection_id,
                    broker=broker,
                    recorded_at=started_at,
                    api=api,
                )
            )
    return sorted(found, key=lambda f: (f.user_id, f.connection_id))
