"""Memory repositories of who runs which cycle: leases with their audit, and the daemon registry.

Each user's lease state is a :class:`~tradecore.domain.lease.LeaseSlot` in its own table, apart
from the user's :class:`~tradecore.domain.AutomationConfig`, so that saving a config never touches
it. The claim rule (who may claim, when a slot is claimable, what a claim hands out) is the
domain's (:mod:`tradecore.domain.lease`), shared with the SQL store; this module only locks, reads
and writes. All lease arithmetic uses the repository's clock.

Locking, as the SQL store does it: every lease write first takes the user's row lock (the one
:meth:`Automation.get_for_update` takes), held until the unit ends, and only then reads the time.
:meth:`Leases.claim_due` skips users whose lock another unit holds instead of waiting
(``FOR UPDATE SKIP LOCKED``), so concurrent claimers never get the same user; the others wait.
A unit that confirmed a lease therefore keeps it until it commits: nobody can take it over
meanwhile.

Replay: writes are operations replayed at commit (:mod:`tradecore_adapters.memory._session`).
A lease write is *decided* when it is called (which users, which fencing tokens, run ids and
times), and the logged operation only re-checks that the decision still holds against what
others committed meanwhile, never deciding anew. What the lock does not cover can still
change: a user removed, a config saved without ``get_for_update``. Then

- a claim fails the commit: :class:`~tradecore.errors.NotFound` for a removed user,
  :class:`~tradecore.errors.RepositoryError` when its slot changed or (:meth:`Leases.claim_due`)
  the cycle is no longer due;
- a confirmation, renewal or release fails it with :class:`~tradecore.errors.LeaseLost`, so
  nothing the unit wrote under that lease lands.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

import attrs

from tradecore.domain import (
    AutomationConfig,
    DaemonInfo,
    Lease,
    LeaseInterval,
    Trigger,
)
from tradecore.domain._checks import utc
from tradecore.domain.lease import (
    COMPLETED,
    EXPIRED_AT_ONCE,
    FREE_SLOT,
    RELEASED,
    LeaseSlot,
    check_limit,
    check_owner,
    check_ttl,
    due_since,
)
from tradecore.errors import LeaseLost, NotFound, RepositoryError
from tradecore.ports import Clock
from tradecore_adapters.memory._directory import automation_lock
from tradecore_adapters.memory._session import Operation, Session
from tradecore_adapters.memory._store import (
    StoredInterval,
    Tables,
    aware,
    copy_entity,
    next_insertion,
)

__all__ = ["Daemons", "Leases"]


class _Claim(NamedTuple):
    # A claim decided when asked for: the lease it hands out, the slot it replaces (which must
    # still be there at commit) and the audit record's insertion number.
    lease: Lease
    before: LeaseSlot
    insertion: int


class Leases:
    """:class:`~tradecore.ports.LeaseRepository` in memory.

    :param session: the unit of work's session.
    :param clock: the store's clock, for every lease time.
    """

    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def now(self) -> datetime:
        return self._now()

    async def claim_due(
        self, owner: str, *, ttl: timedelta, limit: int, trigger: Trigger
    ) -> Sequence[Lease]:
        check_owner(owner)
        check_ttl(ttl)
        check_limit(limit)
        default_trigger = Trigger(trigger)
        now = self._now()

        def due(tables: Tables) -> list[tuple[datetime, str, AutomationConfig, LeaseSlot]]:
            rows = []
            for config in tables.automation.values():
                slot = _slot(tables, config.user_id)
                since = due_since(config, now)
                if since is not None and slot.claimable_at(now):
                    rows.append((since, config.user_id, config, slot))
            return sorted(rows, key=lambda row: (row[0], row[1]))

        # Reads, locks and decides with no await in between: what was read is what is locked.
        claims: list[_Claim] = []
        for _, user_id, config, slot in self._session.read(due):
            if len(claims) == limit:
                break
            # FOR UPDATE SKIP LOCKED: a user another unit is claiming, confirming, renewing,
            # releasing or controlling is skipped, never waited for; the ones taken stay locked
            # until this unit ends.
            if self._session.try_lock(automation_lock(user_id)):
                claims.append(
                    _decide(config, slot, owner=owner, ttl=ttl, now=now, trigger=default_trigger)
                )
        if claims:
            self._session.write(_claiming(claims, due_only=True))
        return [claim.lease for claim in claims]

    async def claim(
        self, user_id: str, owner: str, *, ttl: timedelta, trigger: Trigger
    ) -> Lease | None:
        check_owner(owner)
        check_ttl(ttl)
        forced_trigger = Trigger(trigger)
        await self._session.lock(automation_lock(user_id))
        now = self._now()

        def choose(tables: Tables) -> _Claim | None:
            config = tables.automation.get(user_id)
            if config is None:
                raise NotFound(f"no automation config for user {user_id!r}")
            slot = _slot(tables, user_id)
            if not slot.claimable_at(now):
                return None
            return _decide(
                config, slot, owner=owner, ttl=ttl, now=now, trigger=forced_trigger, forced=True
            )

        claim = self._session.read(choose)
        if claim is None:
            return None
        self._session.write(_claiming([claim], due_only=False))
        return claim.lease

    async def renew(self, lease: Lease, *, ttl: timedelta) -> Lease | None:
        check_ttl(ttl)
        await self._session.lock(automation_lock(lease.user_id))
        now = self._now()
        until = now + ttl
        if not self._session.read(lambda tables: _holds(tables, lease, now)):
            return None

        def renew(tables: Tables) -> None:
            slot = _held_or_lost(tables, lease, now)
            tables.lease_slots.put(lease.user_id, slot.renewed(until))
            _update_interval(tables, lease, expires_at=until)

        self._session.write(renew)
        return attrs.evolve(lease, expires_at=until)

    async def expire(self, held: LeaseInterval) -> bool:
        await self._session.lock(automation_lock(held.user_id))
        now = self._now()
        gone = now - EXPIRED_AT_ONCE

        def holds(tables: Tables) -> bool:
            slot = _slot(tables, held.user_id)
            return (
                slot.names_interval(held)
                and slot.lease_until is not None
                and slot.lease_until > now
            )

        if not self._session.read(holds):
            return False

        def expire(tables: Tables) -> None:
            if not holds(tables):
                raise LeaseLost(
                    f"the lease of user {held.user_id!r} (fencing {held.fencing}) held by "
                    f"{held.owner!r} changed hands before it could be ended"
                )
            tables.lease_slots.put(held.user_id, _slot(tables, held.user_id).renewed(gone))
            _update_interval(tables, held, expires_at=gone)

        self._session.write(expire)
        return True

    async def confirm(self, lease: Lease) -> bool:
        # Held until the unit ends, so that nobody takes the lease over before its commit.
        await self._session.lock(automation_lock(lease.user_id))
        now = self._now()
        if not self._session.read(lambda tables: _holds(tables, lease, now)):
            return False

        # Writes nothing, but is logged: replayed at commit, it fails the commit (LeaseLost)
        # when another owner took the lease over meanwhile, so the unit's fenced writes never
        # land.
        def confirm(tables: Tables) -> None:
            _held_or_lost(tables, lease, now)

        self._session.write(confirm)
        return True

    async def holds(self, lease: Lease) -> bool:
        # A read of what is committed now: no lock, nothing logged for the commit.
        now = self._now()
        return bool(self._session.read(lambda tables: _holds(tables, lease, now)))

    async def release(self, lease: Lease, *, completed: bool) -> bool:
        # Also waits for a control holding the config (Automation.get_for_update), whose change
        # the schedule then moves on from.
        await self._session.lock(automation_lock(lease.user_id))
        now = self._now()
        if not self._session.read(lambda tables: _owns(tables, lease)):
            return False
        outcome = COMPLETED if completed else RELEASED

        def release(tables: Tables) -> None:
            if not _owns(tables, lease):
                raise _lost(lease)
            if completed:
                # Applied to the config as it is at commit: a control's change committed while
                # the cycle ran is kept (AutomationConfig.completed).
                stored = tables.automation.get(lease.user_id)
                if stored is not None:
                    config = copy_entity(stored)
                    config.completed(due_at=lease.due_at, requested_at=lease.requested_at, now=now)
                    tables.automation.put(lease.user_id, config)
            tables.lease_slots.put(lease.user_id, _slot(tables, lease.user_id).released())
            _update_interval(tables, lease, released_at=now, outcome=outcome)

        self._session.write(release)
        return True

    async def next_wake(self) -> datetime | None:
        now = self._now()

        def next_wake(tables: Tables) -> datetime | None:
            times = (
                _slot(tables, config.user_id).wake_at(config, now)
                for config in tables.automation.values()
            )
            return min((t for t in times if t is not None), default=None)

        return self._session.read(next_wake)

    async def held(self) -> int:
        now = self._now()
        return self._session.read(
            lambda tables: sum(
                1
                for slot in tables.lease_slots.values()
                if slot.lease_until is not None and slot.lease_until > now
            )
        )

    async def intervals(self, user_id: str | None = None) -> Sequence[LeaseInterval]:
        def intervals(tables: Tables) -> list[LeaseInterval]:
            rows = sorted(
                (
                    stored
                    for stored in tables.lease_intervals.values()
                    if user_id is None or stored.interval.user_id == user_id
                ),
                key=lambda stored: (stored.interval.claimed_at, stored.insertion),
            )
            return [stored.interval for stored in rows]

        return self._session.read(intervals)

    async def prune_intervals(self, *, ended_before: datetime) -> int:
        cutoff = aware(ended_before, "ended_before")

        # A rule, not a list of keys: replayed at commit, it also prunes what ended meanwhile.
        def prune(tables: Tables) -> int:
            doomed = [
                key
                for key, stored in tables.lease_intervals.items()
                if stored.interval.ended_at < cutoff
            ]
            for key in doomed:
                tables.lease_intervals.delete(key)
            return len(doomed)

        return self._session.write(prune)

    def _now(self) -> datetime:
        return utc(self._clock.now())


class Daemons:
    """:class:`~tradecore.ports.DaemonRepository` in memory.

    :param session: the unit of work's session.
    :param clock: the store's clock (``seen_at``).
    """

    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def register(self, daemon: DaemonInfo) -> None:
        row = attrs.evolve(daemon, seen_at=utc(self._clock.now()))

        def register(tables: Tables) -> None:
            tables.daemons.put(row.owner, row)

        self._session.write(register)

    async def unregister(self, owner: str) -> None:
        def unregister(tables: Tables) -> None:
            tables.daemons.delete(owner)

        self._session.write(unregister)

    async def list(self) -> Sequence[DaemonInfo]:
        def list_(tables: Tables) -> list[DaemonInfo]:
            return sorted(tables.daemons.values(), key=lambda d: (d.started_at, d.owner))

        return self._session.read(list_)


def _decide(
    config: AutomationConfig,
    slot: LeaseSlot,
    *,
    owner: str,
    ttl: timedelta,
    now: datetime,
    trigger: Trigger,
    forced: bool = False,
) -> _Claim:
    # Everything a claim hands out is fixed here, once (by the domain's rule): the replay at
    # commit only checks it.
    lease = slot.claim(config, owner=owner, ttl=ttl, now=now, trigger=trigger, forced=forced)
    return _Claim(lease, slot, next_insertion())


def _claiming(claims: Sequence[_Claim], *, due_only: bool) -> Operation[None]:
    def claim(tables: Tables) -> None:
        for claim in claims:
            lease = claim.lease
            config = tables.automation.get(lease.user_id)
            if config is None:
                raise NotFound(f"no automation config for user {lease.user_id!r}")
            slot = _slot(tables, lease.user_id)
            if slot.fencing != claim.before.fencing:
                raise RepositoryError(
                    f"the cycle of user {lease.user_id!r} was claimed meanwhile by another unit"
                )
            if slot != claim.before:
                raise RepositoryError(
                    f"the lease of user {lease.user_id!r} was renewed or released meanwhile by "
                    "another unit"
                )
            if due_only and not config.is_due(lease.claimed_at):
                raise RepositoryError(
                    f"the cycle of user {lease.user_id!r} is no longer due: its schedule was "
                    "changed meanwhile by another unit"
                )
            tables.lease_slots.put(lease.user_id, LeaseSlot.taken(lease))
            tables.lease_intervals.put(
                (lease.user_id, lease.fencing),
                StoredInterval(
                    claim.insertion,
                    LeaseInterval(
                        user_id=lease.user_id,
                        owner=lease.owner,
                        fencing=lease.fencing,
                        run_id=lease.run_id,
                        claimed_at=lease.claimed_at,
                        expires_at=lease.expires_at,
                    ),
                ),
            )

    return claim


def _slot(tables: Tables, user_id: str) -> LeaseSlot:
    return tables.lease_slots.get(user_id) or FREE_SLOT


def _owns(tables: Tables, lease: Lease) -> bool:
    # The slot still names this lease (it may have expired, but nobody took it over).
    return _slot(tables, lease.user_id).names(lease)


def _holds(tables: Tables, lease: Lease, now: datetime) -> bool:
    # The slot names this lease and it has not expired at ``now``.
    return _slot(tables, lease.user_id).holds(lease, now)


def _held_or_lost(tables: Tables, lease: Lease, now: datetime) -> LeaseSlot:
    slot = _slot(tables, lease.user_id)
    if not slot.holds(lease, now):
        raise _lost(lease)
    return slot


def _lost(lease: Lease) -> LeaseLost:
    return LeaseLost(
        f"the lease of user {lease.user_id!r} (fencing {lease.fencing}) held by {lease.owner!r} "
        "was lost meanwhile: another unit took it over or released it"
    )


def _update_interval(
    tables: Tables,
    lease: Lease | LeaseInterval,
    *,
    expires_at: datetime | None = None,
    released_at: datetime | None = None,
    outcome: str | None = None,
) -> None:
    key = (lease.user_id, lease.fencing)
    stored = tables.lease_intervals.get(key)
    if stored is None:  # pruned meanwhile: nothing left to record on
        return
    interval = stored.interval
    if expires_at is not None:
        interval = attrs.evolve(interval, expires_at=expires_at)
    if released_at is not None:
        interval = attrs.evolve(interval, released_at=released_at, outcome=outcome)
    tables.lease_intervals.put(key, stored._replace(interval=interval))
