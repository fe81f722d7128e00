"""One cycle under a lease: heartbeat, fencing, release, and closing what a lost owner left.

:class:`LeasedCycle` runs the cycle a scheduler claimed. While it runs, a heartbeat renews the
lease every third of its time to live; the cycle writes only through a
:class:`~tradecore.services.fencing.FencedRepository`, so once the lease is lost its next write
raises :class:`~tradecore.errors.LeaseLost` and it stops before its next side effect. Finishing
releases the lease and moves the schedule on; a cancelled cycle (shutdown) is closed as
interrupted and released with the schedule untouched, so another scheduler runs it at once.

Taking over a lapsed lease, it first looks at the run the previous owner left: unfinished, it is
closed as a failure with a ``lease`` step that says why; finished (the owner lost the lease only
while notifying or releasing), it stands for the slot and the cycle is not run again. Under every
lease, the digests earlier owners left pending (lost while being sent) are then sent, once
(:mod:`tradecore.services.digests`), before the cycle runs.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from attrs import evolve, frozen

from tradecore.domain import (
    AutomationRun,
    Lease,
    RunStatus,
    TaskKind,
    TaskResult,
    TaskStatus,
    Trigger,
)
from tradecore.errors import LeaseLost, NotFound
from tradecore.logs import run_context
from tradecore.ports import RepositoryPort
from tradecore.services._steps import describe_error
from tradecore.services.cycle import AutomationCycle
from tradecore.services.fencing import FencedRepository, LeaseGuard

__all__ = ["LeasedCycle", "LeasedRun", "lost_before_start"]

_log = logging.getLogger("tradecore.scheduler")


@frozen(kw_only=True)
class LeasedRun:
    """What became of one claimed cycle.

    :param status: the stored run's status; ``None`` when the cycle did not finish.
    :param error: why it did not finish (lease lost, shutdown, an unexpected error).
    """

    user_id: str
    run_id: str
    trigger: Trigger
    status: RunStatus | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """``True`` when the run finished with every step successful."""
        return self.status is RunStatus.SUCCESS and self.error is None


@frozen(kw_only=True)
class LeasedCycle:
    """Runs claimed cycles for the scheduler named ``owner``.

    :param cycle: runs one user's cycle (its repository is wrapped in a fenced one per lease).
    :param lease_ttl: how long the lease holds without a heartbeat.
    """

    cycle: AutomationCycle
    owner: str
    lease_ttl: timedelta

    @property
    def repository(self) -> RepositoryPort:
        """The store (the cycle's)."""
        return self.cycle.repository

    async def run(self, lease: Lease) -> LeasedRun:
        """Run the cycle ``lease`` claims and say what became of it (see the module
        docstring); never raises but for cancellation."""
        guard = LeaseGuard(lease)
        with run_context(lease.run_id, lease.user_id):
            _log.debug(
                "claimed the cycle of user %s (%s, fencing token %d)",
                lease.user_id,
                lease.trigger.value,
                lease.fencing,
            )
            heartbeat = asyncio.create_task(self._heartbeat(guard))
            completed = False
            fenced = FencedRepository(self.repository, guard)
            try:
                finished = None
                if lease.interrupted_run_id is not None:
                    finished = await self._close_run(
                        fenced,
                        lease.user_id,
                        lease.interrupted_run_id,
                        f"interrupted: the scheduler running it stopped renewing its lease "
                        f"before the cycle finished; {self.owner} took the cycle over "
                        f"(run {lease.run_id})",
                    )
                cycle = evolve(self.cycle, repository=fenced)
                await self._deliver_pending(cycle, lease.user_id)
                if finished is not None:
                    # The previous owner ran the cycle to its end and lost the lease only
                    # afterwards (sending the digest, or releasing): the slot is served.
                    _log.info(
                        "the previous owner finished this cycle (run %s) but did not release "
                        "it; not running it again",
                        finished.id,
                    )
                    completed = True
                    result = LeasedRun(
                        user_id=lease.user_id,
                        run_id=finished.id,
                        trigger=finished.trigger,
                        status=finished.status,
                    )
                else:
                    outcome = await cycle.run(
                        lease.user_id, trigger=lease.trigger, run_id=lease.run_id
                    )
                    completed = True
                    result = LeasedRun(
                        user_id=lease.user_id,
                        run_id=lease.run_id,
                        trigger=lease.trigger,
                        status=outcome.run.status,
                    )
            except LeaseLost as exc:
                _log.warning("%s", exc)
                result = _unfinished(lease, str(exc))
            except asyncio.CancelledError:
                await self._abandon(guard, fenced, "stopped: the scheduler shut down mid-cycle")
                raise
            except NotFound as exc:  # the user was removed meanwhile
                completed = True
                result = _unfinished(lease, describe_error(exc))
            except Exception as exc:
                _log.exception("the cycle failed unexpectedly")
                completed = True
                error = describe_error(exc)
                await self._close_run(fenced, lease.user_id, lease.run_id, error)
                result = _unfinished(lease, error)
            finally:
                heartbeat.cancel()
                await asyncio.gather(heartbeat, return_exceptions=True)
            await self._release(guard, completed=completed)
            return result

    async def _deliver_pending(self, cycle: AutomationCycle, user_id: str) -> None:
        # Digests earlier owners left pending go out before this cycle's; any failure but a
        # lost lease leaves them pending for the next cycle and does not stop this one.
        try:
            await cycle.deliver_pending_digests(user_id)
        except (LeaseLost, NotFound):
            raise
        except Exception as exc:
            _log.warning("could not send the pending digests: %s", describe_error(exc))

    async def _heartbeat(self, guard: LeaseGuard) -> None:
        interval = self.lease_ttl.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)  # real time: the lease lapses in real time
            try:
                async with self.repository.unit_of_work() as uow:
                    renewed = await uow.leases.renew(guard.lease, ttl=self.lease_ttl)
                    await uow.commit()
            except Exception as exc:  # try again; the store decides when it has lapsed
                _log.warning("could not renew the lease: %s", describe_error(exc))
                continue
            if renewed is None:
                guard.lost = True
                _log.warning("lost the lease (it expired or was taken over); stopping the cycle")
                return
            guard.lease = renewed

    async def _release(self, guard: LeaseGuard, *, completed: bool) -> None:
        if guard.lost:
            return
        try:
            async with self.repository.unit_of_work() as uow:
                released = await uow.leases.release(guard.lease, completed=completed)
                await uow.commit()
        except Exception as exc:  # it will lapse on its own
            _log.warning("could not release the lease: %s", describe_error(exc))
            return
        if not released:
            _log.warning("the lease was lost before the cycle could release it")

    async def _abandon(self, guard: LeaseGuard, fenced: RepositoryPort, reason: str) -> None:
        try:
            await self._close_run(fenced, guard.lease.user_id, guard.lease.run_id, reason)
        except Exception as exc:
            _log.warning("could not close the interrupted run: %s", describe_error(exc))
        await self._release(guard, completed=False)

    async def _close_run(
        self, repository: RepositoryPort, user_id: str, run_id: str, reason: str
    ) -> AutomationRun | None:
        # Finish a run that will never finish by itself, as a failure that says why. Returns
        # the run when it had finished already (nothing is changed then).
        async with repository.unit_of_work() as uow:
            try:
                run = await uow.runs.get(user_id, run_id)
            except NotFound:
                return None
            if run.finished_at is not None:
                return run
            now = max(self.cycle.clock.now(), run.started_at)
            step = TaskResult(
                kind=TaskKind.LEASE,
                subject="scheduler",
                status=TaskStatus.FAILURE,
                started_at=now,
                duration=timedelta(0),
                error=reason,
            )
            run.finish(now, [*run.steps, step])
            await uow.runs.update(run)
            await uow.commit()
        _log.warning("closed run %s: %s", run_id, reason)
        return None


def _unfinished(lease: Lease, error: str) -> LeasedRun:
    return LeasedRun(user_id=lease.user_id, run_id=lease.run_id, trigger=lease.trigger, error=error)


def lost_before_start(lease: Lease) -> LeasedRun:
    """What became of a claimed cycle whose lease was lost before it started: not run."""
    _log.warning("the lease of user %s was lost before its cycle started", lease.user_id)
    return _unfinished(lease, "the lease was lost before the cycle started; it was not run")
