"""The run ledger's retention: how long runs (and the lease audit) are kept."""

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
    cycle) is kept for ``audit_age``."""

    max_age: timedelta | None = field(default=timedelta(days=90), validator=_age)
    keep_per_user: int | None = field(default=1000, validator=_count)
    audit_age: timedelta = timedelta(days=7)


DEFAULT_RETENTION = Retention()
"""90 days and at most 1,000 runs per user; the lease audit for 7 days."""


@frozen(kw_only=True)
class PruneResult:
    """How many rows pruning deleted."""

    runs: int
    lease_intervals: int


async def prune_ledger(repository: RepositoryPort, retention: Retention) -> PruneResult:
    """Delete the runs (with their steps) and the lease audit records ``retention`` no longer
    keeps, by the store's clock."""
    async with repository.unit_of_work() as uow:
        now = await uow.leases.now()
        runs = await uow.runs.prune(
            started_before=None if retention.max_age is None else now - retention.max_age,
            keep_per_user=retention.keep_per_user,
        )
        intervals = await uow.leases.prune_intervals(ended_before=now - retention.audit_age)
        await uow.commit()
    if runs or intervals:
        _log.info("pruned %d run(s) and %d lease record(s)", runs, intervals)
    return PruneResult(runs=runs, lease_intervals=intervals)
