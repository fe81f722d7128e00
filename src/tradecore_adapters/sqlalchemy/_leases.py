"""SQL repositories of the scheduler: the lease of each user's cycle and the daemon registry.

The lease slot (:class:`~tradecore.domain.lease.LeaseSlot`) is four columns of
``automation_configs`` (``leased_by``, ``lease_until``, ``fencing``, ``lease_run_id``) that only
this module writes; each claim is also kept in ``lease_audit`` (how leases, fencing and takeovers
work: docs/operations.md, "Several daemons: PostgreSQL"). The claim rule (who may claim, when a
slot is claimable, what a claim hands out) is the domain's (:mod:`tradecore.domain.lease`),
shared with the memory store: this module selects and locks the rows it applies to, in SQL.

Time is the store's: PostgreSQL's ``clock_timestamp()`` (the server's clock when the statement
runs, not the start of the transaction as ``now()`` would be, so that a unit that lives a while
still compares against the present), read once per operation and then used in bound parameters,
so the SQL is the same on both backends; on SQLite, which runs on one host, this host's clock.

Locking. Every write reads the rows it changes under a lock first, then reads the time:

* PostgreSQL: ``SELECT … FOR UPDATE`` (``SKIP LOCKED`` for :meth:`SqlLeases.claim_due`, so that
  claimers never wait for each other and never get the same user), held until the unit ends;
* SQLite: ``BEGIN IMMEDIATE`` (:meth:`Transaction.write`), the database's single write lock,
  which serialises claimers (one host only).

:meth:`SqlLeases.confirm` reads the row under the unit's write lock, in one statement: on
PostgreSQL ``SELECT … FOR UPDATE`` (with the server's clock in the statement), which keeps the row
locked until the unit commits, so a claimer cannot take the lease over between the check and the
unit's commit (it skips or waits for the row); on SQLite after ``BEGIN IMMEDIATE``, the database's
write lock, held until the unit ends.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from attrs import evolve
from sqlalchemy import DateTime, and_, case, delete, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tradecore.domain import (
    AutomationConfig,
    AutomationState,
    DaemonInfo,
    Lease,
    LeaseInterval,
    Trigger,
)
from tradecore.domain.lease import (
    COMPLETED,
    EXPIRED_AT_ONCE,
    RELEASED,
    LeaseSlot,
    check_limit,
    check_owner,
    check_ttl,
)
from tradecore.errors import DomainError, NotFound, RepositoryError
from tradecore_adapters.sqlalchemy._rows import (
    UnreadableRow,
    automation_from_row,
    daemon_from_row,
    daemon_row,
    fetching,
    interval_from_row,
)
from tradecore_adapters.sqlalchemy._unit import Transaction, database_error
from tradecore_adapters.sqlalchemy.schema import automation_configs, automation_daemons, lease_audit

__all__ = ["SqlDaemons", "SqlLeases"]

_configs = automation_configs.c
_audit = lease_audit.c


class _SlotRow(NamedTuple):
    # An automation_configs row as the lease repository sees it: the config and its lease slot.
    config: AutomationConfig
    slot: LeaseSlot


def _slot_row(row: RowMapping) -> _SlotRow:
    config = automation_from_row(row)  # raises UnreadableRow itself
    try:
        slot = LeaseSlot(
            fencing=row["fencing"],
            leased_by=row["leased_by"],
            lease_until=row["lease_until"],
            lease_run_id=row["lease_run_id"],
        )
    except (DomainError, KeyError) as exc:
        raise UnreadableRow(
            f"a row of table 'automation_configs' (user id {row['user_id']!r}) cannot be read: "
            f"{type(exc).__name__}; the database holds a value tradecore never writes"
        ) from None
    return _SlotRow(config, slot)


def _slot_due(now: datetime) -> Any:
    """The rows whose scheduled slot has come at ``now`` (:func:`~tradecore.domain.lease.due_slot`
    in SQL)."""
    return (_configs.state == AutomationState.ACTIVE.value) & (_configs.next_due_at <= now)


class SqlLeases:
    """:class:`~tradecore.ports.LeaseRepository` in SQL (see the module docstring)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def now(self) -> datetime:
        if self._tx.sqlite:
            return datetime.now(UTC)
        db = await self._tx.read()
        try:
            value = await db.scalar(select(func.clock_timestamp(type_=DateTime(timezone=True))))
        except DBAPIError as exc:
            raise database_error(exc) from None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise RepositoryError(f"the database's clock gave {value!r}, not a time")
        return value.astimezone(UTC)

    async def claim_due(
        self, owner: str, *, ttl: timedelta, limit: int, trigger: Trigger
    ) -> Sequence[Lease]:
        check_owner(owner)
        check_ttl(ttl)
        check_limit(limit)
        trigger = Trigger(trigger)
        if limit == 0:
            return []
        async with self._tx.atomic() as db:
            now = await self.now()  # on SQLite, after BEGIN IMMEDIATE took the write lock
            slot_due = _slot_due(now)
            # LeaseSlot.claimable_at in SQL.
            free = _configs.lease_until.is_(None) | (_configs.lease_until < now)
            # When the claim became due: its slot or its run request, whichever came first
            # (tradecore.domain.lease.due_since in SQL).
            due_since = case(
                (
                    slot_due
                    & (
                        _configs.run_requested_at.is_(None)
                        | (_configs.next_due_at <= _configs.run_requested_at)
                    ),
                    _configs.next_due_at,
                ),
                else_=_configs.run_requested_at,
            )
            query = (
                select(automation_configs)
                .where((_configs.run_requested_at.is_not(None) | slot_due) & free)
                .order_by(due_since, self._tx.text_order(_configs.user_id))
                .limit(limit)
            )
            if not self._tx.sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = await self._fetch(db, query)
            leases = [
                row.slot.claim(
                    row.config, owner=owner, ttl=ttl, now=now, trigger=trigger, forced=False
                )
                for row in rows
            ]
            await self._take(db, rows, leases)
        return leases

    async def claim(
        self, user_id: str, owner: str, *, ttl: timedelta, trigger: Trigger
    ) -> Lease | None:
        check_owner(owner)
        check_ttl(ttl)
        trigger = Trigger(trigger)
        async with self._tx.atomic() as db:
            row = await self._lock(db, user_id)
            if row is None:
                raise NotFound(f"no automation config for user {user_id!r}")
            now = await self.now()
            if not row.slot.claimable_at(now):
                return None
            lease = row.slot.claim(
                row.config, owner=owner, ttl=ttl, now=now, trigger=trigger, forced=True
            )
            await self._take(db, [row], [lease])
        return lease

    async def renew(self, lease: Lease, *, ttl: timedelta) -> Lease | None:
        check_ttl(ttl)
        async with self._tx.atomic() as db:
            now = await self.now()
            until = now + ttl
            result = await db.execute(
                update(automation_configs).where(self._held(lease, now)).values(lease_until=until)
            )
            if result.rowcount != 1:
                return None
            await db.execute(
                update(lease_audit).where(self._audited(lease)).values(expires_at=until)
            )
        return evolve(lease, expires_at=until)

    async def expire(self, held: LeaseInterval) -> bool:
        async with self._tx.atomic() as db:
            now = await self.now()
            gone = now - EXPIRED_AT_ONCE
            result = await db.execute(
                update(automation_configs)
                .where(
                    (_configs.user_id == held.user_id)
                    & (_configs.leased_by == held.owner)
                    & (_configs.fencing == held.fencing)
                    & (_configs.lease_until > now)
                )
                .values(lease_until=gone)
            )
            if result.rowcount != 1:
                return False
            await db.execute(
                update(lease_audit)
                .where(
                    (_audit.user_id == held.user_id)
                    & (_audit.fencing == held.fencing)
                    & (_audit.owner == held.owner)
                )
                .values(expires_at=gone)
            )
        return True

    async def confirm(self, lease: Lease) -> bool:
        # One statement, and no savepoint: a unit whose confirmation fails is given up. It reads
        # the row under the unit's write lock: on SQLite the database's (BEGIN IMMEDIATE, taken
        # first by write()), held until the unit ends, so no claimer writes before its commit;
        # on PostgreSQL the row's (FOR UPDATE, held until the unit ends), so a claimer skips or
        # waits for the row, and the store's clock is read in the same statement.
        db = await self._tx.write()
        if self._tx.sqlite:
            query = select(_configs.user_id).where(self._held(lease, datetime.now(UTC)))
        else:
            query = (
                select(_configs.user_id)
                .where(self._held(lease, func.clock_timestamp()))
                .with_for_update()
            )
        try:
            return (await db.execute(query)).first() is not None
        except DBAPIError as exc:
            raise database_error(exc) from None

    async def holds(self, lease: Lease) -> bool:
        # One plain read of what is committed now: no write transaction (on SQLite no BEGIN
        # IMMEDIATE), no row lock; the store's clock in the statement on PostgreSQL.
        db = await self._tx.read()
        now = datetime.now(UTC) if self._tx.sqlite else func.clock_timestamp()
        try:
            return (
                await db.execute(select(_configs.user_id).where(self._held(lease, now)))
            ).first() is not None
        except DBAPIError as exc:
            raise database_error(exc) from None

    async def release(self, lease: Lease, *, completed: bool) -> bool:
        async with self._tx.atomic() as db:
            row = await self._lock(db, lease.user_id)
            if row is None or not row.slot.names(lease):
                return False  # taken over (or the user removed): not ours to change
            now = await self.now()
            values = _slot_columns(row.slot.released())
            if completed:
                config = row.config
                config.completed(due_at=lease.due_at, requested_at=lease.requested_at, now=now)
                values |= {
                    "next_due_at": config.next_due_at,
                    "last_run_at": config.last_run_at,
                    "run_requested_at": config.run_requested_at,
                }
            result = await db.execute(
                update(automation_configs)
                .where(
                    _configs.user_id == lease.user_id,
                    _configs.leased_by == lease.owner,
                    _configs.fencing == lease.fencing,
                )
                .values(values)
            )
            if result.rowcount != 1:
                raise RepositoryError(f"the lease of user {lease.user_id!r} changed while locked")
            await db.execute(
                update(lease_audit)
                .where(self._audited(lease))
                .values(released_at=now, outcome=COMPLETED if completed else RELEASED)
            )
        return True

    async def next_wake(self) -> datetime | None:
        db = await self._tx.read()
        query = select(automation_configs).where(
            _configs.run_requested_at.is_not(None)
            | ((_configs.state == AutomationState.ACTIVE.value) & _configs.next_due_at.is_not(None))
        )
        rows = await self._fetch(db, query)
        now = await self.now()
        times = (row.slot.wake_at(row.config, now) for row in rows)
        return min((t for t in times if t is not None), default=None)

    async def held(self) -> int:
        now = await self.now()
        db = await self._tx.read()
        query = select(func.count()).where(
            _configs.leased_by.is_not(None), _configs.lease_until > now
        )
        return int(await db.scalar(query) or 0)

    async def intervals(self, user_id: str | None = None) -> Sequence[LeaseInterval]:
        query = select(lease_audit)
        if user_id is not None:
            query = query.where(_audit.user_id == user_id)
        query = query.order_by(_audit.claimed_at, _audit.fencing, _audit.id)
        db = await self._tx.read()
        result = await db.execute(query)
        with fetching("lease_audit"):
            rows = result.mappings().all()
        return [interval_from_row(row) for row in rows]

    async def prune_intervals(self, *, ended_before: datetime) -> int:
        ended = or_(
            and_(_audit.released_at.is_not(None), _audit.released_at < ended_before),
            and_(_audit.released_at.is_(None), _audit.expires_at < ended_before),
        )
        async with self._tx.atomic() as db:
            result = await db.execute(delete(lease_audit).where(ended))
            return result.rowcount

    # -- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _held(lease: Lease, now: Any) -> Any:
        """The config row while ``lease`` is held and unexpired at ``now`` (a time, or the
        store's clock in SQL) (:meth:`LeaseSlot.holds` in SQL)."""
        return (
            (_configs.user_id == lease.user_id)
            & (_configs.leased_by == lease.owner)
            & (_configs.fencing == lease.fencing)
            & (_configs.lease_until > now)
        )

    @staticmethod
    def _audited(lease: Lease) -> Any:
        """The audit row of ``lease``."""
        return (
            (_audit.user_id == lease.user_id)
            & (_audit.fencing == lease.fencing)
            & (_audit.owner == lease.owner)
        )

    async def _fetch(self, db: AsyncConnection, query: Any) -> builtins.list[_SlotRow]:
        try:
            result = await db.execute(query)
            with fetching("automation_configs"):
                rows: Sequence[RowMapping] = result.mappings().all()
        except DBAPIError as exc:
            raise database_error(exc) from None
        return [_slot_row(row) for row in rows]

    async def _lock(self, db: AsyncConnection, user_id: str) -> _SlotRow | None:
        """The user's row, locked until the unit ends (PostgreSQL ``FOR UPDATE``; on SQLite the
        caller holds the write lock)."""
        query = select(automation_configs).where(_configs.user_id == user_id)
        if not self._tx.sqlite:
            query = query.with_for_update()
        rows = await self._fetch(db, query)
        return rows[0] if rows else None

    async def _take(
        self, db: AsyncConnection, rows: Sequence[_SlotRow], leases: Sequence[Lease]
    ) -> None:
        """Write the claims (each row is locked by the caller) and their audit records."""
        if not leases:
            return
        for row, lease in zip(rows, leases, strict=True):
            result = await db.execute(
                update(automation_configs)
                .where(_configs.user_id == lease.user_id, _configs.fencing == row.slot.fencing)
                .values(_slot_columns(LeaseSlot.taken(lease)))
            )
            if result.rowcount != 1:
                raise RepositoryError(f"the lease of user {lease.user_id!r} changed while locked")
        await db.execute(
            insert(lease_audit),
            [
                {
                    "user_id": lease.user_id,
                    "owner": lease.owner,
                    "fencing": lease.fencing,
                    "run_id": lease.run_id,
                    "claimed_at": lease.claimed_at,
                    "expires_at": lease.expires_at,
                }
                for lease in leases
            ],
        )


def _slot_columns(slot: LeaseSlot) -> dict[str, Any]:
    """A lease slot as the four lease columns of ``automation_configs``."""
    return {
        "fencing": slot.fencing,
        "leased_by": slot.leased_by,
        "lease_until": slot.lease_until,
        "lease_run_id": slot.lease_run_id,
    }


class SqlDaemons:
    """:class:`~tradecore.ports.DaemonRepository` in SQL."""

    def __init__(self, tx: Transaction, leases: SqlLeases) -> None:
        self._tx = tx
        self._leases = leases

    async def register(self, daemon: DaemonInfo) -> None:
        async with self._tx.atomic() as db:
            now = await self._leases.now()
            row = daemon_row(daemon) | {"seen_at": now}
            result = await db.execute(
                update(automation_daemons)
                .where(automation_daemons.c.owner == daemon.owner)
                .values({k: v for k, v in row.items() if k != "owner"})
            )
            if result.rowcount == 0:
                await db.execute(insert(automation_daemons), [row])

    async def unregister(self, owner: str) -> None:
        async with self._tx.atomic() as db:
            await db.execute(delete(automation_daemons).where(automation_daemons.c.owner == owner))

    async def list(self) -> Sequence[DaemonInfo]:
        query = select(automation_daemons).order_by(
            automation_daemons.c.started_at, self._tx.text_order(automation_daemons.c.owner)
        )
        db = await self._tx.read()
        result = await db.execute(query)
        with fetching("automation_daemons"):
            rows = result.mappings().all()
        return [daemon_from_row(row) for row in rows]
