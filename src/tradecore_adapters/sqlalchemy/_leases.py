"""SQL repository of the scheduler's leases: the lease of each user's cycle (the daemon registry
is in :mod:`._daemons`).

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
import functools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from attrs import evolve
from sqlalchemy import (
    DateTime,
    Integer,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from tradecore.domain import (
    AutomationConfig,
    AutomationState,
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
    fetching,
    interval_from_row,
)
from tradecore_adapters.sqlalchemy._unit import Transaction, database_error, text_order
from tradecore_adapters.sqlalchemy.schema import automation_configs, lease_audit

__all__ = ["SqlLeases"]

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


def _slot_due(now: Any) -> Any:
    """The rows whose scheduled slot has come at ``now`` (:func:`~tradecore.domain.lease.due_slot`
    in SQL)."""
    return (_configs.state == AutomationState.ACTIVE.value) & (_configs.next_due_at <= now)


# The statements, built once (a statement built per call costs more CPU than it takes the database
# to run it): the values are bound parameters ("b_…", so that none is named like a column an
# UPDATE sets), which take the type of the column they are compared with or written to.
_NOW = bindparam("b_now", type_=_configs.lease_until.type)


def _held(now: Any) -> Any:
    """The config row while the lease (``b_user_id``, ``b_owner``, ``b_fencing``) is held and
    unexpired at ``now`` (a bound time, or the store's clock in SQL) (:meth:`LeaseSlot.holds`
    in SQL)."""
    return (
        (_configs.user_id == bindparam("b_user_id"))
        & (_configs.leased_by == bindparam("b_owner"))
        & (_configs.fencing == bindparam("b_fencing"))
        & (_configs.lease_until > now)
    )


# The audit row of the lease (b_user_id, b_fencing, b_owner).
_AUDITED = (
    (_audit.user_id == bindparam("b_user_id"))
    & (_audit.fencing == bindparam("b_fencing"))
    & (_audit.owner == bindparam("b_owner"))
)

_CLOCK = select(func.clock_timestamp(type_=DateTime(timezone=True)))
# confirm (SQLite, and PostgreSQL with the row locked) and holds (SQLite, PostgreSQL).
_HELD_AT = select(_configs.user_id).where(_held(_NOW))
_HELD_LOCKED_NOW = select(_configs.user_id).where(_held(func.clock_timestamp())).with_for_update()
_HELD_NOW = select(_configs.user_id).where(_held(func.clock_timestamp()))
# renew and expire: the lease's end moved to b_lease_until, and its audit record's.
_SET_LEASE_UNTIL = (
    update(automation_configs).where(_held(_NOW)).values(lease_until=bindparam("b_lease_until"))
)
_SET_AUDIT_EXPIRES = (
    update(lease_audit).where(_AUDITED).values(expires_at=bindparam("b_expires_at"))
)
_SLOT_SET: dict[str, Any] = {
    "fencing": bindparam("b_set_fencing"),
    "leased_by": bindparam("b_set_leased_by"),
    "lease_until": bindparam("b_set_lease_until"),
    "lease_run_id": bindparam("b_set_lease_run_id"),
}
_COMPLETED_SET: dict[str, Any] = {
    "next_due_at": bindparam("b_set_next_due_at"),
    "last_run_at": bindparam("b_set_last_run_at"),
    "run_requested_at": bindparam("b_set_run_requested_at"),
}
_RELEASE_WHERE = (
    _configs.user_id == bindparam("b_user_id"),
    _configs.leased_by == bindparam("b_owner"),
    _configs.fencing == bindparam("b_fencing"),
)
# release: the slot let go, and (completed) the schedule moved on.
_RELEASE = update(automation_configs).where(*_RELEASE_WHERE).values(_SLOT_SET)
_RELEASE_COMPLETED = (
    update(automation_configs).where(*_RELEASE_WHERE).values(_SLOT_SET | _COMPLETED_SET)
)
_AUDIT_RELEASED = (
    update(lease_audit)
    .where(_AUDITED)
    .values(released_at=bindparam("b_released_at"), outcome=bindparam("b_outcome"))
)
# _take: the slot taken from the fencing it was read with.
_TAKE = (
    update(automation_configs)
    .where(
        _configs.user_id == bindparam("b_user_id"),
        _configs.fencing == bindparam("b_fencing"),
    )
    .values(_SLOT_SET)
)
_AUDIT_INSERT = insert(lease_audit)
_NEXT_WAKE = select(automation_configs).where(
    _configs.run_requested_at.is_not(None)
    | ((_configs.state == AutomationState.ACTIVE.value) & _configs.next_due_at.is_not(None))
)
_HELD_COUNT = select(func.count()).where(
    _configs.leased_by.is_not(None), _configs.lease_until > _NOW
)
_INTERVALS_ORDER = (_audit.claimed_at, _audit.fencing, _audit.id)
_INTERVALS = select(lease_audit).order_by(*_INTERVALS_ORDER)
_USER_INTERVALS = (
    select(lease_audit).where(_audit.user_id == bindparam("b_user_id")).order_by(*_INTERVALS_ORDER)
)
_ENDED_BEFORE = bindparam("b_ended_before", type_=_audit.released_at.type)
_PRUNE_INTERVALS = delete(lease_audit).where(
    or_(
        and_(_audit.released_at.is_not(None), _audit.released_at < _ENDED_BEFORE),
        and_(_audit.released_at.is_(None), _audit.expires_at < _ENDED_BEFORE),
    )
)


@functools.cache
def _claimable(sqlite: bool) -> Select[Any]:
    """claim_due's query: the rows claimable at ``b_now``, in the order they became due, at most
    ``b_limit``; on PostgreSQL locked, skipping the rows other claimers hold."""
    slot_due = _slot_due(_NOW)
    # LeaseSlot.claimable_at in SQL.
    free = _configs.lease_until.is_(None) | (_configs.lease_until < _NOW)
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
    user_order = text_order(_configs.user_id, sqlite=sqlite)
    query = (
        select(automation_configs)
        .where((_configs.run_requested_at.is_not(None) | slot_due) & free)
        .order_by(due_since, user_order)
        .limit(bindparam("b_limit", type_=Integer))
    )
    return query if sqlite else query.with_for_update(skip_locked=True)


@functools.cache
def _locked(sqlite: bool) -> Select[Any]:
    """The user's (``b_user_id``) row, locked on PostgreSQL (``FOR UPDATE``)."""
    query = select(automation_configs).where(_configs.user_id == bindparam("b_user_id"))
    return query if sqlite else query.with_for_update()


def _lease_keys(lease: Lease) -> dict[str, Any]:
    """The bound parameters naming ``lease`` (its config row and its audit record)."""
    return {"b_user_id": lease.user_id, "b_owner": lease.owner, "b_fencing": lease.fencing}


class SqlLeases:
    """:class:`~tradecore.ports.LeaseRepository` in SQL (see the module docstring)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def now(self) -> datetime:
        if self._tx.sqlite:
            return datetime.now(UTC)
        db = await self._tx.read()
        try:
            value = await db.scalar(_CLOCK)
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
            rows = await self._fetch(
                db, _claimable(self._tx.sqlite), {"b_now": now, "b_limit": limit}
            )
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
            keys = _lease_keys(lease)
            result = await db.execute(
                _SET_LEASE_UNTIL, keys | {"b_now": now, "b_lease_until": until}
            )
            if result.rowcount != 1:
                return None
            await db.execute(_SET_AUDIT_EXPIRES, keys | {"b_expires_at": until})
        return evolve(lease, expires_at=until)

    async def expire(self, held: LeaseInterval) -> bool:
        async with self._tx.atomic() as db:
            now = await self.now()
            gone = now - EXPIRED_AT_ONCE
            keys = {"b_user_id": held.user_id, "b_owner": held.owner, "b_fencing": held.fencing}
            result = await db.execute(
                _SET_LEASE_UNTIL, keys | {"b_now": now, "b_lease_until": gone}
            )
            if result.rowcount != 1:
                return False
            await db.execute(_SET_AUDIT_EXPIRES, keys | {"b_expires_at": gone})
        return True

    async def confirm(self, lease: Lease) -> bool:
        # One statement, and no savepoint: a unit whose confirmation fails is given up. It reads
        # the row under the unit's write lock: on SQLite the database's (BEGIN IMMEDIATE, taken
        # first by write()), held until the unit ends, so no claimer writes before its commit;
        # on PostgreSQL the row's (FOR UPDATE, held until the unit ends), so a claimer skips or
        # waits for the row, and the store's clock is read in the same statement.
        db = await self._tx.write()
        keys = _lease_keys(lease)
        if self._tx.sqlite:
            query, keys["b_now"] = _HELD_AT, datetime.now(UTC)
        else:
            query = _HELD_LOCKED_NOW
        try:
            return (await db.execute(query, keys)).first() is not None
        except DBAPIError as exc:
            raise database_error(exc) from None

    async def holds(self, lease: Lease) -> bool:
        # One plain read of what is committed now: no write transaction (on SQLite no BEGIN
        # IMMEDIATE), no row lock; the store's clock in the statement on PostgreSQL.
        db = await self._tx.read()
        keys = _lease_keys(lease)
        if self._tx.sqlite:
            query, keys["b_now"] = _HELD_AT, datetime.now(UTC)
        else:
            query = _HELD_NOW
        try:
            return (await db.execute(query, keys)).first() is not None
        except DBAPIError as exc:
            raise database_error(exc) from None

    async def release(self, lease: Lease, *, completed: bool) -> bool:
        async with self._tx.atomic() as db:
            row = await self._lock(db, lease.user_id)
            if row is None or not row.slot.names(lease):
                return False  # taken over (or the user removed): not ours to change
            now = await self.now()
            keys = _lease_keys(lease)
            values = keys | _slot_columns(row.slot.released())
            if completed:
                config = row.config
                config.completed(due_at=lease.due_at, requested_at=lease.requested_at, now=now)
                values |= {
                    "b_set_next_due_at": config.next_due_at,
                    "b_set_last_run_at": config.last_run_at,
                    "b_set_run_requested_at": config.run_requested_at,
                }
            result = await db.execute(_RELEASE_COMPLETED if completed else _RELEASE, values)
            if result.rowcount != 1:
                raise RepositoryError(f"the lease of user {lease.user_id!r} changed while locked")
            await db.execute(
                _AUDIT_RELEASED,
                keys | {"b_released_at": now, "b_outcome": COMPLETED if completed else RELEASED},
            )
        return True

    async def next_wake(self) -> datetime | None:
        db = await self._tx.read()
        rows = await self._fetch(db, _NEXT_WAKE)
        now = await self.now()
        times = (row.slot.wake_at(row.config, now) for row in rows)
        return min((t for t in times if t is not None), default=None)

    async def held(self) -> int:
        now = await self.now()
        db = await self._tx.read()
        return int(await db.scalar(_HELD_COUNT, {"b_now": now}) or 0)

    async def intervals(self, user_id: str | None = None) -> Sequence[LeaseInterval]:
        db = await self._tx.read()
        if user_id is None:
            result = await db.execute(_INTERVALS)
        else:
            result = await db.execute(_USER_INTERVALS, {"b_user_id": user_id})
        with fetching("lease_audit"):
            rows = result.mappings().all()
        return [interval_from_row(row) for row in rows]

    async def prune_intervals(self, *, ended_before: datetime) -> int:
        async with self._tx.atomic() as db:
            result = await db.execute(_PRUNE_INTERVALS, {"b_ended_before": ended_before})
            return result.rowcount

    # -- helpers -----------------------------------------------------------------------------------

    async def _fetch(
        self, db: AsyncConnection, query: Any, parameters: dict[str, Any] | None = None
    ) -> builtins.list[_SlotRow]:
        try:
            result = await db.execute(query, parameters)
            with fetching("automation_configs"):
                rows: Sequence[RowMapping] = result.mappings().all()
        except DBAPIError as exc:
            raise database_error(exc) from None
        return [_slot_row(row) for row in rows]

    async def _lock(self, db: AsyncConnection, user_id: str) -> _SlotRow | None:
        """The user's row, locked until the unit ends (PostgreSQL ``FOR UPDATE``; on SQLite the
        caller holds the write lock)."""
        rows = await self._fetch(db, _locked(self._tx.sqlite), {"b_user_id": user_id})
        return rows[0] if rows else None

    async def _take(
        self, db: AsyncConnection, rows: Sequence[_SlotRow], leases: Sequence[Lease]
    ) -> None:
        """Write the claims (each row is locked by the caller) and their audit records."""
        if not leases:
            return
        for row, lease in zip(rows, leases, strict=True):
            result = await db.execute(
                _TAKE,
                {"b_user_id": lease.user_id, "b_fencing": row.slot.fencing}
                | _slot_columns(LeaseSlot.taken(lease)),
            )
            if result.rowcount != 1:
                raise RepositoryError(f"the lease of user {lease.user_id!r} changed while locked")
        await db.execute(
            _AUDIT_INSERT,
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
    """A lease slot as the values of the four lease columns of ``automation_configs`` (the
    parameters of ``_SLOT_SET``)."""
    return {
        "b_set_fencing": slot.fencing,
        "b_set_leased_by": slot.leased_by,
        "b_set_lease_until": slot.lease_until,
        "b_set_lease_run_id": slot.lease_run_id,
    }
