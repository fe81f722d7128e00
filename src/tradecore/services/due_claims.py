"""Claiming a pass's due cycles several at a time (:class:`DueClaims`).

A pass's workers take their cycles from one queue: when it is empty, the worker asking claims up
to ``batch`` due cycles in one transaction (:meth:`LeaseRepository.claim_due`) and the others take
the rest, instead of one claim transaction per cycle. A lease taken from the queue has not been
renewed since its claim (its heartbeat starts with its cycle), so one that waited longer than
``fresh_for`` is renewed first; one that cannot be renewed (lost meanwhile) is handed back as
lost, and its cycle is not run.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from tradecore.domain import Lease, Trigger
from tradecore.ports import Clock, RepositoryPort

__all__ = ["DueClaims", "claim_due", "renew_lease"]


async def claim_due(
    repository: RepositoryPort, owner: str, *, ttl: timedelta, limit: int, trigger: Trigger
) -> Sequence[Lease]:
    """Claim up to ``limit`` due cycles for ``owner``, in one transaction."""
    async with repository.unit_of_work() as uow:
        leases = await uow.leases.claim_due(owner, ttl=ttl, limit=limit, trigger=trigger)
        await uow.commit()
    return leases


async def renew_lease(repository: RepositoryPort, lease: Lease, *, ttl: timedelta) -> Lease | None:
    """Renew ``lease`` for ``ttl``, in one transaction; ``None`` when it is lost."""
    async with repository.unit_of_work() as uow:
        renewed = await uow.leases.renew(lease, ttl=ttl)
        await uow.commit()
    return renewed


class DueClaims:
    """The queue of claimed, not yet started cycles of one pass.

    :param claim: claims up to that many due cycles (one transaction).
    :param renew: renews a lease; ``None`` when it is lost.
    :param batch: how many cycles one claim takes at most (the pass's concurrency).
    :param fresh_for: how long a claimed lease may wait before it is renewed (a third of its
        time to live: the heartbeat's interval).
    :param clock: measures the wait.
    """

    def __init__(
        self,
        *,
        claim: Callable[[int], Awaitable[Sequence[Lease]]],
        renew: Callable[[Lease], Awaitable[Lease | None]],
        batch: int,
        fresh_for: timedelta,
        clock: Clock,
    ) -> None:
        self._claim = claim
        self._renew = renew
        self._batch = max(1, batch)
        self._fresh_for = fresh_for
        self._clock = clock
        self._queue: deque[tuple[datetime, Lease]] = deque()
        self._lock = asyncio.Lock()

    async def next(self) -> tuple[Lease, bool] | None:
        """The next claimed cycle and whether its lease still holds (``False``: it was lost
        while waiting, do not run it); ``None`` when nothing more is due."""
        async with self._lock:
            if not self._queue:
                leases = await self._claim(self._batch)
                claimed_at = self._clock.now()
                self._queue.extend((claimed_at, lease) for lease in leases)
            if not self._queue:
                return None
            claimed_at, lease = self._queue.popleft()
        if self._clock.now() - claimed_at < self._fresh_for:
            return lease, True
        renewed = await self._renew(lease)
        return (lease, False) if renewed is None else (renewed, True)
