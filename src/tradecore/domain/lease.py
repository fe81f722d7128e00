"""Leases: how a scheduler claims one user's cycle so that no two processes run it at once
(DESIGN.md §6, reliability.md §4.3).

A :class:`Lease` is held by one *owner* (a daemon or a ``tradecore run`` process) until it
expires; the owner renews it while the cycle runs (the heartbeat). Every claim increments the
user's *fencing token*: a write made under an older token is refused, so a process that lost its
lease (paused past the expiry, cut off from the database) cannot commit anything after another
took over. Each lease is kept as a :class:`LeaseInterval` in an audit, which shows that no two
intervals of one user ever overlapped.
"""

from __future__ import annotations

from datetime import datetime

from attrs import field, frozen

from tradecore.domain._checks import non_empty, optional_utc, utc
from tradecore.domain.automation import Trigger
from tradecore.errors import DomainError

__all__ = ["DaemonInfo", "Lease", "LeaseInterval"]


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
