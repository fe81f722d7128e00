"""Leases: how a scheduler claims one user's cycle so that no two processes run it at once
(docs/operations.md, "Several daemons: PostgreSQL" and "Crash and restart").

A :class:`Lease` is held by one *owner* (a daemon or a ``tradecore run`` process) until it
expires; the owner renews it while the cycle runs (the heartbeat). Every claim increments the
user's *fencing token*: a write made under an older token is refused, so a process that lost its
lease (paused past the expiry, cut off from the database) cannot commit anything after another
took over. Each lease is kept as a :class:`LeaseInterval` in an audit, which shows that no two
intervals of one user ever overlapped.

The claim rule is written here once, and every repository applies it (the stores decide only
how rows are locked and read): who may claim (:func:`check_owner`), for how long
(:func:`check_ttl`) and how many at once (:func:`check_limit`); when a user's cycle is due
(:func:`due_since`) and which slot it serves (:func:`due_slot`); when a :class:`LeaseSlot` is
claimable (:meth:`LeaseSlot.claimable_at`) and what a claim hands out (:meth:`LeaseSlot.claim`).

A lease is held while ``lease_until > now`` and claimable once ``lease_until < now``: at the very
instant of its expiry it is neither renewable nor claimable, so two owners never both hold it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import evolve, field, frozen

from tradecore.domain._checks import non_empty, optional_utc, utc
from tradecore.domain.automation import AutomationConfig, AutomationState, Trigger
from tradecore.domain.ids import new_id
from tradecore.errors import DomainError

__all__ = [
    "COMPLETED",
    "EXPIRED_AT_ONCE",
    "FREE_SLOT",
    "RELEASED",
    "DaemonInfo",
    "Lease",
    "LeaseInterval",
    "LeaseSlot",
    "check_limit",
    "check_owner",
    "check_ttl",
    "due_since",
    "due_slot",
    "due_time",
]

EXPIRED_AT_ONCE = timedelta(microseconds=1)
"""How far before "now" a lease ended at once is set to expire, so that a claim at the same
instant takes it (a lease is claimable once it expired strictly before the claim)."""

COMPLETED = "completed"
"""The audit outcome (:attr:`LeaseInterval.outcome`) of a lease released after its cycle ran."""

RELEASED = "released"
"""The audit outcome of a lease given back unfinished (at shutdown)."""


def _positive(instance: object, attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DomainError(f"a fencing token is a whole number >= 1, got {value!r}")


@frozen(kw_only=True)
class Lease:
    """One claimed cycle of one user.

    :param owner: who holds it (``host:pid:tag``).
    :param fencing: the user's fencing token for this claim; every claim increments it.
    :param run_id: the id the cycle's :class:`~tradecore.domain.AutomationRun` gets.
    :param trigger: why it runs: the schedule, cron, or a person (run-now, ``--force``).
    :param claimed_at: when it was claimed, by the database's clock.
    :param expires_at: when it lapses unless renewed, by the database's clock.
    :param due_at: the schedule slot this cycle serves (``None`` when it serves none).
    :param requested_at: the run-now request this cycle serves (``None`` when none).
    :param interrupted_run_id: the run that an expired lease of a previous owner left
        unfinished, for the new owner to close.
    """

    user_id: str = field(validator=non_empty)
    owner: str = field(validator=non_empty)
    fencing: int = field(validator=_positive)
    run_id: str = field(validator=non_empty)
    trigger: Trigger = field(converter=Trigger)
    claimed_at: datetime = field(converter=utc)
    expires_at: datetime = field(converter=utc)
    due_at: datetime | None = field(default=None, converter=optional_utc)
    requested_at: datetime | None = field(default=None, converter=optional_utc)
    interrupted_run_id: str | None = None


@frozen(kw_only=True)
class LeaseInterval:
    """The audit record of one lease: who held a user's cycle, from when until when.

    :param released_at: when the owner gave it back; ``None`` while held, or when the owner
        vanished and the lease simply lapsed at ``expires_at``.
    :param outcome: ``completed`` (the cycle ran), ``released`` (given back unfinished, at
        shutdown), or ``None`` while held or when it lapsed.
    """

    user_id: str
    owner: str
    fencing: int
    run_id: str
    claimed_at: datetime = field(converter=utc)
    expires_at: datetime = field(converter=utc)
    released_at: datetime | None = field(default=None, converter=optional_utc)
    outcome: str | None = None

    @property
    def ended_at(self) -> datetime:
        """When the interval ended: its release, or else its (last renewed) expiry."""
        return self.released_at if self.released_at is not None else self.expires_at


@frozen(kw_only=True)
class DaemonInfo:
    """A running scheduler, as it registers itself in the database.

    :param owner: its lease owner name (``host:pid:tag``).
    :param host: the machine it runs on.
    :param seen_at: its last heartbeat, by the database's clock.
    """

    owner: str
    host: str
    pid: int
    started_at: datetime = field(converter=utc)
    seen_at: datetime = field(converter=utc)


# -- the claim rule ----------------------------------------------------------------------------------


def check_owner(owner: object) -> str:
    """Return ``owner`` if it may claim a lease: a name with something other than whitespace in
    it (``host:pid:tag``), as :attr:`Lease.owner` requires. Checked before anything is read, so
    a bad owner is refused whether or not there is anything to claim.

    :raises DomainError: it is not such a name.
    """
    if not isinstance(owner, str) or not owner.strip():
        raise DomainError(f"a lease owner must be a non-empty name, got {owner!r}")
    return owner


def check_ttl(ttl: object) -> timedelta:
    """Return ``ttl`` if it is a positive duration (how long a claim or renewal holds).

    :raises DomainError: it is not.
    """
    if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
        raise DomainError(f"a lease ttl must be a positive duration, got {ttl!r}")
    return ttl


def check_limit(limit: object) -> int:
    """Return ``limit`` if it is a whole number >= 0 (how many cycles one call may claim).

    :raises DomainError: it is not.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise DomainError(f"limit must be a whole number >= 0, got {limit!r}")
    return limit


def due_slot(config: AutomationConfig, now: datetime) -> datetime | None:
    """The schedule slot due at ``now`` (an active schedule whose ``next_due_at`` has come),
    which a claim at ``now`` serves; ``None`` when there is none."""
    if (
        config.state is AutomationState.ACTIVE
        and config.next_due_at is not None
        and config.next_due_at <= now
    ):
        return config.next_due_at
    return None


def due_since(config: AutomationConfig, now: datetime) -> datetime | None:
    """Since when the user's cycle is due at ``now``: its run request or its slot come,
    whichever was first (claims take the earliest first); ``None`` when it is not due."""
    times = (config.run_requested_at, due_slot(config, now))
    return min((t for t in times if t is not None), default=None)


def due_time(config: AutomationConfig) -> datetime | None:
    """When the user's next cycle is (or was) due: its run request or its active schedule's
    slot, whichever is first; ``None`` when nothing is scheduled."""
    times = [config.run_requested_at]
    if config.state is AutomationState.ACTIVE:
        times.append(config.next_due_at)
    return min((t for t in times if t is not None), default=None)


def _slot_fencing(instance: object, attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DomainError(f"a lease slot's fencing token is a whole number >= 0, got {value!r}")


@frozen(kw_only=True)
class LeaseSlot:
    """The lease state of one user's cycle, as a repository stores it beside (never inside) the
    user's :class:`~tradecore.domain.AutomationConfig`, so that saving a config never touches it.

    :param fencing: the user's fencing token, incremented by every claim (0 before the first).
    :param leased_by: the owner holding (or last holding, if expired) the lease; ``None`` when
        free (never claimed, or released).
    :param lease_until: when the lease lapses; ``None`` exactly when ``leased_by`` is.
    :param lease_run_id: the run id of the lease's cycle; ``None`` when free.
    """

    fencing: int = field(default=0, validator=_slot_fencing)
    leased_by: str | None = None
    lease_until: datetime | None = field(default=None, converter=optional_utc)
    lease_run_id: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.leased_by is None) != (self.lease_until is None):
            raise DomainError("a held lease slot needs both its owner and its expiry")

    def claimable_at(self, now: datetime) -> bool:
        """``True`` when a claim may take the slot at ``now``: free, or its lease expired
        strictly before ``now`` (by anyone, its own owner included)."""
        return self.lease_until is None or self.lease_until < now

    def names(self, lease: Lease) -> bool:
        """``True`` when the slot is still ``lease``'s (same owner and fencing token), expired
        or not: nobody took it over and it was not released."""
        return self.leased_by == lease.owner and self.fencing == lease.fencing

    def names_interval(self, held: LeaseInterval) -> bool:
        """``True`` when the slot is still the lease ``held`` records (same owner and fencing
        token), expired or not."""
        return self.leased_by == held.owner and self.fencing == held.fencing

    def holds(self, lease: Lease, now: datetime) -> bool:
        """``True`` when ``lease`` is held and unexpired at ``now``: it may be renewed, and
        writes fenced by it may commit."""
        return self.names(lease) and self.lease_until is not None and self.lease_until > now

    def wake_at(self, config: AutomationConfig, now: datetime) -> datetime | None:
        """The earliest time a claim could take this user's cycle: its :func:`due_time`, or
        while the slot is held, the later of that and the lease's expiry; ``None`` when nothing
        is scheduled."""
        at = due_time(config)
        if at is not None and not self.claimable_at(now) and self.lease_until is not None:
            at = max(at, self.lease_until)
        return at

    def claim(
        self,
        config: AutomationConfig,
        *,
        owner: str,
        ttl: timedelta,
        now: datetime,
        trigger: Trigger,
        forced: bool,
    ) -> Lease:
        """The lease a claim of this slot at ``now`` hands out: the next fencing token, a new
        run, the slot due at ``now`` and the pending run request; the run of an expired lease
        is named as interrupted, for the new owner to close.

        :param forced: ``True`` for a claim of one user whatever its schedule (the trigger is
            kept as given); ``False`` for a claim of a due cycle, which must be due at ``now``
            and gets :attr:`Trigger.MANUAL` when it serves only a run request.
        :raises DomainError: the owner or ttl is refused, the slot is held at ``now``, or
            (not ``forced``) the cycle is not due.
        """
        check_owner(owner)
        check_ttl(ttl)
        trigger = Trigger(trigger)
        if not self.claimable_at(now):
            raise DomainError(
                f"the cycle of user {config.user_id!r} is leased until {self.lease_until}: "
                "it cannot be claimed before the lease lapses"
            )
        slot = due_slot(config, now)
        if not forced:
            if due_since(config, now) is None:
                raise DomainError(f"the cycle of user {config.user_id!r} is not due")
            if slot is None:
                trigger = Trigger.MANUAL  # it serves only a run request: a person asked for it
        return Lease(
            user_id=config.user_id,
            owner=owner,
            fencing=self.fencing + 1,
            run_id=new_id(),
            trigger=trigger,
            claimed_at=now,
            expires_at=now + ttl,
            due_at=slot,
            requested_at=config.run_requested_at,
            interrupted_run_id=self.lease_run_id if self.leased_by is not None else None,
        )

    @classmethod
    def taken(cls, lease: Lease) -> LeaseSlot:
        """The slot once ``lease`` was claimed: held by its owner until it expires."""
        return cls(
            fencing=lease.fencing,
            leased_by=lease.owner,
            lease_until=lease.expires_at,
            lease_run_id=lease.run_id,
        )

    def renewed(self, until: datetime) -> LeaseSlot:
        """The slot with its lease extended to ``until`` (the heartbeat)."""
        return evolve(self, lease_until=until)

    def released(self) -> LeaseSlot:
        """The slot once its lease is given back: free, keeping the fencing token."""
        return LeaseSlot(fencing=self.fencing)


FREE_SLOT = LeaseSlot()
"""The slot of a user never claimed."""
