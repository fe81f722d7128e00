"""The paper venue lives in the database: each broker reads it from the store it is given, the
factory keeps nothing, and two processes on one paper account never lose an update.

"A process" here is a broker built from a registry of its own over a repository of its own
(on SQLite, a second engine on the same file; on PostgreSQL, a second pool), as two
``tradecore`` commands would be."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tradecore.domain import (
    Account,
    BrokerConnection,
    Instrument,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    User,
)
from tradecore.errors import BrokerError, InsufficientFunds, OrderNotFound, OrderRejected
from tradecore.plugins import BrokerContext, PluginRegistry, get_plugin_manager
from tradecore.ports import BrokerPort, RepositoryPort
from tradecore.services.venues import RepositoryVenueStore
from tradecore.testing import FakeClock
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.memory import MemoryRepository
from tradecore_adapters.paper import plugin
from tradecore_adapters.paper._prices import catalogue, quote_at
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.migrate import upgrade

CREATED = datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=UTC)  # microseconds survive the store
QUIET = CREATED - timedelta(minutes=1)  # no history fill is due yet; then one a week
AAPL = Instrument(symbol="AAPL", asset_type="stock")
ACCOUNT = Account(connection_id="conn-1", account_id="paper")
KEY = KeyRing.generate_key()

Opener = Callable[[], "asyncio.Future[RepositoryPort]"]


def registry() -> PluginRegistry:
    return PluginRegistry.from_manager(
        get_plugin_manager(load_entrypoints=False, plugins=[("paper", plugin)])
    )


def connection(**settings: str) -> BrokerConnection:
    return BrokerConnection(
        id="conn-1",
        user_id="u1",
        broker="paper",
        name="demo",
        settings={"history_days": "0", "activity_minutes": "10080", **settings},
        created_at=CREATED,
    )


async def add_owner(repository: RepositoryPort, paper: BrokerConnection) -> None:
    async with repository.unit_of_work() as uow:
        await uow.users.add(User(id="u1", name="alice", created_at=CREATED))
        await uow.connections.add(paper)
        await uow.commit()


def process(repository: RepositoryPort, clock: FakeClock, paper: BrokerConnection) -> BrokerPort:
    """The paper broker as one process builds it: a registry of its own, the store of its
    repository."""
    context = BrokerContext(clock=clock, venue=RepositoryVenueStore(repository, paper))
    return registry().broker("paper").create(paper, context)


async def holding(broker: BrokerPort, symbol: str) -> Decimal:
    positions = await broker.get_positions(ACCOUNT)
    return sum((p.quantity for p in positions if p.instrument.symbol == symbol), Decimal(0))


def request(client_id: str, side: Side, quantity: str, limit: Decimal | None) -> OrderRequest:
    return OrderRequest(
        connection_id="conn-1",
        account_id="paper",
        client_order_id=client_id,
        instrument=AAPL,
        side=side,
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        quantity=Decimal(quantity),
        limit_price=limit,
    )


def first_crossing(limit: Decimal, start: datetime) -> datetime:
    """The first minute after ``start`` when AAPL's ask is at or below ``limit`` (seed 0)."""
    aapl = next(item for item in catalogue("USD") if item.symbol == "AAPL")
    when = start
    for _ in range(30 * 24 * 60):
        when += timedelta(minutes=1)
        if quote_at(0, aapl, when).ask <= limit:
            return when
    pytest.fail("AAPL never fell to the limit in 30 days")


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def databases(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], RepositoryPort]]:
    """Opens "processes" on one database: each call a repository of its own on it."""
    opened: list[RepositoryPort] = []
    if request.param == "memory":
        shared = MemoryRepository()
        opened.append(shared)

        def open_memory() -> RepositoryPort:
            return shared  # one process: the memory store cannot be shared otherwise

        yield open_memory
    else:
        url = (
            f"sqlite:///{tmp_path / 'tradecore.db'}"
            if request.param == "sqlite"
            else request.getfixturevalue("postgres_url")
        )
        await upgrade(url)
        repositories = [await SqlRepository.open(url, key_ring=KeyRing.from_keys([KEY]))]
        repositories.append(await SqlRepository.open(url, key_ring=KeyRing.from_keys([KEY])))
        opened.extend(repositories)
        turn = iter(range(10**6))

        def open_sql() -> RepositoryPort:
            return repositories[next(turn) % 2]  # alternately one "process", then the other

        yield open_sql
    for repository in opened:
        await repository.aclose()


async def test_a_resting_order_placed_by_one_process_fills_in_a_later_one(
    databases: Callable[[], RepositoryPort],
) -> None:
    clock, paper = FakeClock(QUIET), connection()
    first_db = databases()
    await add_owner(first_db, paper)
    first = process(first_db, clock, paper)
    ask = (await first.get_asset_price(AAPL)).ask
    assert ask is not None
    limit = ask - 2
    placed = await first.place_order(request("tc-rest", Side.BUY, "10", limit))
    assert placed.status is OrderStatus.OPEN
    await first.aclose()

    crossing = first_crossing(limit, clock.now())
    clock.set(max(clock.now(), crossing - timedelta(minutes=1)))
    assert crossing - CREATED < timedelta(days=7), "a second history fill would be due"
    second = process(databases(), clock, paper)
    assert (await second.get_order_status(ACCOUNT, "tc-rest", instrument=AAPL)).status is (
        OrderStatus.OPEN
    )
    before = await holding(second, "AAPL")
    clock.set(crossing)
    third = process(databases(), clock, paper)
    filled = await third.get_order_status(ACCOUNT, "tc-rest", instrument=AAPL)
    assert (filled.status, filled.average_fill_price) == (OrderStatus.FILLED, limit)
    page = await third.get_trades(ACCOUNT)
    assert [(t.price, t.executed_at) for t in page.trades if t.client_order_id == "tc-rest"] == [
        (limit, crossing)
    ]
    assert await holding(third, "AAPL") == before + 10
    again = await process(databases(), clock, paper).get_trades(ACCOUNT, cursor=page.cursor)
    assert list(again.trades) == []


async def test_a_resting_order_is_cancelled_by_a_later_process_and_its_cash_freed(
    databases: Callable[[], RepositoryPort],
) -> None:
    clock, paper = FakeClock(QUIET), connection(starting_cash="1000")
    first_db = databases()
    await add_owner(first_db, paper)
    first = process(first_db, clock, paper)
    await first.place_order(request("tc-rest", Side.BUY, "5", Decimal("150.00")))
    with pytest.raises(InsufficientFunds):  # the cash is reserved by the resting order
        await process(databases(), clock, paper).place_order(request("m", Side.BUY, "5", None))

    cancelled = await process(databases(), clock, paper).cancel_order(
        ACCOUNT, "tc-rest", instrument=AAPL
    )
    assert cancelled.status is OrderStatus.CANCELED
    later = process(databases(), clock, paper)
    assert (await later.get_order_status(ACCOUNT, "tc-rest", instrument=AAPL)).status is (
        OrderStatus.CANCELED
    )
    assert (await later.place_order(request("m", Side.BUY, "5", None))).status is (
        OrderStatus.FILLED
    )


async def test_two_processes_placing_at_once_never_spend_the_same_cash_twice(
    databases: Callable[[], RepositoryPort],
) -> None:
    # Each order alone is affordable, both together are not: exactly one fills. Without the
    # venue's lock both would read the same cash and both would fill.
    clock, paper = FakeClock(QUIET), connection(starting_cash="1500")
    first_db = databases()
    await add_owner(first_db, paper)
    brokers = [process(first_db, clock, paper), process(databases(), clock, paper)]
    await brokers[0].get_asset_price(AAPL)  # the venue is saved: no first insert to wait on
    outcomes = await asyncio.gather(
        *(
            broker.place_order(request(f"tc-{n}", Side.BUY, "5", None))
            for n, broker in enumerate(brokers)
        ),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["InsufficientFunds", "Order"]
    page = await process(databases(), clock, paper).get_trades(ACCOUNT)
    assert [t.client_order_id for t in page.trades] == [
        f"tc-{n}" for n, o in enumerate(outcomes) if not isinstance(o, BaseException)
    ]


async def test_changing_the_settings_opens_a_new_venue(
    databases: Callable[[], RepositoryPort],
) -> None:
    clock = FakeClock(QUIET)
    first_db = databases()
    await add_owner(first_db, connection(seed="1"))
    first = process(first_db, clock, connection(seed="1"))
    await first.place_order(request("tc-rest", Side.BUY, "1", Decimal("10.00")))
    reseeded = process(databases(), clock, connection(seed="2"))
    with pytest.raises(OrderNotFound):
        await reseeded.get_order_status(ACCOUNT, "tc-rest", instrument=AAPL)


async def test_the_factory_keeps_no_venue_between_brokers() -> None:
    # A daemon builds a broker per connection and cycle from one registry: without a store in
    # the context each broker has a venue of its own, so nothing of a connection is kept by
    # the factory, and nothing of a closed broker stays reachable.
    clock = FakeClock(QUIET)
    factory = registry().broker("paper")
    first = factory.create(connection(), BrokerContext(clock=clock))
    await first.place_order(request("tc-rest", Side.BUY, "1", Decimal("10.00")))
    venue_store = weakref.ref(first._store)  # type: ignore[attr-defined]
    await first.aclose()
    del first
    gc.collect()
    assert venue_store() is None, "something outside the broker keeps its venue"
    second = factory.create(connection(), BrokerContext(clock=clock))
    with pytest.raises(OrderNotFound):
        await second.get_order_status(ACCOUNT, "tc-rest", instrument=AAPL)


async def test_a_stored_venue_that_cannot_be_read_is_a_broker_error_and_is_kept() -> None:
    repository, clock, paper = MemoryRepository(), FakeClock(QUIET), connection()
    await add_owner(repository, paper)
    async with repository.unit_of_work() as uow:
        await uow.venues.save("u1", "conn-1", '{"format": 1, "tag": "edited by hand"')
        await uow.commit()
    broker = process(repository, clock, paper)
    with pytest.raises(BrokerError, match="stored paper venue cannot be read") as raised:
        await broker.get_positions(ACCOUNT)
    assert raised.value.code == "venue_unreadable"
    async with repository.unit_of_work() as uow:  # nothing was replaced
        assert await uow.venues.get_for_update("u1", "conn-1") == (
            '{"format": 1, "tag": "edited by hand"'
        )


async def test_a_cursor_of_the_venue_an_older_tradecore_kept_in_memory_still_works() -> None:
    # Its tag names no stored venue: the history slots it saw are not listed again, and every
    # fill of the durable venue's orders is.
    repository, clock = MemoryRepository(), FakeClock(CREATED + timedelta(minutes=1))
    paper = connection(activity_minutes="60", history_days="1")
    await add_owner(repository, paper)
    broker = process(repository, clock, paper)
    await broker.place_order(request("tc-now", Side.BUY, "1", None))
    old_cursor = "20.3.0ddba11"  # slots 0-19 seen, 3 order fills of a process long gone

    page = await broker.get_trades(ACCOUNT, cursor=old_cursor)

    history = [t for t in page.trades if t.client_order_id is None]
    assert [t.broker_trade_id for t in history] == [f"hist-{slot}" for slot in range(20, 25)]
    assert [t.client_order_id for t in page.trades if t.client_order_id] == ["tc-now"]
    again = await broker.get_trades(ACCOUNT, cursor=page.cursor)
    assert list(again.trades) == []


async def test_a_refused_order_keeps_what_the_venue_did_before_refusing() -> None:
    # At the crossing minute a refused placement first settles the resting order: that fill
    # is saved with the refusal, at that minute.
    repository, clock, paper = MemoryRepository(), FakeClock(QUIET), connection()
    await add_owner(repository, paper)
    ask = (await process(repository, clock, paper).get_asset_price(AAPL)).ask
    assert ask is not None
    limit = ask - 2
    await process(repository, clock, paper).place_order(request("tc-rest", Side.BUY, "1", limit))
    crossing = first_crossing(limit, clock.now())
    clock.set(crossing)
    with pytest.raises(OrderRejected):
        await process(repository, clock, paper).place_order(
            request("tc-odd", Side.BUY, "0.5", None)  # off the lot of 1
        )
    clock.advance(timedelta(hours=1))
    filled = await process(repository, clock, paper).get_order_status(
        ACCOUNT, "tc-rest", instrument=AAPL
    )
    assert (filled.status, filled.updated_at) == (OrderStatus.FILLED, crossing)


async def test_a_request_with_nothing_due_does_not_wait_for_the_venues_lock(
    databases: Callable[[], RepositoryPort],
) -> None:
    # A price or the positions with nothing due change nothing: they read the committed venue
    # and never queue behind a process placing an order on it.
    clock, paper = FakeClock(QUIET), connection()
    first_db = databases()
    await add_owner(first_db, paper)
    await process(first_db, clock, paper).get_positions(ACCOUNT)  # the venue is saved
    held, read = asyncio.Event(), asyncio.Event()
    finished_while_held: list[bool] = []

    async def hold_the_lock() -> None:
        async with RepositoryVenueStore(first_db, paper).transaction():
            held.set()
            try:
                await asyncio.wait_for(read.wait(), timeout=5)
                finished_while_held.append(True)
            except TimeoutError:
                finished_while_held.append(False)

    async def read_while_held() -> None:
        await held.wait()
        other = process(databases(), clock, paper)
        await other.get_asset_price(AAPL)
        await other.get_positions(ACCOUNT)
        read.set()

    await asyncio.wait_for(asyncio.gather(hold_the_lock(), read_while_held()), timeout=60)
    assert finished_while_held == [True]


async def test_a_status_request_that_settles_an_order_saves_it(
    databases: Callable[[], RepositoryPort],
) -> None:
    # Looking the order up at the crossing minute fills it: that is saved, at that minute,
    # whatever the price does afterwards.
    clock, paper = FakeClock(QUIET), connection()
    first_db = databases()
    await add_owner(first_db, paper)
    ask = (await process(first_db, clock, paper).get_asset_price(AAPL)).ask
    assert ask is not None
    limit = ask - 2
    await process(first_db, clock, paper).place_order(request("tc-rest", Side.BUY, "1", limit))
    crossing = first_crossing(limit, clock.now())
    clock.set(crossing)
    status = await process(databases(), clock, paper).get_order_status(
        ACCOUNT, "tc-rest", instrument=AAPL
    )
    assert status.status is OrderStatus.FILLED
    clock.advance(timedelta(hours=1))
    later = process(databases(), clock, paper)
    filled = await later.get_order_status(ACCOUNT, "tc-rest", instrument=AAPL)
    assert (filled.status, filled.updated_at) == (OrderStatus.FILLED, crossing)
    page = await later.get_trades(ACCOUNT)
    assert [t.executed_at for t in page.trades if t.client_order_id == "tc-rest"] == [crossing]
