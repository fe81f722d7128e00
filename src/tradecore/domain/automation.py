"""Automation: the per-user schedule (:class:`AutomationConfig`) and the record of one cycle
(:class:`AutomationRun` with one :class:`TaskResult` per step)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from attrs import define, field, frozen

from tradecore.domain._checks import (
    freeze_mapping,
    non_empty,
    non_negative_duration,
    optional_utc,
    utc,
)
from tradecore.domain.ids import new_id
from tradecore.domain.phrase import Phrase, Wording
from tradecore.errors import DomainError

__all__ = [
    "DEFAULT_FREQUENCY_MINUTES",
    "MAX_FREQUENCY_MINUTES",
    "MIN_FREQUENCY_MINUTES",
    "AutomationConfig",
    "AutomationRun",
    "AutomationState",
    "DigestDelivery",
    "RunStatus",
    "TaskKind",
    "TaskResult",
    "TaskStatus",
    "Trigger",
    "run_status",
    "slot_after",
    "slot_at_or_after",
]

MIN_FREQUENCY_MINUTES = 5
MAX_FREQUENCY_MINUTES = 120
DEFAULT_FREQUENCY_MINUTES = 30


class AutomationState(enum.StrEnum):
    """Whether a user's cycles run. Paused keeps the schedule; stopped clears it."""

    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"


class DigestDelivery(enum.StrEnum):
    """Where the digest of a finished run stands.

    ``PENDING`` from the moment the run is finished until every notification target was sent
    the digest once, each with its ``notify`` step recorded (success or failure); a digest left
    pending (its sender lost the cycle's lease, or stopped, while sending) is delivered to the
    targets without a step by the next owner of the user's cycle. ``DELIVERED`` then.
    """

    PENDING = "pending"
    DELIVERED = "delivered"


class Trigger(enum.StrEnum):
    """What started a cycle."""

    SCHEDULE = "schedule"
    MANUAL = "manual"
    CRON = "cron"


class RunStatus(enum.StrEnum):
    """How a cycle went, by the rule of :func:`run_status`."""

    SUCCESS = "success"
    PARTIAL = "partial"
    FAILURE = "failure"


class TaskStatus(enum.StrEnum):
    """How one step went. A skipped step neither succeeded nor failed."""

    SUCCESS = "success"
    FAILURE = "failure"
    SKIPPED = "skipped"


class TaskKind(enum.StrEnum):
    """What a step did."""

    TOKEN_REFRESH = "token_refresh"
    SYNC = "sync"
    RECONCILE = "reconcile"
    STRATEGY = "strategy"
    NOTIFY = "notify"
    LEASE = "lease"

    @property
    def is_trading(self) -> bool:
        """``True`` for the steps whose outcome decides the run status (all but notifications)."""
        return self is not TaskKind.NOTIFY


def _check_frequency(instance: object, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(f"frequency must be a whole number of minutes, got {value!r}")
    if not MIN_FREQUENCY_MINUTES <= value <= MAX_FREQUENCY_MINUTES:
        raise DomainError(
            f"frequency must be between {MIN_FREQUENCY_MINUTES} and {MAX_FREQUENCY_MINUTES} "
            f"minutes, got {value}"
        )


@define(kw_only=True)
class AutomationConfig:
    """A user's automation schedule.

    :param frequency_minutes: how often the cycle runs, 5 to 120 minutes (30 by default).
    :param next_due_at: when the next scheduled cycle is due; ``None`` when stopped.
    """

    user_id: str = field(validator=non_empty)
    state: AutomationState = field(default=AutomationState.STOPPED, converter=AutomationState)
    frequency_minutes: int = field(default=DEFAULT_FREQUENCY_MINUTES, validator=_check_frequency)
    next_due_at: datetime | None = field(default=None, converter=optional_utc)
    last_run_at: datetime | None = field(default=None, converter=optional_utc)
    run_requested_at: datetime | None = field(default=None, converter=optional_utc)

    @property
    def frequency(self) -> timedelta:
        """The frequency as a :class:`timedelta`."""
        return timedelta(minutes=self.frequency_minutes)

    def is_due(self, now: datetime) -> bool:
        """``True`` when a cycle should run at ``now``: active and its slot has come, or a run
        was asked for (``run-now`` runs whatever the state)."""
        if self.run_requested_at is not None:
            return True
        return (
            self.state is AutomationState.ACTIVE
            and self.next_due_at is not None
            and self.next_due_at <= utc(now)
        )

    def start(self, now: datetime) -> None:
        """Start the schedule: a stopped user's first cycle is due at ``now``, and the next ones
        every ``frequency`` after it. Starting a paused user resumes it; an active one is left
        as it is."""
        if self.state is AutomationState.PAUSED:
            self.resume(now)
        elif self.state is AutomationState.STOPPED or self.next_due_at is None:
            self.state = AutomationState.ACTIVE
            self.next_due_at = utc(now)

    def pause(self) -> None:
        """Pause: no scheduled cycle runs, but the schedule (its slots) is kept for
        :meth:`resume`.

        :raises DomainError: automation is stopped (there is no schedule to keep).
        """
        if self.state is AutomationState.STOPPED:
            raise DomainError("automation is stopped; there is nothing to pause (start it first)")
        self.state = AutomationState.PAUSED

    def resume(self, now: datetime) -> None:
        """Resume a paused schedule on its own slots: the next cycle is the first slot at or
        after ``now`` (slots missed while paused are skipped, not replayed).

        :raises DomainError: automation is stopped, not paused.
        """
        if self.state is AutomationState.STOPPED:
            raise DomainError("automation is stopped, not paused; start it instead")
        self.state = AutomationState.ACTIVE
        if self.next_due_at is None:
            self.next_due_at = utc(now)
        else:
            self.next_due_at = slot_at_or_after(self.next_due_at, self.frequency, utc(now))

    def stop(self) -> None:
        """Stop: no scheduled cycle runs and the schedule is cleared (a later start begins a
        new one). A run already asked for with run-now still runs."""
        self.state = AutomationState.STOPPED
        self.next_due_at = None

    def change_frequency(self, minutes: int, now: datetime) -> None:
        """Run every ``minutes`` from now on. The next cycle moves to one new period after the
        last scheduled slot (at once if that is already past).

        :raises DomainError: ``minutes`` is outside 5 to 120.
        """
        _check_frequency(self, None, minutes)
        previous = self.frequency
        self.frequency_minutes = minutes
        if self.next_due_at is not None:
            last_slot = self.next_due_at - previous
            self.next_due_at = max(last_slot + self.frequency, utc(now))

    def request_run(self, now: datetime) -> None:
        """Ask for one cycle as soon as a scheduler can run it (``run-now``); asking again
        before it ran keeps the first request."""
        if self.run_requested_at is None:
            self.run_requested_at = utc(now)

    def completed(
        self, *, due_at: datetime | None, requested_at: datetime | None, now: datetime
    ) -> None:
        """Record a finished cycle that served the slot ``due_at`` and/or the run request made
        at ``requested_at``.

        The next slot is ``due_at`` plus whole periods, the first one after ``now``: runs never
        drift with how long cycles take, and slots missed during an outage are skipped rather
        than replayed in a burst. A schedule changed while the cycle ran (stopped, new
        frequency) is kept as changed; a request made while the cycle ran is kept for the next.
        """
        self.last_run_at = utc(now)
        if requested_at is not None and self.run_requested_at == utc(requested_at):
            self.run_requested_at = None
        if due_at is not None and self.next_due_at == utc(due_at):
            self.next_due_at = slot_after(self.next_due_at, self.frequency, utc(now))


def slot_after(anchor: datetime, period: timedelta, now: datetime) -> datetime:
    """The first of ``anchor + k * period`` (k >= 0) strictly after ``now``."""
    if anchor > now:
        return anchor
    return anchor + ((now - anchor) // period + 1) * period


def slot_at_or_after(anchor: datetime, period: timedelta, now: datetime) -> datetime:
    """The first of ``anchor + k * period`` (k >= 0) at or after ``now``."""
    if anchor >= now:
        return anchor
    return anchor + -((anchor - now) // period) * period


def _counts(value: Mapping[str, int] | None) -> Mapping[str, int]:
    frozen_value = freeze_mapping(value)
    for key, count in frozen_value.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise DomainError(f"count {key!r} must be a whole number >= 0, got {count!r}")
    return frozen_value


def _figures(value: Mapping[str, str] | None) -> Mapping[str, str]:
    frozen_value = freeze_mapping(value)
    for key, figure in frozen_value.items():
        if not isinstance(figure, str):
            raise DomainError(f"API figure {key!r} must be text, got {type(figure).__name__}")
    return frozen_value


def _notes(value: Iterable[Wording]) -> tuple[Wording, ...]:
    notes = tuple(value)
    for note in notes:
        if not isinstance(note, str | Phrase):
            raise DomainError(f"a note must be text, got {type(note).__name__}")
    return notes


@frozen(kw_only=True)
class TaskResult:
    """The outcome of one step of a cycle.

    :param subject: the connection or strategy name the step was about.
    :param subject_id: its id.
    :param counts: what it did, counted (``positions``, ``trades_new``, ``orders_placed``…).
    :param api: what the broker's API said, as short text figures (``requests``, ``used_weight``…).
    :param error: why it failed (or was skipped), in words (plain text or a translatable
        :class:`~tradecore.domain.Phrase`); never contains a secret.
    :param notes: details worth showing a person (orders placed, what a dry run would do), as
        plain text or phrases.
    """

    kind: TaskKind = field(converter=TaskKind)
    subject: str = field(validator=non_empty)
    subject_id: str | None = None
    status: TaskStatus = field(converter=TaskStatus)
    started_at: datetime = field(converter=utc)
    duration: timedelta = field(validator=non_negative_duration)
    counts: Mapping[str, int] = field(factory=dict, converter=_counts, hash=False)
    api: Mapping[str, str] = field(factory=dict, converter=_figures, hash=False)
    error: Wording | None = None
    notes: tuple[Wording, ...] = field(default=(), converter=_notes)

    def __attrs_post_init__(self) -> None:
        if self.status is TaskStatus.FAILURE and not self.error:
            raise DomainError("a failed step must say why (error)")

    @property
    def failed(self) -> bool:
        """``True`` when the step failed."""
        return self.status is TaskStatus.FAILURE


def run_status(steps: Iterable[TaskResult]) -> RunStatus:
    """Apply the status rule to a cycle's steps.

    Only trading steps count; a notification never changes the outcome. ``SUCCESS`` when no trading
    step failed, ``FAILURE`` when some failed and none succeeded, ``PARTIAL`` otherwise. Skipped steps
    count as neither.
    """
    trading = [step for step in steps if step.kind.is_trading]
    failed = sum(1 for step in trading if step.status is TaskStatus.FAILURE)
    succeeded = sum(1 for step in trading if step.status is TaskStatus.SUCCESS)
    if failed == 0:
        return RunStatus.SUCCESS
    if succeeded == 0:
        return RunStatus.FAILURE
    return RunStatus.PARTIAL


def _steps(value: Iterable[TaskResult]) -> tuple[TaskResult, ...]:
    return tuple(value)


def _digest(value: DigestDelivery | str | None) -> DigestDelivery | None:
    return None if value is None else DigestDelivery(value)


@define(kw_only=True)
class AutomationRun:
    """The record of one automation cycle of one user.

    :param status: derived from ``steps`` by :func:`run_status` when the run is finished.
    :param digest: where its digest stands (:class:`DigestDelivery`); ``None`` for a run that
        has none (unfinished, closed by another scheduler, or recorded before digests were
        tracked).
    :param digest_claim: the fencing token of the lease that took the digest's delivery
        (``0``: a cycle run outside a lease); set only by
        :meth:`~tradecore.ports.RunRepository.claim_digest`.
    """

    id: str = field(factory=new_id, validator=non_empty)
    user_id: str = field(validator=non_empty)
    trigger: Trigger = field(converter=Trigger)
    started_at: datetime = field(converter=utc)
    finished_at: datetime | None = field(default=None, converter=optional_utc)
    status: RunStatus | None = None
    steps: tuple[TaskResult, ...] = field(default=(), converter=_steps)
    digest: DigestDelivery | None = field(default=None, converter=_digest)
    digest_claim: int | None = None

    @property
    def duration(self) -> timedelta | None:
        """How long the cycle took, once finished."""
        return None if self.finished_at is None else self.finished_at - self.started_at

    def finish(self, at: datetime, steps: Iterable[TaskResult]) -> None:
        """Close the run at ``at`` with its ``steps`` and set its status by the rule."""
        finished = utc(at)
        if finished < self.started_at:
            raise DomainError("a run cannot finish before it started")
        self.steps = tuple(steps)
        self.finished_at = finished
        self.status = run_status(self.steps)

    def add_step(self, step: TaskResult) -> None:
        """Append a step recorded after the run finished (a notification); the status is unchanged
        because notifications never count."""
        self.steps = (*self.steps, step)
        if self.finished_at is not None:
            self.status = run_status(self.steps)
