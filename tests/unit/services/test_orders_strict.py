"""The order protocol's two late guards (docs/orders.md): nothing is sent once the lease is lost
or the order is older than half the safe window, and "never placed" is concluded only after the
broker's listings were searched too (when it has any)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any

import pytest
from attrs import evolve

from tradecore.domain import Instrument, Order, OrderRequest, OrderStatus, Quote, Trigger
from tradecore.errors import BrokerUnavailable, LeaseLost, OrderNotFound
from tradecore.ports import BrokerCapabilities, RepositoryPort, UnitOfWork
from tradecore.services import (
    FencedRepository,
    LeaseGuard,
    ManualOrder,
    Scheduler,
    place_manual_order,
    reconcile_orders,
    start_automation,
)
from tradecore.services.orders import SAFE_WINDOW, SEND_DEADLINE, pending_order, send_recorded
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import make_connection, make_order, make_user
from tradecore_adapters.memory import MemoryRepository

CONNECTION = make_connection()
USER_ID = make_user().id
BTC = Instrument(symbol="BTC-USD")
TTL = timedelta(seconds=60)


class StallAfterOrderCommit:
    """``inner``, except that right after the first commit that recorded an order the process
    "stalls": ``stall`` runs (it moves the clock, lets another process act)."""

    def __init__(
        self,
        inner: RepositoryPort,
        stall: Callable[[], Awaitable[None]],
        *,
        on_exit: bool = False,
    ) -> None:
        self.inner = inner
        self.stall = stall
        self.on_exit = on_exit  # stall once the unit is closed (its locks released), not at commit
        self.stalled = False

    def unit_of_work(self) -> UnitOfWork:
        return _StallingUnit(self.inner.unit_of_work(), self)  # type: ignore[return-value]

    async def aclose(self) -> None:
        await self.inner.aclose()


class _StallingUnit:
    def __init__(self, inner: UnitOfWork, owner: StallAfterOrderCommit) -> None:
        self._inner, self._owner = inner, owner
        self._added = self._committed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @property
    def orders(self) -> Any:
        unit, inner = self, self._inner.orders

        class Orders:
            def __getattr__(self, name: str) -> Any:
                return getattr(inner, name)

            async def add(self, user_id: str, order: Order) -> None:
                unit._added = True
                await inner.add(user_id, order)

        return Orders()

    async def __aenter__(self) -> _StallingUnit:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._inner.__aexit__(kind, exc, tb)
        if self._owner.on_exit and kind is None:
            await self._stall()

    async def commit(self) -> None:
        await self._inner.commit()
        self._committed = True
        if not self._owner.on_exit:
            await self._stall()

    async def _stall(self) -> None:
        if self._added and self._committed and not self._owner.stalled:
            self._owner.stalled = True
            await self._owner.stall()

    async def rollback(self) -> None:
        await self._inner.rollback()


async def alices_repository(clock: FakeClock) -> MemoryRepository:
    repository = MemoryRepository(clock=clock)
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user())
        await uow.connections.add(CONNECTION)
        await uow.commit()
    return repository


def quoted_broker(clock: FakeClock, *, search: bool = False) -> FakeBroker:
    broker = FakeBroker(
        clock=clock,
        connection_id=CONNECTION.id,
        capabilities=BrokerCapabilities(order_search=search),
    )
    broker.set_quote(Quote(instrument=BTC, last=Decimal(40000), as_of=clock.now()))
    return broker


def a_request(client_order_id: str) -> OrderRequest:
    return make_order(
        connection_id=CONNECTION.id,
        account_id="main",
        instrument=BTC,
        client_order_id=client_order_id,
    ).request


async def stored(repository: RepositoryPort, client_order_id: str) -> Order:
    async with repository.unit_of_work() as uow:
        return await uow.orders.get(USER_ID, client_order_id)


# -- nothing is sent late ------------------------------------------------------------------------


async def test_an_order_recorded_longer_ago_than_half_the_safe_window_is_never_sent() -> None:
    clock = FakeClock()
    repository = await alices_repository(clock)
    broker = quoted_broker(clock)
    request = a_request("tc-late")
    pending = pending_order(request, clock=clock)
    async with repository.unit_of_work() as uow:
        await uow.orders.add(USER_ID, pending)
        await uow.commit()
    clock.advance(SEND_DEADLINE + timedelta(seconds=1))  # stalled between commit and POST

    outcome = await send_recorded(
        repository=repository, broker=broker, user_id=USER_ID, pending=pending, clock=clock
    )

    assert "place_order" not in broker.calls
    assert broker.orders == {}
    assert outcome.status is OrderStatus.PENDING_SUBMIT
    assert "not sent" in (outcome.reason or "")
    assert (await stored(repository, "tc-late")).status is OrderStatus.PENDING_SUBMIT

    clock.advance(SAFE_WINDOW)
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=CONNECTION, clock=clock
    )
    assert result.not_placed == 1
    assert (await stored(repository, "tc-late")).status is OrderStatus.NOT_PLACED
    assert broker.orders == {}, "reconciliation never sends"


async def test_an_order_just_inside_the_deadline_is_sent() -> None:
    clock = FakeClock()
    repository = await alices_repository(clock)
    broker = quoted_broker(clock)
    request = a_request("tc-in-time")
    pending = pending_order(request, clock=clock)
    async with repository.unit_of_work() as uow:
        await uow.orders.add(USER_ID, pending)
        await uow.commit()
    clock.advance(SEND_DEADLINE)

    outcome = await send_recorded(
        repository=repository, broker=broker, user_id=USER_ID, pending=pending, clock=clock
    )

    assert outcome.status is OrderStatus.FILLED
    assert list(broker.orders) == ["tc-in-time"]


async def test_a_manual_order_stalled_after_its_commit_is_not_sent() -> None:
    clock = FakeClock()
    inner = await alices_repository(clock)

    async def stall() -> None:
        clock.advance(SEND_DEADLINE + timedelta(seconds=5))

    repository = StallAfterOrderCommit(inner, stall)
    broker = quoted_broker(clock)
    wanted = ManualOrder(
        connection_id=CONNECTION.id,
        account_id="main",
        instrument=BTC,
        side="buy",
        quantity=Decimal("0.01"),
        key="k-1",
    )

    placed = await place_manual_order(
        repository=repository,  # type: ignore[arg-type]
        broker=broker,
        user_id=USER_ID,
        wanted=wanted,
        clock=clock,
    )

    assert repository.stalled
    assert "place_order" not in broker.calls
    assert placed.order.status is OrderStatus.PENDING_SUBMIT
    assert "not sent" in (placed.order.reason or "")


async def test_a_lease_lost_between_the_commit_and_the_post_sends_nothing() -> None:
    clock = FakeClock()
    store = await alices_repository(clock)
    await start_automation(store, USER_ID, default_frequency_minutes=30)
    async with store.unit_of_work() as uow:
        (lease,) = await uow.leases.claim_due("a:1:aa", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
        await uow.commit()

    async def stall() -> None:  # the lease lapses and another scheduler takes the cycle
        clock.advance(TTL + timedelta(seconds=1))
        async with store.unit_of_work() as uow:
            taken = await uow.leases.claim_due("b:2:bb", ttl=TTL, limit=1, trigger=Trigger.SCHEDULE)
            await uow.commit()
        assert len(taken) == 1

    fenced = FencedRepository(StallAfterOrderCommit(store, stall), LeaseGuard(lease))  # type: ignore[arg-type]
    broker = quoted_broker(clock)
    request = a_request("tc-fenced")
    pending = pending_order(request, clock=clock)
    async with fenced.unit_of_work() as uow:
        await uow.orders.add(USER_ID, pending)
        await uow.commit()  # under the lease; then the process stalls

    with pytest.raises(LeaseLost):
        await send_recorded(
            repository=fenced, broker=broker, user_id=USER_ID, pending=pending, clock=clock
        )

    assert "place_order" not in broker.calls
    assert broker.orders == {}
    assert (await stored(store, "tc-fenced")).status is OrderStatus.PENDING_SUBMIT


# -- "never placed" only after every listing was searched -----------------------------------------


async def recorded_but_lost(
    clock: FakeClock, broker: FakeBroker, repository: MemoryRepository
) -> Order:
    """An order recorded ``PENDING_SUBMIT`` that the broker executed (the process died before
    it could record the answer)."""
    request = a_request("tc-lost")
    pending = pending_order(request, clock=clock)
    async with repository.unit_of_work() as uow:
        await uow.orders.add(USER_ID, pending)
        await uow.commit()
    placed = await broker.place_order(request)
    assert placed.status is OrderStatus.FILLED
    return pending


async def test_an_order_the_lookup_denies_but_a_listing_holds_is_adopted_not_decided_again() -> (
    None
):
    clock = FakeClock()
    repository = await alices_repository(clock)
    broker = quoted_broker(clock, search=True)
    await recorded_but_lost(clock, broker, repository)
    broker.fail("get_order_status", OrderNotFound("Order does not exist.", broker="fake"))

    clock.advance(SAFE_WINDOW)
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=CONNECTION, clock=clock
    )

    assert broker.calls.count("get_order_status") == 3
    assert broker.calls.count("search_order") == 1
    assert (result.not_placed, result.unresolved, result.updated) == (0, 0, 1)
    order = await stored(repository, "tc-lost")
    assert order.status is OrderStatus.FILLED
    assert order.broker_order_id == broker.orders["tc-lost"].broker_order_id
    assert len(broker.orders) == 1


async def test_a_broker_without_listings_is_looked_up_by_client_id_only() -> None:
    clock = FakeClock()
    repository = await alices_repository(clock)
    broker = quoted_broker(clock, search=False)
    await recorded_but_lost(clock, broker, repository)
    broker.fail("get_order_status", OrderNotFound("Order does not exist.", broker="fake"))

    clock.advance(SAFE_WINDOW)
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=CONNECTION, clock=clock
    )

    assert "search_order" not in broker.calls
    assert result.not_placed == 1


async def test_nothing_in_the_listings_either_is_not_placed_and_says_so() -> None:
    clock = FakeClock()
    repository = await alices_repository(clock)
    broker = quoted_broker(clock, search=True)
    request = a_request("tc-never")
    async with repository.unit_of_work() as uow:
        await uow.orders.add(USER_ID, pending_order(request, clock=clock))
        await uow.commit()

    clock.advance(SAFE_WINDOW)
    result = await reconcile_orders(
        repository=repository, broker=broker, connection=CONNECTION, clock=clock
    )

    assert result.not_placed == 1
    assert broker.calls.count("search_order") == 1
    assert "nor in the broker's order listings" in (
        (await stored(repository, "tc-never")).reason or ""
    )


async def test_a_failing_search_concludes_nothing() -> None:
    clock = FakeClock()
    repository = await alices_repository(clock)
    broker = quoted_broker(clock, search=True)
    pending = await recorded_but_lost(clock, broker, repository)
    broker.fail("get_order_status", OrderNotFound("Order does not exist.", broker="fake"))
    broker.fail("search_order", BrokerUnavailable("listing unavailable", broker="fake"))

    clock.advance(SAFE_WINDOW)
    with pytest.raises(BrokerUnavailable):
        await reconcile_orders(
            repository=repository, broker=broker, connection=CONNECTION, clock=clock
        )

    assert (await stored(repository, "tc-lost")) == evolve(pending)


# -- the whole story: a scheduler stalled between its commit and its POST -------------------------


async def test_a_scheduler_stalled_before_its_post_sends_nothing_after_another_decided_again() -> (
    None
):
    """Scheduler A records the strategy's order and stalls before sending it (a stopped
    process). Its lease lapses; scheduler B takes the cycle over, waits out the safe window,
    concludes the order ``not_placed`` and the strategy buys again. When A wakes up it sends
    nothing: exactly one order reached the broker."""
    from tests.unit.services.test_fencing import World

    world = World()
    await world.setup()
    resume = asyncio.Event()
    stalled = asyncio.Event()

    async def stall() -> None:
        stalled.set()
        await resume.wait()

    cycle_a = world.cycle()
    cycle_a.repository = StallAfterOrderCommit(world.repository, stall, on_exit=True)
    scheduler_a = Scheduler(cycle=cycle_a, owner="a:1:aa", lease_ttl=TTL, concurrency=1)
    uid = world.user.id
    a = asyncio.create_task(
        scheduler_a.run_pass(trigger=Trigger.SCHEDULE, user_ids=[uid], force=True)
    )
    await asyncio.wait_for(stalled.wait(), timeout=10)
    async with world.repository.unit_of_work() as uow:
        (recorded,) = await uow.orders.list(uid)
    assert recorded.status is OrderStatus.PENDING_SUBMIT

    world.clock.advance(TTL + timedelta(seconds=1))  # A's lease lapses
    scheduler_b = world.scheduler("b:2:bb")
    first = await scheduler_b.run_pass(trigger=Trigger.SCHEDULE, user_ids=[uid], force=True)
    assert [run.error for run in first.runs] == [None]
    assert world.broker.orders == {}, "B waits: the order may still be on its way"
    world.clock.advance(SAFE_WINDOW)
    await scheduler_b.run_pass(trigger=Trigger.SCHEDULE, user_ids=[uid], force=True)
    async with world.repository.unit_of_work() as uow:
        statuses = {o.client_order_id: o.status for o in await uow.orders.list(uid)}
    assert statuses[recorded.client_order_id] is OrderStatus.NOT_PLACED
    assert len(world.broker.orders) == 1, "B decided again and bought once"

    resume.set()  # A wakes up, long after
    report = await asyncio.wait_for(a, timeout=10)

    (run_a,) = report.runs
    assert "lost" in (run_a.error or "")
    assert len(world.broker.orders) == 1, "A sent its stale order"
    assert recorded.client_order_id not in world.broker.orders
