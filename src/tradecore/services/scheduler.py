"""The scheduler: runs users' cycles when they are due, under leases (docs/automation.md,
docs/operations.md).

:meth:`Scheduler.run_pass` is one pass (``tradecore run``, for cron); :meth:`Scheduler.serve`
runs until asked to stop (``tradecore daemon``). Both claim each cycle as a lease in the database
(:class:`~tradecore.ports.LeaseRepository`), so any number of schedulers on any number of
machines can share one PostgreSQL database and no user's cycle ever runs twice at once:

- a claim is a short transaction; the cycle runs outside it (:mod:`tradecore.services.leased_cycle`),
  renewing the lease every third of its time to live (the heartbeat), and writes only through a
  :class:`~tradecore.services.fencing.FencedRepository`: once the lease is lost, the next write
  raises :class:`~tradecore.errors.LeaseLost` and the cycle stops before its next side effect;
- finishing a cycle releases the lease and moves the schedule to the next slot on the user's
  grid (:meth:`AutomationConfig.completed`): no drift, no burst after downtime;
- a lease left by a scheduler that died lapses after its time to live and is taken over; the
  new owner closes the run the dead one left unfinished, then runs the cycle.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import define, field, frozen

from tradecore.domain import (
    DEFAULT_FREQUENCY_MINUTES,
    AutomationConfig,
    Lease,
    Trigger,
)
from tradecore.errors import ConfigurationError
from tradecore.ports import Clock, RepositoryPort
from tradecore.services._steps import describe_error
from tradecore.services.cycle import AutomationCycle
from tradecore.services.daemons import daemon_seen, register_daemon, unregister_daemon
from tradecore.services.due_claims import DueClaims, claim_due, renew_lease
from tradecore.services.leased_cycle import LeasedCycle, LeasedRun, lost_before_start
from tradecore.services.ledger import Retention, prune_ledger
from tradecore.services.logins import keep_logins_alive

__all__ = ["DEFAULT_LEASE_TTL", "PassReport", "Scheduler"]

DEFAULT_LEASE_TTL = timedelta(seconds=60)
"""How long a claim holds without a heartbeat. The heartbeat renews it every third of that, so
only a scheduler that is gone (or stalled that long) loses it."""

_log = logging.getLogger("tradecore.scheduler")


@frozen(kw_only=True)
class PassReport:
    """The cycles one pass ran, and the users it had to leave alone.

    :param busy: users whose cycle another scheduler holds right now, with who holds it.
    """

    runs: tuple[LeasedRun, ...] = ()
    busy: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """``True`` when every cycle of the pass succeeded (a pass with nothing due is ok)."""
        return all(run.ok for run in self.runs)


@define(kw_only=True)
class Scheduler:
    """Claims due cycles and runs them (see the module docstring).

    :param cycle: runs one user's cycle; its repository and clock are the scheduler's.
    :param owner: this process's name in leases (``host:pid:tag``), unique among schedulers.
    :param lease_ttl: how long a claim holds without a heartbeat.
    :param concurrency: how many cycles run at the same time.
    :param idle_check: the longest the daemon sleeps without looking for work (run-now requests
        and changed schedules of other processes are seen within it).
    :param grace: at shutdown, how long running cycles may go on before they are cancelled.
    :param retention: what the run ledger keeps; ``None`` keeps everything.
    :param default_frequency_minutes: the frequency of a user's first automation config.
    :param prune_every: how often the daemon prunes the run ledger (a pass prunes at its end).
    :param keep_logins_every: how often the daemon renews OAuth logins about to lapse
        (:mod:`tradecore.services.logins`; a pass does it at its end).
    :param holder_is_gone: says of a lease owner's name whether it is known to be gone (a
        process of this host that no longer exists); a cycle asked for by user (``tradecore
        cycle``, ``run --user``) whose holder is gone is taken over at once instead of after
        its lease lapses. Nothing is known to be gone by default.
    """

    cycle: AutomationCycle
    owner: str
    lease_ttl: timedelta = DEFAULT_LEASE_TTL
    concurrency: int = field(default=4)
    idle_check: timedelta = timedelta(seconds=15)
    grace: timedelta = timedelta(seconds=60)
    retention: Retention | None = None
    default_frequency_minutes: int = DEFAULT_FREQUENCY_MINUTES
    prune_every: timedelta = timedelta(hours=1)
    keep_logins_every: timedelta = timedelta(minutes=5)
    holder_is_gone: Callable[[str], bool] = field(default=lambda owner: False)
    _started_at: datetime | None = field(default=None, init=False)

    @concurrency.validator
    def _check_concurrency(self, attribute: object, value: int) -> None:
        if value < 1:
            raise ConfigurationError(f"concurrency must be 1 or more, got {value}")

    @property
    def repository(self) -> RepositoryPort:
        """The store (the cycle's)."""
        return self.cycle.repository

    @property
    def _leased(self) -> LeasedCycle:
        return LeasedCycle(cycle=self.cycle, owner=self.owner, lease_ttl=self.lease_ttl)

    @property
    def clock(self) -> Clock:
        """The clock (the cycle's)."""
        return self.cycle.clock

    # -- one pass ---------------------------------------------------------------------------

    async def run_pass(
        self,
        *,
        trigger: Trigger = Trigger.CRON,
        user_ids: Sequence[str] | None = None,
        force: bool = False,
    ) -> PassReport:
        """Run every cycle that is due now, ``concurrency`` at a time, and return what became of
        each. With ``user_ids``, only those users; with ``force``, their cycles (all users'
        without ``user_ids``) run whether due or not, even when automation is stopped. A user
        whose cycle another scheduler holds is left alone and reported in ``busy``.
        """
        if force or user_ids is not None:
            report = await self._run_users(trigger=trigger, user_ids=user_ids, force=force)
        else:
            report = await self._run_due(trigger)
        await self._keep_logins()
        await self._prune()
        return report

    async def _run_due(self, trigger: Trigger) -> PassReport:
        # The workers share one queue of claims, filled `concurrency` at a time (due_claims).
        results: list[LeasedRun] = []
        claims = DueClaims(
            claim=lambda limit: self._claim_due(limit, trigger),
            renew=lambda lease: renew_lease(self.repository, lease, ttl=self.lease_ttl),
            batch=self.concurrency,
            fresh_for=self.lease_ttl / 3,
            clock=self.clock,
        )

        async def worker() -> None:
            while (claimed := await claims.next()) is not None:
                lease, held = claimed
                results.append(await self._leased.run(lease) if held else lost_before_start(lease))

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        return PassReport(runs=tuple(results))

    async def _run_users(
        self, *, trigger: Trigger, user_ids: Sequence[str] | None, force: bool
    ) -> PassReport:
        async with self.repository.unit_of_work() as uow:
            if user_ids is None:
                user_ids = [user.id for user in await uow.users.list()]
            for user_id in user_ids:
                await uow.users.get(user_id)
                if await uow.automation.get(user_id) is None:
                    await uow.automation.save(
                        AutomationConfig(
                            user_id=user_id, frequency_minutes=self.default_frequency_minutes
                        )
                    )
            await uow.commit()
        limit = asyncio.Semaphore(self.concurrency)
        results: list[LeasedRun] = []
        busy: list[str] = []

        async def one(user_id: str) -> None:
            async with limit:
                lease = await self._claim_user(user_id, trigger, force=force)
                if isinstance(lease, str):
                    if lease:
                        busy.append(lease)
                    return
                results.append(await self._leased.run(lease))

        await asyncio.gather(*(one(user_id) for user_id in user_ids))
        return PassReport(runs=tuple(results), busy=tuple(busy))

    async def _claim_user(self, user_id: str, trigger: Trigger, *, force: bool) -> Lease | str:
        # A lease, or why not: "" when the cycle is simply not due, else who holds it.
        async with self.repository.unit_of_work() as uow:
            lease = await uow.leases.claim(user_id, self.owner, ttl=self.lease_ttl, trigger=trigger)
            holder = None
            if lease is None:
                holder = next(
                    (
                        interval
                        for interval in reversed(await uow.leases.intervals(user_id))
                        if interval.released_at is None
                    ),
                    None,
                )
                if holder is not None and self.holder_is_gone(holder.owner):
                    _log.warning(
                        "the cycle of user %s was held by %s, a process of this host that no "
                        "longer exists: taken over at once",
                        user_id,
                        holder.owner,
                    )
                    if await uow.leases.expire(holder):
                        lease = await uow.leases.claim(
                            user_id, self.owner, ttl=self.lease_ttl, trigger=trigger
                        )
            if lease is None:
                who = f" by {holder.owner} since {holder.claimed_at:%H:%M:%S} UTC" if holder else ""
                return f"{user_id}: its cycle is running{who}"
            if not force and lease.due_at is None and lease.requested_at is None:
                await uow.rollback()
                return ""
            await uow.commit()
        return lease

    # -- the daemon -------------------------------------------------------------------------

    async def serve(
        self,
        stop: asyncio.Event,
        *,
        host: str,
        pid: int,
        single_host: bool = False,
        on_ready: Callable[[], None] | None = None,
        wake: asyncio.Event | None = None,
    ) -> None:
        """Run due cycles until ``stop`` is set, sleeping until the next one is due.

        At most ``concurrency`` cycles run at once. When ``stop`` is set, no new cycle starts;
        running ones may finish within ``grace``, then they are cancelled: their runs are
        closed as interrupted and their leases released with the schedule untouched, so that
        another scheduler runs them at once.

        :param single_host: the store is SQLite: refuse to start while a daemon of another
            host is registered and alive (SQLite's locks do not work across machines).
        :param on_ready: called once registered, before the first claim.
        :param wake: set by the same process to look for work at once instead of at the end of
            the current sleep (the web server's "Run now" sets it); cleared when seen.
        :raises ConfigurationError: ``single_host`` and another host's daemon is alive.
        """
        await self._register(host, pid, single_host=single_host)
        if on_ready is not None:
            on_ready()
        _log.info("daemon %s started (up to %d cycles at once)", self.owner, self.concurrency)
        running: set[asyncio.Task[LeasedRun]] = set()
        stopping = asyncio.create_task(stop.wait())
        last_seen = last_prune = last_logins = self.clock.now()
        try:
            while not stop.is_set():
                free = self.concurrency - len(running)
                claimed: Sequence[Lease] = []
                if free > 0:
                    try:
                        claimed = await self._claim_due(free, Trigger.SCHEDULE)
                    except Exception as exc:  # the database may be away for a while
                        _log.warning("could not look for due cycles: %s", describe_error(exc))
                    for lease in claimed:
                        running.add(asyncio.create_task(self._leased.run(lease)))
                now = self.clock.now()
                if now - last_seen >= self.lease_ttl / 3:
                    last_seen = now
                    await self._seen(host, pid)
                if now - last_prune >= self.prune_every:
                    last_prune = now
                    await self._prune()
                if now - last_logins >= self.keep_logins_every:
                    last_logins = now
                    await self._keep_logins()
                waiters: set[asyncio.Future[Any]] = {stopping, *running}
                timer: asyncio.Task[None] | None = None
                if len(running) < self.concurrency:
                    if claimed:
                        delay = 0.0  # there may be more due right now
                    else:
                        delay = await self._idle_delay()
                    timer = asyncio.create_task(self.clock.sleep(delay))
                    waiters.add(timer)
                woken = None if wake is None else asyncio.create_task(wake.wait())
                if woken is not None:
                    waiters.add(woken)
                done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                for waiter in (timer, woken):
                    if waiter is not None and waiter not in done:
                        waiter.cancel()
                if wake is not None:
                    wake.clear()
                for task in [task for task in running if task in done]:
                    running.discard(task)
                    _report(task)
        finally:
            stopping.cancel()
            await self._shutdown(running)
            await self._unregister()
            _log.info("daemon %s stopped", self.owner)

    async def _idle_delay(self) -> float:
        try:
            async with self.repository.unit_of_work() as uow:
                wake = await uow.leases.next_wake()
                now = await uow.leases.now()
        except Exception as exc:
            _log.warning("could not read the schedule: %s", describe_error(exc))
            return self.idle_check.total_seconds()
        ceiling = self.idle_check.total_seconds()
        if wake is None:
            return ceiling
        # Never 0 while nothing was claimed: a due cycle we could not claim (another scheduler
        # holds its row locked this instant) must not make us spin.
        return min(ceiling, max((wake - now).total_seconds(), 1.0))

    async def _shutdown(self, running: set[asyncio.Task[LeasedRun]]) -> None:
        if not running:
            return
        _log.info("waiting up to %s for %d running cycle(s)", self.grace, len(running))
        done, pending = await asyncio.wait(running, timeout=self.grace.total_seconds())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            _report(task)

    async def _register(self, host: str, pid: int, *, single_host: bool) -> None:
        self._started_at = await register_daemon(
            self.repository,
            owner=self.owner,
            host=host,
            pid=pid,
            single_host=single_host,
            alive_for=self.lease_ttl * 3,
        )

    async def _seen(self, host: str, pid: int) -> None:
        await daemon_seen(
            self.repository, owner=self.owner, host=host, pid=pid, started_at=self._started_at
        )

    async def _unregister(self) -> None:
        await unregister_daemon(self.repository, self.owner)

    # -- one leased cycle -------------------------------------------------------------------

    async def _claim_due(self, limit: int, trigger: Trigger) -> Sequence[Lease]:
        return await claim_due(
            self.repository, self.owner, ttl=self.lease_ttl, limit=limit, trigger=trigger
        )

    async def _keep_logins(self) -> None:
        try:
            await keep_logins_alive(
                repository=self.repository,
                brokers=self.cycle.brokers,
                clock=self.clock,
                http_client=self.cycle.http_client,
            )
        except Exception as exc:
            _log.warning("could not renew the logins about to lapse: %s", describe_error(exc))

    async def _prune(self) -> None:
        if self.retention is None:
            return
        try:
            await prune_ledger(self.repository, self.retention)
        except Exception as exc:
            _log.warning("could not prune the run ledger: %s", describe_error(exc))


def _report(task: asyncio.Task[LeasedRun]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        _log.error("a cycle task failed: %s", describe_error(exc))
