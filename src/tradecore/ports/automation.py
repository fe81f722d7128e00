"""The automation's repositories: each user's schedule, the run ledger, the leases schedulers
claim cycles with, and the registry of running daemons (see ``docs/operations.md``). Part of the
unit of work of :mod:`tradecore.ports.repository`, which re-exports them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from tradecore.domain import (
    AutomationConfig,
    AutomationRun,
    DaemonInfo,
    Lease,
    LeaseInterval,
    RecordedFigures,
    RunStats,
    Trigger,
)
from tradecore.ports.paging import Page, PageKey

__all__ = ["AutomationRepository", "DaemonRepository", "LeaseRepository", "RunRepository"]


class AutomationRepository(Protocol):
    """Each user's automation schedule."""

    async def get(self, user_id: str) -> AutomationConfig | None:
        """The stored config, or ``None`` when the user never configured automation."""
        ...

    async def get_for_update(self, user_id: str) -> AutomationConfig | None:
        """As :meth:`get`, holding the row locked until the unit ends, so that a control
        (pause, frequency…) and a scheduler finishing a cycle never lose each other's change
        (PostgreSQL ``FOR UPDATE``, SQLite ``BEGIN IMMEDIATE``)."""
        ...

    async def save(self, config: AutomationConfig) -> None:
        """Insert or replace the user's config. :raises NotFound: no such user."""
        ...

    async def list(self) -> Sequence[AutomationConfig]:
        """Every user's config (for the scheduler)."""
        ...


class RunRepository(Protocol):
    """The run ledger."""

    async def add(self, run: AutomationRun) -> None:
        """Store a run. :raises AlreadyExists: the id is taken. :raises NotFound: no such user."""
        ...

    async def update(self, run: AutomationRun) -> None:
        """Replace a stored run (steps added, finished, its :attr:`~AutomationRun.digest`); who
        claimed its digest (:meth:`claim_digest`) is kept. :raises NotFound: no such run."""
        ...

    async def pending_digests(self, user_id: str, *, limit: int) -> Sequence[AutomationRun]:
        """The user's finished runs whose digest is
        :attr:`~tradecore.domain.DigestDelivery.PENDING`, oldest first, at most ``limit``."""
        ...

    async def claim_digest(self, user_id: str, run_id: str, *, fencing: int) -> bool:
        """Take the delivery of a run's pending digest for the lease whose fencing token is
        ``fencing`` (0 outside a lease), atomically: ``True`` when the digest is pending and
        unclaimed, or claimed by this token or an older one (a lease since lost); ``False``
        (nothing changes) when it was delivered, is not tracked, or a newer lease claimed it.
        Claims are taken in a fenced unit, so only the lease's current holder commits one.
        :raises NotFound: no such run for this user."""
        ...

    async def record_digest(self, run: AutomationRun, *, fencing: int) -> bool:
        """Store ``run``'s steps (its ``notify`` steps) and :attr:`~AutomationRun.digest`
        while its delivery is still claimed by ``fencing``: a sender records what it sent even
        after its lease lapsed, unless another owner claimed the digest meanwhile (``False``,
        nothing changes). :raises NotFound: no such run for this user."""
        ...

    async def get(self, user_id: str, run_id: str) -> AutomationRun:
        """:raises NotFound: no such run for this user."""
        ...

    async def list(self, user_id: str, *, limit: int = 20) -> Sequence[AutomationRun]:
        """The user's most recent runs, newest first."""
        ...

    async def stats(self, *, bounds: Sequence[timedelta]) -> RunStats:
        """Every user's runs in aggregate (for monitoring), computed by the store without
        loading them: how many there are by status (``None``: unfinished) and trigger, sorted
        by status then trigger; and how long the finished ones took, as a cumulative histogram
        with the upper ``bounds`` given (a duration equal to a bound counts in its bucket).

        :raises DomainError: ``bounds`` are not positive and strictly increasing.
        """
        ...

    async def last_successes(self) -> Mapping[str, datetime]:
        """When each user's latest successful run finished, by user id (users without one are
        absent)."""
        ...

    async def latest_figures(self, *, since: datetime) -> Sequence[RecordedFigures]:
        """Per user and connection, the API figures of the latest ``sync`` step (the latest by
        start; of equal starts, the latest run's) among runs started at or after ``since``,
        with the connection's broker; a connection whose latest step recorded no figure is left
        out. Sorted by user id, then connection id."""
        ...

    async def page(
        self, user_id: str, *, before: PageKey | None = None, limit: int
    ) -> Page[AutomationRun]:
        """At most ``limit`` of the user's runs with their steps, newest first (by start, then
        id, as :meth:`list`), older than ``before`` (:mod:`tradecore.ports.paging`).

        :raises DomainError: ``limit`` is below 1.
        """
        ...

    async def prune(self, *, started_before: datetime | None, keep_per_user: int | None) -> int:
        """Delete runs (with their steps) that started before ``started_before``, and each
        user's runs beyond the newest ``keep_per_user``; ``None`` turns a rule off. Returns
        how many runs were deleted.

        :raises DomainError: ``keep_per_user`` is below 1.
        """
        ...


class LeaseRepository(Protocol):
    """Claims on users' cycles (how schedulers share them: docs/operations.md, "Several daemons:
    PostgreSQL"). Each user with an :class:`AutomationConfig` has one lease slot
    (:class:`~tradecore.domain.lease.LeaseSlot`); a claim takes it for ``ttl`` and increments the
    user's fencing token. Who may claim, when a slot is claimable and what a claim hands out is
    the domain's rule (:mod:`tradecore.domain.lease`), which every adapter applies. All lease
    arithmetic uses the store's clock (:meth:`now`: the database server's on PostgreSQL), never
    the clocks of several machines.

    Claims are meant for short units of work: claim, commit, run the cycle outside any
    transaction, then release in another short unit.
    """

    async def now(self) -> datetime:
        """The store's current time (UTC): the database server's on PostgreSQL, this host's
        on SQLite (one host only)."""
        ...

    async def claim_due(
        self, owner: str, *, ttl: timedelta, limit: int, trigger: Trigger
    ) -> Sequence[Lease]:
        """Claim up to ``limit`` users whose cycle is due (:meth:`AutomationConfig.is_due`)
        and whose lease is free or expired, earliest due first. Rows another claimer holds
        locked are skipped, never waited for (``FOR UPDATE SKIP LOCKED``). A claim that serves
        only a run request gets :attr:`Trigger.MANUAL`, otherwise ``trigger``.
        """
        ...

    async def claim(
        self, user_id: str, owner: str, *, ttl: timedelta, trigger: Trigger
    ) -> Lease | None:
        """Claim ``user_id``'s cycle now, whatever its schedule (``--force``, ``--user``, a
        cycle run by hand). The lease serves the user's slot if it is due and its run request
        if any. ``None`` while an unexpired lease is held, by anyone (this owner included).

        :raises NotFound: the user has no automation config.
        """
        ...

    async def renew(self, lease: Lease, *, ttl: timedelta) -> Lease | None:
        """Extend a held lease to ``now + ttl`` (the heartbeat); ``None`` when it was lost
        (taken over, or expired: an expired lease is never revived)."""
        ...

    async def expire(self, held: LeaseInterval) -> bool:
        """End at once the lease that ``held`` records, because its holder is known to be gone
        (a process of this host that no longer exists): it expires now, so the next claim
        takes it over as it would any expired lease (closing the run the holder left
        unfinished). ``False``, and nothing changes, when that lease is no longer held
        (released, expired, or taken over).
        """
        ...

    async def confirm(self, lease: Lease) -> bool:
        """Whether ``lease`` is still held and unexpired, checked inside this unit's
        transaction so that it holds until the unit commits (the fencing check of every write
        a cycle makes)."""
        ...

    async def holds(self, lease: Lease) -> bool:
        """Whether ``lease`` is held and unexpired as committed now: a read that locks nothing
        and holds nothing for the unit (unlike :meth:`confirm`). For a check right before an
        action outside the store (sending an order), made in a unit that writes nothing."""
        ...

    async def release(self, lease: Lease, *, completed: bool) -> bool:
        """End a held lease. ``completed``: the cycle ran, so the schedule moves on
        (:meth:`AutomationConfig.completed`); otherwise (shutdown) the schedule is left as it
        was so that another scheduler runs the cycle at once. ``False`` when the lease had
        been lost: nothing is changed then."""
        ...

    async def next_wake(self) -> datetime | None:
        """The earliest time a claim could find work: for a user not leased (or whose lease
        lapsed), its run request or due slot; for a leased user with a slot or request, the
        later of that time and the lease's expiry. ``None`` when nothing is scheduled. A lease
        expiring exactly now is neither renewable nor claimable yet."""
        ...

    async def held(self) -> int:
        """How many users' leases are held and unexpired now, by the store's clock (cycles
        running now)."""
        ...

    async def intervals(self, user_id: str | None = None) -> Sequence[LeaseInterval]:
        """The lease audit, oldest first (of one user, or of all)."""
        ...

    async def prune_intervals(self, *, ended_before: datetime) -> int:
        """Delete audit records that ended before ``ended_before``; returns how many."""
        ...


class DaemonRepository(Protocol):
    """The registry of running schedulers (to show them, and to refuse a second host on
    SQLite)."""

    async def register(self, daemon: DaemonInfo) -> None:
        """Add or refresh (``seen_at`` = the store's now) a daemon's entry."""
        ...

    async def unregister(self, owner: str) -> None:
        """Remove a daemon's entry (at shutdown); a missing one is fine."""
        ...

    async def list(self) -> Sequence[DaemonInfo]:
        """Every registered daemon, by start time."""
        ...
