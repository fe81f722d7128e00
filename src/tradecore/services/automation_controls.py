"""Use cases on a user's automation: the controls (start, pause, resume, stop, frequency, run
now), its status, its run ledger, and the daemons serving it.

The rules themselves live in :class:`~tradecore.domain.AutomationConfig` and the functions of
:mod:`tradecore.services.automation`; this class gives every front end the same entry, acting
as one user. See ``docs/automation.md``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from attrs import frozen

from tradecore.domain import AutomationConfig, AutomationRun, DaemonInfo
from tradecore.errors import DomainError, NotFound
from tradecore.ports import RepositoryPort
from tradecore.services.automation import (
    AutomationStatus,
    automation_status,
    change_frequency,
    pause_automation,
    request_run,
    resume_automation,
    start_automation,
    stop_automation,
)
from tradecore.services.context import ServiceContext
from tradecore.services.ledger import PruneResult, prune_ledger
from tradecore.services.paging import RunsPage, check_page_size, decode_cursor, encode_cursor

__all__ = ["Automation", "Daemons", "RunQueued"]

MAX_RUNS_LISTED = 10_000
"""The most runs one :meth:`Automation.runs` call returns."""

_Control = Callable[..., Awaitable[AutomationConfig]]


@frozen(kw_only=True)
class Daemons:
    """The daemons registered in the store, as of ``now`` (the store's clock).

    :param silent_after: a daemon not seen for this long is not counted as running.
    """

    now: datetime
    registered: tuple[DaemonInfo, ...]
    silent_after: timedelta

    @property
    def alive(self) -> tuple[DaemonInfo, ...]:
        """The daemons seen recently enough to count as running."""
        return tuple(d for d in self.registered if self.now - d.seen_at <= self.silent_after)


@frozen(kw_only=True)
class RunQueued:
    """A queued cycle: the user's config, and whether a daemon is there to start it soon."""

    config: AutomationConfig
    daemon_running: bool


class Automation:
    """The automation use cases of a user."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    @property
    def _repository(self) -> RepositoryPort:
        return self._context.repository

    async def start(self, user_id: str) -> AutomationConfig:
        """Start the schedule (a stopped one's first cycle is due now; a paused one resumes).

        :raises NotFound: no such user.
        """
        return await self._control(start_automation, user_id)

    async def pause(self, user_id: str) -> AutomationConfig:
        """Pause: no scheduled cycle runs and no strategy trades; the schedule is kept.

        :raises DomainError: a stopped automation cannot be paused.
        """
        return await self._control(pause_automation, user_id)

    async def resume(self, user_id: str) -> AutomationConfig:
        """Resume a paused schedule on its own slots (missed slots are skipped).

        :raises DomainError: only a paused automation can be resumed.
        """
        return await self._control(resume_automation, user_id)

    async def stop(self, user_id: str) -> AutomationConfig:
        """Stop and clear the schedule."""
        return await self._control(stop_automation, user_id)

    async def set_frequency(self, user_id: str, minutes: int) -> AutomationConfig:
        """Run every ``minutes`` (5 to 120) from the next slot on.

        :raises DomainError: the frequency is out of bounds; nothing changes.
        """
        if isinstance(minutes, bool) or not isinstance(minutes, int):
            raise DomainError(f"frequency must be a whole number of minutes, got {minutes!r}")
        return await self._control(change_frequency, user_id, minutes=minutes)

    async def run_now(self, user_id: str) -> RunQueued:
        """Queue one cycle whatever the state; the next scheduler pass runs it.

        :returns: the config and whether a daemon is running to start it within its idle
            check (otherwise the next ``tradecore run`` does).
        """
        config = await self._control(request_run, user_id)
        daemons = await self.daemons()
        return RunQueued(config=config, daemon_running=bool(daemons.alive))

    async def status(self, user_id: str) -> AutomationStatus:
        """State, frequency, next and last run, and the recent runs of the user.

        :raises NotFound: no such user.
        """
        return await automation_status(self._repository, user_id)

    async def statuses(self, user_ids: Sequence[str] | None = None) -> list[AutomationStatus]:
        """:meth:`status` of each user given (every user by default), in that order."""
        if user_ids is None:
            async with self._repository.unit_of_work() as uow:
                user_ids = [user.id for user in await uow.users.list()]
        return [await self.status(user_id) for user_id in user_ids]

    async def runs(self, user_id: str, *, limit: int = 10) -> list[AutomationRun]:
        """The user's newest runs with their steps, newest first.

        :raises DomainError: ``limit`` is not between 1 and 10,000.
        :raises NotFound: no such user.
        """
        if not 1 <= limit <= MAX_RUNS_LISTED:
            raise DomainError(f"limit must be between 1 and {MAX_RUNS_LISTED}, got {limit}")
        async with self._repository.unit_of_work() as uow:
            await uow.users.get(user_id)
            return list(await uow.runs.list(user_id, limit=limit))

    async def run_page(
        self, user_id: str, *, cursor: str | None = None, limit: int = 50
    ) -> RunsPage:
        """One page of the user's runs with their steps, newest first. Only the page is read,
        however long the history kept.

        :param cursor: the ``next_cursor`` of the previous page; ``None`` for the first page.
        :param limit: how many runs a page holds, 1 to 500.
        :raises DomainError: ``limit`` is out of range, or the cursor is not one a page of
            runs gave out.
        :raises NotFound: no such user.
        """
        check_page_size(limit)
        before = decode_cursor("runs", cursor)
        async with self._repository.unit_of_work() as uow:
            await uow.users.get(user_id)
            page = await uow.runs.page(user_id, before=before, limit=limit)
        return RunsPage(items=page.items, next_cursor=encode_cursor("runs", page.next))

    async def run(self, user_id: str, run_id: str) -> AutomationRun:
        """One of the user's runs.

        :raises NotFound: the user has no run with that id (whoever else may have one).
        """
        async with self._repository.unit_of_work() as uow:
            try:
                return await uow.runs.get(user_id, run_id)
            except NotFound:
                raise NotFound(f"there is no run {run_id!r}") from None

    async def daemons(self) -> Daemons:
        """The registered daemons and which of them count as running."""
        async with self._repository.unit_of_work() as uow:
            registered = tuple(await uow.daemons.list())
            now = await uow.leases.now()
        return Daemons(now=now, registered=registered, silent_after=self._context.lease_ttl * 3)

    async def prune(self) -> PruneResult:
        """Apply the run retention now (every user's ledger): what it no longer keeps goes."""
        if self._context.retention is None:
            return PruneResult(runs=0, lease_intervals=0)
        return await prune_ledger(self._repository, self._context.retention)

    async def _control(self, control: _Control, user_id: str, **kwargs: object) -> AutomationConfig:
        return await control(
            self._repository,
            user_id,
            default_frequency_minutes=self._context.default_frequency_minutes,
            **kwargs,
        )
