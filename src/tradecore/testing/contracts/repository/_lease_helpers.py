"""What the lease contract tests share: their times, owners, the overlap check and helpers
(see :mod:`._leases` and :mod:`._lease_lifecycle`).

Lease time is the store's own clock (:meth:`~tradecore.ports.LeaseRepository.now`), so the
tests place schedules relative to it and let short leases (:data:`TTL`) lapse with real sleeps.
A lease meant to stay held for a whole test gets :data:`LONG`.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from tradecore.domain import (
    AutomationConfig,
    AutomationState,
    Lease,
    LeaseInterval,
    Trigger,
)
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_user
from tradecore.testing.contracts.repository._helpers import ContractBase, committing, minutes

TTL = timedelta(seconds=1)
"""A lease that lapses within a test (long enough that a loaded machine does not see it lapse
between two statements that expect it held)."""

LAPSE = 1.2
"""Seconds to sleep for a :data:`TTL` lease to lapse."""

LONG = timedelta(seconds=60)
"""A lease that stays held for the whole test."""

WAIT = 10
"""Seconds within which an operation that must not wait has to finish."""

A = "host-a:101:daemon"
B = "host-b:202:daemon"


def assert_no_overlap(intervals: Iterable[LeaseInterval]) -> None:
    """No two audit intervals of one user overlap: each starts at or after the previous end."""
    by_user: dict[str, list[LeaseInterval]] = defaultdict(list)
    for interval in intervals:
        by_user[interval.user_id].append(interval)
    for user_intervals in by_user.values():
        ordered = sorted(user_intervals, key=lambda i: (i.claimed_at, i.fencing))
        for before, after in itertools.pairwise(ordered):
            assert after.fencing > before.fencing
            assert after.claimed_at >= before.ended_at, (before, after)


class LeaseContractBase(ContractBase):
    """Helpers of the lease contract tests (no tests of its own)."""

    async def _users(self, repository: RepositoryPort, *names: str) -> list[str]:
        users = [make_user(name=name) for name in names]
        async with committing(repository) as uow:
            for user in users:
                await uow.users.add(user)
        return [user.id for user in users]

    async def _save(self, repository: RepositoryPort, *configs: AutomationConfig) -> None:
        async with committing(repository) as uow:
            for config in configs:
                await uow.automation.save(config)

    async def _now(self, repository: RepositoryPort) -> datetime:
        async with repository.unit_of_work() as uow:
            return await uow.leases.now()

    async def _config(self, repository: RepositoryPort, user_id: str) -> AutomationConfig:
        async with repository.unit_of_work() as uow:
            config = await uow.automation.get(user_id)
        assert config is not None
        return config

    async def _claim_due(
        self,
        repository: RepositoryPort,
        owner: str,
        *,
        ttl: timedelta = LONG,
        limit: int = 10,
        trigger: Trigger = Trigger.SCHEDULE,
    ) -> Sequence[Lease]:
        async with committing(repository) as uow:
            return await uow.leases.claim_due(owner, ttl=ttl, limit=limit, trigger=trigger)

    async def _due_user(
        self, repository: RepositoryPort, name: str = "alice", *, ago: int = 10
    ) -> tuple[str, AutomationConfig]:
        """A user active every 30 minutes whose slot came ``ago`` minutes ago."""
        (user_id,) = await self._users(repository, name)
        now = await self._now(repository)
        config = AutomationConfig(
            user_id=user_id,
            state=AutomationState.ACTIVE,
            frequency_minutes=30,
            next_due_at=now - minutes(ago),
        )
        await self._save(repository, config)
        return user_id, config

    async def _release(self, repository: RepositoryPort, lease: Lease, *, completed: bool) -> bool:
        async with committing(repository) as uow:
            return await uow.leases.release(lease, completed=completed)

    async def _intervals(
        self, repository: RepositoryPort, user_id: str | None = None
    ) -> Sequence[LeaseInterval]:
        async with repository.unit_of_work() as uow:
            return await uow.leases.intervals(user_id)
