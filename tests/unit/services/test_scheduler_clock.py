"""The schedule, with a fake clock: frequency bounds, pause/resume keeping the schedule, no drift
over 100 cycles of the daemon, no burst after a 3-hour outage, run-now, and leases that a
second scheduler cannot take while they are held."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from tradecore.domain import AutomationState, Digest, RunStatus, Trigger, User
from tradecore.errors import DomainError
from tradecore.services import (
    AutomationCycle,
    Scheduler,
    automation_status,
    change_frequency,
    pause_automation,
    request_run,
    resume_automation,
    start_automation,
    stop_automation,
)
from tradecore.testing import FakeClock
from tradecore_adapters.memory import MemoryRepository

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
FREQ = 30
PERIOD = timedelta(minutes=FREQ)


class SlowNotifier:
    """A digest that takes ``seconds`` of simulated time to send (so cycles take time), and sets
    ``stop`` after ``limit`` digests."""

    name = "slow"

    def __init__(self, clock: FakeClock, seconds: float, limit: int, stop: asyncio.Event) -> None:
        self.clock, self.seconds, self.limit, self.stop = clock, seconds, limit, stop
        self.sent: list[datetime] = []

    async def send(self, digest: Digest) -> None:
        await self.clock.sleep(self.seconds)
        self.sent.append(self.clock.now())
        if len(self.sent) >= self.limit:
            self.stop.set()

    async def aclose(self) -> None:
        return None


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def repository(clock: FakeClock) -> AsyncIterator[MemoryRepository]:
    repository = MemoryRepository(clock=clock)
    yield repository
    await repository.aclose()


async def add_user(repository: MemoryRepository, name: str = "alice") -> User:
    user = User(name=name, created_at=T0)
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


def scheduler(
    repository: MemoryRepository, clock: FakeClock, *, notifier: SlowNotifier | None = None
) -> Scheduler:
    cycle = AutomationCycle(
        repository=repository,
        clock=clock,
        brokers={},
        notifiers=() if notifier is None else (notifier,),
    )
    return Scheduler(cycle=cycle, owner="test:1:aa", concurrency=1)


async def run_starts(repository: MemoryRepository, user: User) -> list[datetime]:
    async with repository.unit_of_work() as uow:
        runs = await uow.runs.list(user.id, limit=1000)
    return sorted(run.started_at for run in runs)


@pytest.mark.asyncio
@pytest.mark.parametrize("minutes", [0, 4, 121, 1440])
async def test_a_frequency_out_of_bounds_is_refused_with_a_clear_message_and_nothing_changes(
    repository: MemoryRepository, minutes: int
) -> None:
    user = await add_user(repository)
    await start_automation(repository, user.id, default_frequency_minutes=FREQ)
    with pytest.raises(DomainError, match=rf"between 5 and 120 minutes, got {minutes}"):
        await change_frequency(repository, user.id, minutes, default_frequency_minutes=FREQ)
    status = await automation_status(repository, user.id)
    assert status.frequency_minutes == FREQ


@pytest.mark.asyncio
@pytest.mark.parametrize("minutes", [5, 120])
async def test_the_frequency_bounds_themselves_are_accepted(
    repository: MemoryRepository, minutes: int
) -> None:
    user = await add_user(repository)
    config = await change_frequency(repository, user.id, minutes, default_frequency_minutes=FREQ)
    assert config.frequency_minutes == minutes


@pytest.mark.asyncio
async def test_start_makes_the_first_cycle_due_now_and_a_pass_runs_it_once(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    user = await add_user(repository)
    await start_automation(repository, user.id, default_frequency_minutes=FREQ)
    sched = scheduler(repository, clock)
    first = await sched.run_pass()
    second = await sched.run_pass()
    assert [run.status for run in first.runs] == [RunStatus.SUCCESS]
    assert first.runs[0].trigger is Trigger.CRON
    assert second.runs == ()  # not due again until the next slot
    status = await automation_status(repository, user.id)
    assert status.next_run == T0 + PERIOD
    assert status.last_run is not None
    assert status.last_run.id == first.runs[0].run_id


@pytest.mark.asyncio
async def test_pause_and_resume_keep_the_schedule_and_skip_what_was_missed(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    user = await add_user(repository)
    sched = scheduler(repository, clock)
    await start_automation(repository, user.id, default_frequency_minutes=FREQ)
    await sched.run_pass()  # the T0 slot
    clock.set(T0 + timedelta(minutes=10))
    paused = await pause_automation(repository, user.id, default_frequency_minutes=FREQ)
    assert paused.state is AutomationState.PAUSED
    assert paused.next_due_at == T0 + PERIOD  # kept

    clock.set(T0 + timedelta(minutes=75))  # the 09:30 and 10:00 slots pass while paused
    assert (await sched.run_pass()).runs == ()
    resumed = await resume_automation(repository, user.id, default_frequency_minutes=FREQ)
    assert resumed.state is AutomationState.ACTIVE
    assert resumed.next_due_at == T0 + 3 * PERIOD  # 10:30, on the same grid, nothing replayed
    assert (await sched.run_pass()).runs == ()

    clock.set(T0 + 3 * PERIOD)
    assert len((await sched.run_pass()).runs) == 1
    assert await run_starts(repository, user) == [T0, T0 + 3 * PERIOD]
    status = await automation_status(repository, user.id)
    assert status.next_run == T0 + 4 * PERIOD


@pytest.mark.asyncio
async def test_pausing_a_stopped_automation_says_to_start_it(repository: MemoryRepository) -> None:
    user = await add_user(repository)
    with pytest.raises(DomainError, match="stopped"):
        await pause_automation(repository, user.id, default_frequency_minutes=FREQ)
    with pytest.raises(DomainError, match="start it instead"):
        await resume_automation(repository, user.id, default_frequency_minutes=FREQ)


@pytest.mark.asyncio
async def test_stop_clears_the_schedule_and_run_now_still_runs_once(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    user = await add_user(repository)
    sched = scheduler(repository, clock)
    await start_automation(repository, user.id, default_frequency_minutes=FREQ)
    stopped = await stop_automation(repository, user.id, default_frequency_minutes=FREQ)
    assert stopped.next_due_at is None
    clock.advance(timedelta(hours=5))
    assert (await sched.run_pass()).runs == ()

    await request_run(repository, user.id, default_frequency_minutes=FREQ)
    report = await sched.run_pass()
    assert [run.trigger for run in report.runs] == [Trigger.MANUAL]
    assert (await sched.run_pass()).runs == ()  # the request was served once
    status = await automation_status(repository, user.id)
    assert status.state is AutomationState.STOPPED
    assert status.next_run is None


@pytest.mark.asyncio
async def test_the_daemon_does_not_drift_over_100_cycles_of_40_seconds(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    user = await add_user(repository)
    stop = asyncio.Event()
    notifier = SlowNotifier(clock, seconds=40, limit=100, stop=stop)
    await start_automation(repository, user.id, default_frequency_minutes=FREQ)
    await scheduler(repository, clock, notifier=notifier).serve(stop, host="test", pid=1)

    starts = await run_starts(repository, user)
    assert len(starts) == 100
    lateness = [start - (T0 + k * PERIOD) for k, start in enumerate(starts)]
    # Every cycle starts on its own slot, at most one idle check late, however long the cycles
    # before it took (40 s each: 100 of them would add up to over an hour of drift).
    assert all(timedelta(0) <= late <= timedelta(seconds=15) for late in lateness), lateness
    assert max(lateness[-10:]) <= max(lateness[:10]) + timedelta(seconds=15)


@pytest.mark.asyncio
async def test_after_a_three_hour_outage_the_daemon_runs_once_then_returns_to_the_grid(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    user = await add_user(repository)
    await start_automation(repository, user.id, default_frequency_minutes=FREQ)
    stop = asyncio.Event()
    await scheduler(
        repository, clock, notifier=SlowNotifier(clock, seconds=5, limit=3, stop=stop)
    ).serve(stop, host="test", pid=1)
    before = await run_starts(repository, user)
    assert len(before) == 3  # 09:00, 09:30, 10:00

    clock.advance(timedelta(hours=3))  # the daemon is down: six slots pass
    back = clock.now()
    stop = asyncio.Event()
    await scheduler(
        repository, clock, notifier=SlowNotifier(clock, seconds=5, limit=2, stop=stop)
    ).serve(stop, host="test", pid=1)
    after = (await run_starts(repository, user))[3:]
    assert len(after) == 2
    assert back <= after[0] < back + timedelta(seconds=15)  # one catch-up run, at once
    # The next run is on the original grid: the first slot after the catch-up run (13:30).
    next_slot = T0 + ((after[0] - T0) // PERIOD + 1) * PERIOD
    assert next_slot == T0 + 9 * PERIOD
    assert next_slot <= after[1] < next_slot + timedelta(seconds=15)


@pytest.mark.asyncio
async def test_a_held_lease_keeps_a_second_scheduler_off_the_user(
    repository: MemoryRepository, clock: FakeClock
) -> None:
    user = await add_user(repository)
    await start_automation(repository, user.id, default_frequency_minutes=FREQ)
    async with repository.unit_of_work() as uow:
        held = await uow.leases.claim_due(
            "other:2:bb", ttl=timedelta(seconds=60), limit=10, trigger=Trigger.SCHEDULE
        )
        await uow.commit()
    assert [lease.user_id for lease in held] == [user.id]
    sched = scheduler(repository, clock)
    assert (await sched.run_pass()).runs == ()
    forced = await sched.run_pass(user_ids=[user.id], force=True)
    assert forced.runs == ()
    assert forced.busy
    assert "other:2:bb" in forced.busy[0]

    clock.advance(timedelta(seconds=61))  # the other scheduler vanished: its lease lapses
    taken = await sched.run_pass()
    assert [run.status for run in taken.runs] == [RunStatus.SUCCESS]
    async with repository.unit_of_work() as uow:
        intervals = await uow.leases.intervals(user.id)
    assert [interval.owner for interval in intervals] == ["other:2:bb", "test:1:aa"]
    assert intervals[1].fencing == intervals[0].fencing + 1
    assert intervals[0].ended_at <= intervals[1].claimed_at


class SleepsForever(FakeClock):
    """A fake clock whose ``sleep`` never ends: only a wake (or the stop) moves the daemon."""

    async def sleep(self, seconds: float) -> None:
        await asyncio.Event().wait()


@pytest.mark.asyncio
async def test_a_wake_makes_an_idle_daemon_start_a_requested_run_at_once() -> None:
    clock = SleepsForever(T0)
    repository = MemoryRepository(clock=clock)
    user = await add_user(repository)
    stop, wake = asyncio.Event(), asyncio.Event()
    daemon = asyncio.create_task(
        scheduler(repository, clock).serve(stop, host="test", pid=1, wake=wake)
    )
    for _ in range(50):  # let it register, find nothing due and go to sleep
        await asyncio.sleep(0)
    assert await run_starts(repository, user) == []

    await request_run(repository, user.id, default_frequency_minutes=FREQ)
    wake.set()  # what the web server's "Run now" does after queueing the run
    for _ in range(500):
        if await run_starts(repository, user):
            break
        await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(daemon, timeout=30)

    assert await run_starts(repository, user) == [T0]  # without the wake it would sleep on
    assert not wake.is_set()  # seen and cleared
    await repository.aclose()
