"""What a cycle's paper broker spares: a price while nothing of the venue can come due is computed
without reading the venue; and the venue, the broker's side, is not fenced by the cycle's lease,
while an order still never reaches it once the lease is lost (the confirmation right before the
order is sent)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tradecore.domain import (
    Account,
    BrokerConnection,
    Instrument,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    Trigger,
    User,
)
from tradecore.errors import LeaseLost, OrderNotFound
from tradecore.plugins import BrokerContext, PluginRegistry, get_plugin_manager
from tradecore.ports import VenueSnapshot, VenueTransaction
from tradecore.services.brokers import create_broker
from tradecore.services.fencing import FencedRepository, LeaseGuard
from tradecore.services.orders import pending_order, send_recorded
from tradecore.services.venues import LocalVenueStore
from tradecore.testing import FakeClock
from tradecore.testing.builders import make_automation_config
from tradecore_adapters.memory import MemoryRepository
from tradecore_adapters.paper import plugin
from tradecore_adapters.paper._prices import catalogue, quote_at
from tradecore_adapters.paper._state import load_state

CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
AAPL = Instrument(symbol="AAPL", asset_type="stock")
ACCOUNT = Account(connection_id="conn-1", account_id="paper")
TTL = timedelta(seconds=30)  # short: a lapsed lease, not the send deadline, stops the order


def registry() -> PluginRegistry:
    return PluginRegistry.from_manager(
        get_plugin_manager(load_entrypoints=False, plugins=[("paper", plugin)])
    )


def connection() -> BrokerConnection:
    # One history fill a week, the next one a week after the connection was made.
    return BrokerConnection(
        id="conn-1",
        user_id="u1",
        broker="paper",
        name="demo",
        settings={"history_days": "0", "activity_minutes": "10080"},
        created_at=CREATED,
    )


class CountingStore:
    """A venue store in memory that counts how often the venue is read or locked."""

    def __init__(self) -> None:
        self.inner = LocalVenueStore()
        self.reads = 0

    def transaction(self) -> AbstractAsyncContextManager[VenueTransaction]:
        self.reads += 1
        return self.inner.transaction()

    def snapshot(self) -> AbstractAsyncContextManager[VenueSnapshot]:
        self.reads += 1
        return self.inner.snapshot()


def broker_on(store: CountingStore, clock: FakeClock) -> object:
    context = BrokerContext(clock=clock, venue=store)
    return registry().broker("paper").create(connection(), context)


def aapl_price(when: datetime) -> Decimal:
    aapl = next(item for item in catalogue("USD") if item.symbol == "AAPL")
    return quote_at(0, aapl, when).ask


def request(client_id: str, limit: Decimal | None = None) -> OrderRequest:
    return OrderRequest(
        connection_id="conn-1",
        account_id="paper",
        client_order_id=client_id,
        instrument=AAPL,
        side=Side.BUY,
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        quantity=Decimal("1"),
        limit_price=limit,
    )


def stored_orders(store: CountingStore) -> dict[str, str]:
    assert store.inner.state is not None
    return {o.ticket.client_order_id: o.status for o in load_state(store.inner.state)["orders"]}


async def test_a_price_while_nothing_can_come_due_reads_nothing_of_the_venue() -> None:
    clock, store = FakeClock(CREATED + timedelta(hours=1)), CountingStore()
    broker = broker_on(store, clock)
    await broker.get_positions(ACCOUNT)  # type: ignore[attr-defined]
    reads = store.reads
    quote = await broker.get_asset_price(AAPL)  # type: ignore[attr-defined]
    assert store.reads == reads  # computed from the seed and the minute alone
    assert quote.ask == aapl_price(clock.now())

    clock.set(CREATED + WEEK)  # the next history fill is due: the venue is read and moved on
    await broker.get_asset_price(AAPL)  # type: ignore[attr-defined]
    assert store.reads > reads
    assert load_state(store.inner.state or "")["next_slot"] == 2


async def test_a_price_while_an_order_rests_reads_the_venue_and_fills_the_crossed_order() -> None:
    clock, store = FakeClock(CREATED + timedelta(hours=1)), CountingStore()
    broker = broker_on(store, clock)
    limit = aapl_price(clock.now()) - 2
    placed = await broker.place_order(request("tc-rest", limit))  # type: ignore[attr-defined]
    assert placed.status is OrderStatus.OPEN
    when = clock.now()
    for _ in range(WEEK // timedelta(minutes=1)):
        when += timedelta(minutes=1)
        if aapl_price(when) <= limit:
            break
    else:
        pytest.fail("AAPL never fell to the limit within a week")
    clock.set(when)
    reads = store.reads
    await broker.get_asset_price(AAPL)  # type: ignore[attr-defined]
    assert store.reads > reads
    assert stored_orders(store) == {"tc-rest": "FILLED"}


@asynccontextmanager
async def leased_cycle(clock: FakeClock) -> AsyncIterator[tuple[MemoryRepository, LeaseGuard]]:
    repository = MemoryRepository(clock=clock)
    async with repository.unit_of_work() as uow:
        await uow.users.add(User(id="u1", name="alice", created_at=CREATED))
        await uow.connections.add(connection())
        await uow.automation.save(make_automation_config(user_id="u1"))
        await uow.commit()
    async with repository.unit_of_work() as uow:
        (lease,) = await uow.leases.claim_due("a:1:aa", ttl=TTL, limit=1, trigger=Trigger.CRON)
        await uow.commit()
    try:
        yield repository, LeaseGuard(lease)
    finally:
        await repository.aclose()


async def take_over(repository: MemoryRepository, clock: FakeClock) -> Sequence[object]:
    clock.advance(TTL + timedelta(seconds=1))
    async with repository.unit_of_work() as uow:
        taken = await uow.leases.claim_due("b:2:bb", ttl=TTL, limit=1, trigger=Trigger.CRON)
        await uow.commit()
    return taken


async def test_an_order_recorded_under_a_lease_lost_before_it_is_sent_never_reaches_the_venue() -> (
    None
):
    clock = FakeClock(CREATED + timedelta(hours=1))
    async with leased_cycle(clock) as (repository, guard):
        fenced = FencedRepository(repository, guard)
        broker = create_broker(
            connection(), brokers=registry().brokers, repository=fenced, clock=clock
        )
        await broker.get_positions(ACCOUNT)  # the venue is saved, under the lease
        pending = pending_order(request("tc-late"), clock=clock)
        async with fenced.unit_of_work() as uow:
            await uow.orders.add("u1", pending)
            await uow.commit()
        assert await take_over(repository, clock)  # the process stalls; its lease is taken
        with pytest.raises(LeaseLost):
            await send_recorded(
                repository=fenced, broker=broker, user_id="u1", pending=pending, clock=clock
            )
        # The venue is the broker's side, not fenced: it still answers the stalled process,
        # and has never seen the order.
        assert await broker.get_positions(ACCOUNT) is not None
        with pytest.raises(OrderNotFound):
            await broker.get_order_status(ACCOUNT, "tc-late", instrument=AAPL)
        async with repository.unit_of_work() as uow:
            (kept,) = await uow.orders.list("u1")
        assert kept.status is OrderStatus.PENDING_SUBMIT


async def test_an_order_sent_while_the_lease_holds_reaches_the_venue() -> None:
    clock = FakeClock(CREATED + timedelta(hours=1))
    async with leased_cycle(clock) as (repository, guard):
        fenced = FencedRepository(repository, guard)
        broker = create_broker(
            connection(), brokers=registry().brokers, repository=fenced, clock=clock
        )
        pending = pending_order(request("tc-now"), clock=clock)
        async with fenced.unit_of_work() as uow:
            await uow.orders.add("u1", pending)
            await uow.commit()
        sent = await send_recorded(
            repository=fenced, broker=broker, user_id="u1", pending=pending, clock=clock
        )
        assert sent.status is OrderStatus.FILLED
        status = await broker.get_order_status(ACCOUNT, "tc-now", instrument=AAPL)
        assert status.status is OrderStatus.FILLED
