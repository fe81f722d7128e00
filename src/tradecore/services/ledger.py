"""The ledger's retention: how long runs, the lease audit and the equity history are kept."""

from __future__ import annotations

import logging
from datetime import timedelta

from attrs import field, frozen

from tradecore.errors import ConfigurationError
from tradecore.ports import RepositoryPort

__all__ = ["DEFAULT_RETENTION", "PruneResult", "Retention", "prune_ledger"]

_log = logging.getLogger("tradecore.ledger")


def _age(instance: object, attribute: object, value: timedelta | None) -> None:
    if value is not None and value <= timedelta(0):
        raise ConfigurationError(f"the retention age must be positive, got {value}")


def _count(instance: object, attribute: object, value: int | None) -> None:
    if value is not None and value < 1:
        raise ConfigurationError(f"the retention count must be 1 or more, got {value}")


@frozen(kw_only=True)
class Retention:
    """What the ledger keeps: runs younger than ``max_age`` and, of each user, at most the
    newest ``keep_per_user``; ``None`` turns a rule off. The lease audit (one record per
    cycle) is kept for ``audit_age``; the equity history (one point per connection, currency
    and sync) for ``equity_age`` (``None``: for ever). A chart reads a long history thinned
    (:meth:`~tradecore.services.Portfolio.equity`), so keeping it long costs disk, not speed."""

    max_age: timedelta | None = field(default=timedelta(days=90), validator=_age)
    keep_per_user: int | None = field(default=1000, validator=_count)
    audit_age: timedelta = timedelta(days=7)
    equity_age: timedelta | None = field(default=timedelta(days=730), validator=_age)


DEFAULT_RETENTION = Retention()
"""90 days and at most 1,000 runs per user; the lease audit for 7 days; the equity history for
730 days (two years)."""


@frozen(kw_only=True)
class PruneResult:
    """How many rows pruning deleted."""

    runs: int
    lease_intervals: int
    equity_points: int = 0


async def prune_ledger(repository: RepositoryPort, retention: Retention) -> PruneResult:
    """Delete the runs (with their steps), the lease audit records and the equity points
    ``retention`` no longer keeps, by the store's clock."""
    async with repository.unit_of_work() as uow:
        now = await uow.leases.now()
        runs = await uow.runs.prune(
            started_before=None if retention.max_age is None else now - retention.max_age,
            keep_per_user=retention.keep_per_user,
        )
        intervals = await uow.leases.prune_intervals(ended_before=now - retention.audit_age)
        points = 0
        if retention.equity_age is not None:
            points = await uow.equity.prune(before=now - retention.equity_age)
        await uow.commit()
    if runs or intervals or points:
        _log.info(
            "pruned %d run(s), %d lease record(s) and %d equity point(s)", runs, intervals, points
        )
    return PruneResult(runs=runs, lease_intervals=intervals, equity_points=points)
