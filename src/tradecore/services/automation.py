"""Automation controls and status: start, pause, resume, stop, change the frequency, ask for a
run now, and see how a user's automation is doing.

Every control changes the user's :class:`AutomationConfig` under its row lock
(:meth:`AutomationRepository.get_for_update`), so that it never loses a change a scheduler
makes when it finishes a cycle, and the other way round. Times come from the store's clock, as
the schedulers' do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from attrs import frozen

from tradecore.domain import (
    DEFAULT_FREQUENCY_MINUTES,
    AutomationConfig,
    AutomationRun,
    AutomationState,
    LeaseInterval,
    RunStatus,
)
from tradecore.ports import RepositoryPort

__all__ = [
    "RECENT_RUNS",
    "AutomationStatus",
    "automation_status",
    "change_automation",
    "change_frequency",
    "pause_automation",
    "request_run",
    "resume_automation",
    "start_automation",
    "stop_automation",
]

RECENT_RUNS = 20
"""How many recent runs the success rate of :func:`automation_status` counts."""

Change = Callable[[AutomationConfig, datetime], None]


async def change_automation(
    repository: RepositoryPort,
    user_id: str,
    change: Change,
    *,
    default_frequency_minutes: int = DEFAULT_FREQUENCY_MINUTES,
) -> AutomationConfig:
    """Apply ``change(config, now)`` to the user's config (a stopped one at the default
    frequency when there is none yet), store it and return it.

    :raises NotFound: no such user.
    :raises DomainError: the change breaks a rule (frequency out of bounds, pausing a stopped
        automation…); nothing is stored.
    """
    async with repository.unit_of_work() as uow:
        await uow.users.get(user_id)
        config = await uow.automation.get_for_update(user_id)
        if config is None:
            config = AutomationConfig(user_id=user_id, frequency_minutes=default_frequency_minutes)
        change(config, await uow.leases.now())
        await uow.automation.save(config)
        await uow.commit()
    return config


async def start_automation(
    repository: RepositoryPort, user_id: str, *, default_frequency_minutes: int
) -> AutomationConfig:
    """Start (or resume) the user's schedule; a stopped one's first cycle is due now."""
    return await change_automation(
        repository,
        user_id,
        lambda config, now: config.start(now),
        default_frequency_minutes=default_frequency_minutes,
    )


async def pause_automation(
    repository: RepositoryPort, user_id: str, *, default_frequency_minutes: int
) -> AutomationConfig:
    """Pause: no scheduled cycle runs (strategies are also kept from trading by the
    ``automation_paused`` risk rule); the schedule is kept for resume."""
    return await change_automation(
        repository,
        user_id,
        lambda config, now: config.pause(),
        default_frequency_minutes=default_frequency_minutes,
    )


async def resume_automation(
    repository: RepositoryPort, user_id: str, *, default_frequency_minutes: int
) -> AutomationConfig:
    """Resume a paused schedule on its own slots (missed slots are skipped)."""
    return await change_automation(
        repository,
        user_id,
        lambda config, now: config.resume(now),
        default_frequency_minutes=default_frequency_minutes,
    )


async def stop_automation(
    repository: RepositoryPort, user_id: str, *, default_frequency_minutes: int
) -> AutomationConfig:
    """Stop and clear the schedule."""
    return await change_automation(
        repository,
        user_id,
        lambda config, now: config.stop(),
        default_frequency_minutes=default_frequency_minutes,
    )


async def change_frequency(
    repository: RepositoryPort, user_id: str, minutes: int, *, default_frequency_minutes: int
) -> AutomationConfig:
    """Run every ``minutes`` (5 to 120) from the next slot on."""
    return await change_automation(
        repository,
        user_id,
        lambda config, now: config.change_frequency(minutes, now),
        default_frequency_minutes=default_frequency_minutes,
    )


async def request_run(
    repository: RepositoryPort, user_id: str, *, default_frequency_minutes: int
) -> AutomationConfig:
    """Queue one cycle that the next scheduler pass (daemon or cron) runs, whatever the
    state."""
    return await change_automation(
        repository,
        user_id,
        lambda config, now: config.request_run(now),
        default_frequency_minutes=default_frequency_minutes,
    )


@frozen(kw_only=True)
class AutomationStatus:
    """How a user's automation stands.

    :param config: the stored config (``None``: never configured, i.e. stopped).
    :param now: the store's time when the status was read.
    :param recent: the latest runs, newest first (at most :data:`RECENT_RUNS`).
    :param running: the lease of a cycle running right now, if any.
    """

    user_id: str
    config: AutomationConfig | None
    now: datetime
    recent: tuple[AutomationRun, ...]
    running: LeaseInterval | None

    @property
    def state(self) -> AutomationState:
        """Active, paused or stopped."""
        return AutomationState.STOPPED if self.config is None else self.config.state

    @property
    def frequency_minutes(self) -> int | None:
        """Minutes between cycles (``None`` when never configured)."""
        return None if self.config is None else self.config.frequency_minutes

    @property
    def next_run(self) -> datetime | None:
        """When the next cycle will run: a pending run-now request, else the next slot of an
        active schedule (it may be in the past: overdue, a scheduler will pick it up); ``None``
        when nothing will run."""
        if self.config is None:
            return None
        if self.config.run_requested_at is not None:
            return self.config.run_requested_at
        if self.config.state is AutomationState.ACTIVE:
            return self.config.next_due_at
        return None

    @property
    def last_run(self) -> AutomationRun | None:
        """The latest run, finished or not."""
        return self.recent[0] if self.recent else None

    @property
    def last_duration(self) -> timedelta | None:
        """How long the latest finished run took."""
        finished = next((run for run in self.recent if run.finished_at is not None), None)
        return None if finished is None else finished.duration

    @property
    def outcomes(self) -> dict[RunStatus, int]:
        """Success, partial and failure counts over the recent finished runs."""
        counts = Counter(run.status for run in self.recent if run.status is not None)
        return {status: counts.get(status, 0) for status in RunStatus}

    @property
    def success_rate(self) -> float | None:
        """The share of recent finished runs that succeeded (``None`` without any)."""
        total = sum(self.outcomes.values())
        return None if total == 0 else self.outcomes[RunStatus.SUCCESS] / total


async def automation_status(
    repository: RepositoryPort, user_id: str, *, recent: int = RECENT_RUNS
) -> AutomationStatus:
    """Read how ``user_id``'s automation stands.

    :raises NotFound: no such user.
    """
    async with repository.unit_of_work() as uow:
        await uow.users.get(user_id)
        config = await uow.automation.get(user_id)
        now = await uow.leases.now()
        runs: Sequence[AutomationRun] = await uow.runs.list(user_id, limit=recent)
        held = [
            interval
            for interval in await uow.leases.intervals(user_id)
            if interval.released_at is None and interval.expires_at > now
        ]
    return AutomationStatus(
        user_id=user_id,
        config=config,
        now=now,
        recent=tuple(runs),
        running=held[-1] if held else None,
    )
