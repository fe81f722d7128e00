"""Fencing: a cycle whose lease was lost (it lapsed, another scheduler may take it) writes
nothing more and sends no order; the scheduler that takes over closes the interrupted run and
runs the cycle once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tradecore.domain import (
    BrokerConnection,
    Digest,
    Instrument,
    OrderIntent,
    Quote,
    RunStatus,
    StrategyConfig,
    StrategyDecision,
    TaskKind,
    TaskStatus,
    Trigger,
    User,
)
from tradecore.errors import LeaseLost
from tradecore.ports import (
    BrokerContext,
    BrokerFactory,
    StrategyContext,
    StrategyFactory,
    UnitOfWork,
)
from tradecore.ports.repository import REPOSITORIES
from tradecore.services import (
    AutomationCycle,
    FencedRepository,
    LeaseGuard,
    Scheduler,
    start_automation,
)
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import make_run
from tradecore_adapters.memory import MemoryRepository

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
BTC = Instrument(symbol="BTC-USD", base="BTC", quote="USD")
TTL = timedelta(seconds=60)


class AlwaysBuy:
    def __init__(self, config: StrategyConfig) -> None:
        self.config = config

    def instruments(self) -> Sequence[Instrument]:
        return [BTC]

    async def evaluate(self, context: StrategyContext) -> StrategyDecision:
        runs = int(context.state.get("runs", "0")) + 1
        intent = OrderIntent(instrument=BTC, side="buy", quantity=Decimal("0.01"), reason="t")
        return StrategyDecision(intents=[intent], state={"runs": str(runs)})


class World:
    def __init__(self) -> None:
        self.clock = FakeClock(T0)
        self.repository = MemoryRepository(clock=self.clock)
        self.user = User(name="alice", created_at=T0)
        self.connection = BrokerConnection(
            user_id=self.user.id, broker="fake", name="main", created_at=T0
        )
        self.broker = FakeBroker(clock=self.clock, connection_id=self.connection.id, name="fake")
        self.broker.set_quote(Quote(instrument=BTC, last=Decimal("50000"), as_of=T0))

    async def setup(self) -> None:
        async with self.repository.unit_of_work() as uow:
            await uow.users.add(self.user)
            await uow.connections.add(self.connection)
            await uow.strategies.add(
                StrategyConfig(
                    user_id=self.user.id,
                    strategy_type="always-buy",
                    name="buyer",
                    connection_id=self.connection.id,
                    created_at=T0,
                )
            )
            await uow.commit()
        await start_automation(self.repository, self.user.id, default_frequency_minutes=30)

    def cycle(self) -> AutomationCycle:
        broker = self.broker

        class Handle:  # the cycle closes its brokers; the venue outlives it
            def __getattr__(self, name: str) -> Any:
                return getattr(broker, name)

            async def aclose(self) -> None:
                return None

        def create(connection: BrokerConnection, context: BrokerContext) -> Any:
            return Handle()

        return AutomationCycle(
            repository=self.repository,
            clock=self.clock,
            brokers={"fake": BrokerFactory(name="fake", description="fake", create=create)},
            strategies={
                "always-buy": StrategyFactory(
                    name="always-buy",
                    description="buys",
                    create=lambda config, values: AlwaysBuy(config),
                )
            },
        )

    def scheduler(self, owner: str) -> Scheduler:
        return Scheduler(cycle=self.cycle(), owner=owner, lease_ttl=TTL, concurrency=1)


@pytest.fixture
async def world() -> World:
    w = World()
    await w.setup()
    return w


async def test_a_cycle_under_a_lease_taken_over_records_and_sends_nothing(world: World) -> None:
    async with world.repository.unit_of_work() as uow:
        (lease,) = await uow.leases.claim_due("a:1:aa", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
        await uow.commit()
    world.clock.advance(TTL + timedelta(seconds=1))
    async with world.repository.unit_of_work() as uow:
        taken = await uow.leases.claim_due("b:2:bb", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
        await uow.commit()
    assert [t.interrupted_run_id for t in taken] == [lease.run_id]

    fenced = FencedRepository(world.repository, LeaseGuard(lease))
    cycle = world.cycle()
    cycle.repository = fenced
    with pytest.raises(LeaseLost, match="lost"):
        await cycle.run(world.user.id, trigger=Trigger.SCHEDULE, run_id=lease.run_id)

    assert world.broker.orders == {}
    async with world.repository.unit_of_work() as uow:
        assert await uow.runs.list(world.user.id) == []
        assert await uow.orders.list(world.user.id) == []
        (strategy,) = await uow.strategies.list(world.user.id)
    assert strategy.state == {}


async def test_a_lease_that_lapses_mid_cycle_stops_it_before_the_order_and_the_next_owner_runs_it_once(
    world: World,
) -> None:
    lapsed = False

    async def lapse_before_pricing(method: str) -> None:
        # The scheduler stalls (a long GC pause, a frozen VM) right before the strategy prices
        # its order: its lease lapses.
        nonlocal lapsed
        if method == "get_asset_price" and not lapsed:
            lapsed = True
            world.clock.advance(TTL + timedelta(seconds=1))

    world.broker.before_call = lapse_before_pricing
    first = await world.scheduler("a:1:aa").run_pass(
        trigger=Trigger.SCHEDULE, user_ids=[world.user.id]
    )
    (stalled,) = first.runs
    assert stalled.status is None
    assert stalled.error is not None
    assert "lost" in stalled.error
    assert world.broker.orders == {}  # the pending order was never committed, so never sent
    async with world.repository.unit_of_work() as uow:
        assert await uow.orders.list(world.user.id) == []
        interrupted = await uow.runs.get(world.user.id, stalled.run_id)
    assert interrupted.finished_at is None  # it could not even record how it ended

    second = await world.scheduler("b:2:bb").run_pass(trigger=Trigger.SCHEDULE)
    assert [r.status for r in second.runs] == [RunStatus.SUCCESS]
    assert len(world.broker.orders) == 1
    async with world.repository.unit_of_work() as uow:
        closed = await uow.runs.get(world.user.id, stalled.run_id)
        intervals = await uow.leases.intervals(world.user.id)
    assert closed.status is RunStatus.FAILURE
    lease_step = closed.steps[-1]
    assert lease_step.kind is TaskKind.LEASE
    assert lease_step.status is TaskStatus.FAILURE
    assert "took the cycle over" in (lease_step.error or "")
    assert [i.owner for i in intervals] == ["a:1:aa", "b:2:bb"]
    assert intervals[0].ended_at <= intervals[1].claimed_at


async def test_a_fenced_unit_refuses_to_lock_a_connection_for_a_token_refresh_once_lost(
    world: World,
) -> None:
    async with world.repository.unit_of_work() as uow:
        (lease,) = await uow.leases.claim_due("a:1:aa", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
        await uow.commit()
    fenced = FencedRepository(world.repository, LeaseGuard(lease))
    async with fenced.unit_of_work() as uow:
        held = await uow.connections.get_for_update(world.user.id, world.connection.id)
    assert held.id == world.connection.id
    world.clock.advance(TTL + timedelta(seconds=1))
    async with fenced.unit_of_work() as uow:
        with pytest.raises(LeaseLost):
            await uow.connections.get_for_update(world.user.id, world.connection.id)


async def test_a_fenced_unit_hands_out_every_repository_of_the_wrapped_unit(world: World) -> None:
    async with world.repository.unit_of_work() as uow:
        (lease,) = await uow.leases.claim_due("a:1:aa", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
        await uow.commit()
    plain = world.repository.unit_of_work()
    fenced = FencedRepository(world.repository, LeaseGuard(lease)).unit_of_work()

    assert isinstance(fenced, UnitOfWork)
    for name in REPOSITORIES:
        if name != "connections":  # the one fenced repository
            assert type(getattr(fenced, name)) is type(getattr(plain, name)), name
    assert type(fenced.connections) is not type(plain.connections)
    with pytest.raises(AttributeError, match="no attribute 'userz'"):
        fenced.userz  # type: ignore[attr-defined]  # noqa: B018
    # The delegated repositories are the wrapped unit's: a write through one commits with it.
    async with fenced as uow:
        await uow.runs.add(make_run(user_id=world.user.id, id=lease.run_id))
        await uow.commit()
    async with world.repository.unit_of_work() as uow:
        assert (await uow.runs.get(world.user.id, lease.run_id)).id == lease.run_id


class LapsingNotifier:
    """A digest that takes longer than the lease: the scheduler loses it while notifying."""

    name = "slow"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent = 0

    async def send(self, digest: object) -> None:
        self.clock.advance(TTL + timedelta(seconds=1))
        self.sent += 1

    async def aclose(self) -> None:
        return None


class RecordingNotifier:
    """Counts the digests it is sent."""

    def __init__(self, name: str = "recorder") -> None:
        self.name = name
        self.digests: list[Digest] = []

    async def send(self, digest: Digest) -> None:
        self.digests.append(digest)

    async def aclose(self) -> None:
        return None


async def test_a_cycle_that_finished_before_its_lease_lapsed_is_not_run_again_by_the_next_owner(
    world: World,
) -> None:
    slow, after = LapsingNotifier(world.clock), RecordingNotifier("after")
    first = world.scheduler("a:1:aa")
    first.cycle.notifiers = (slow, after)
    (lost,) = (await first.run_pass(trigger=Trigger.SCHEDULE, user_ids=[world.user.id])).runs
    # The lease lapsed while the digest went to the slow target: the send is recorded, the
    # next one is not made (the lease is confirmed right before each send).
    assert "lost" in (lost.error or "")
    assert len(world.broker.orders) == 1
    assert (slow.sent, len(after.digests)) == (1, 0)

    second_owner = world.scheduler("b:2:bb")
    second_owner.cycle.notifiers = (slow, after)
    second = await second_owner.run_pass(trigger=Trigger.SCHEDULE)
    (served,) = second.runs
    assert served.run_id == lost.run_id  # the finished run stands for the slot
    assert served.status is RunStatus.SUCCESS
    assert len(world.broker.orders) == 1
    # ... and its digest goes to the target it had not reached, once.
    assert (slow.sent, [d.run_id for d in after.digests]) == (1, [lost.run_id])
    async with world.repository.unit_of_work() as uow:
        runs = await uow.runs.list(world.user.id)
        config = await uow.automation.get(world.user.id)
    assert [run.id for run in runs] == [lost.run_id]
    assert config is not None
    assert config.next_due_at is not None
    assert config.next_due_at > world.clock.now()  # the slot is served, the schedule moved on
    assert (await world.scheduler("c:3:cc").run_pass()).runs == ()
