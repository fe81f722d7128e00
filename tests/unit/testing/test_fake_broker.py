"""FakeBroker passes the broker contract, and its scripting hooks do what they say."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tradecore.domain import (
    Account,
    AssetType,
    Instrument,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
    Trade,
)
from tradecore.errors import (
    BrokerError,
    BrokerUnavailable,
    OrderExists,
    OrderNotFound,
    OrderRejected,
)
from tradecore.ports import BrokerCapabilities
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.contracts.broker import BrokerPortContract

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BTC = Instrument(symbol="BTC-USD", asset_type=AssetType.SPOT)
CONNECTION = "conn-1"
MAIN = Account(connection_id=CONNECTION, account_id="main", name="Main", currency="USD")


def _trade(n: int) -> Trade:
    return Trade(
        connection_id=CONNECTION,
        account_id="main",
        broker_trade_id=f"t{n}",
        instrument=BTC,
        side=Side.BUY,
        quantity=Decimal("0.1"),
        price=Decimal(50000 + n),
        executed_at=START - timedelta(hours=n),
    )


def _broker(clock: FakeClock, **kwargs: object) -> FakeBroker:
    defaults: dict[str, object] = {
        "connection_id": CONNECTION,
        "quotes": [
            Quote(
                instrument=BTC,
                last=Decimal("50000.00"),
                bid=Decimal("49999.00"),
                ask=Decimal("50001.00"),
                currency="USD",
                as_of=START,
            )
        ],
        "trades": [_trade(n) for n in range(5)],
        "positions": [
            Position(
                connection_id=CONNECTION,
                account_id="main",
                instrument=BTC,
                quantity=Decimal("0.5"),
                as_of=START,
            )
        ],
        "page_size": 2,
    }
    defaults.update(kwargs)
    return FakeBroker(clock=clock, **defaults)  # type: ignore[arg-type]


def _order(
    client_id: str, order_type: OrderType = OrderType.MARKET, **kwargs: object
) -> OrderRequest:
    return OrderRequest(
        connection_id=CONNECTION,
        account_id="main",
        client_order_id=client_id,
        instrument=BTC,
        side=kwargs.pop("side", Side.BUY),
        order_type=order_type,
        quantity=Decimal("0.01"),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


class TestFakeBroker(BrokerPortContract):
    @pytest.fixture
    async def broker(self, clock: FakeClock):
        broker = _broker(clock)
        yield broker
        await broker.aclose()

    @pytest.fixture
    def tradable_instrument(self) -> Instrument:
        return BTC

    @pytest.fixture
    def exact_price(self) -> tuple[Instrument, Decimal]:
        return BTC, Decimal("50000.00")


class TestFakeBrokerWithOrderSearch(TestFakeBroker):
    """The same contract when the fake declares ``order_search`` (its search is then run)."""

    @pytest.fixture
    async def broker(self, clock: FakeClock):
        broker = _broker(clock, capabilities=BrokerCapabilities(order_search=True))
        yield broker
        await broker.aclose()


async def test_fail_raises_until_cleared(clock: FakeClock) -> None:
    broker = _broker(clock)
    error = BrokerUnavailable("down", broker="fake")
    broker.fail("get_positions", error)
    for _ in range(2):
        with pytest.raises(BrokerUnavailable) as raised:
            await broker.get_positions(MAIN)
        assert raised.value is error
    assert len(await broker.get_accounts()) == 1, "other methods keep working"
    broker.clear_failures("get_positions")
    assert len(await broker.get_positions(MAIN)) == 1


async def test_fail_a_number_of_times_then_recover(clock: FakeClock) -> None:
    broker = _broker(clock)
    broker.fail("get_trades", BrokerUnavailable("flaky"), times=2)
    for _ in range(2):
        with pytest.raises(BrokerUnavailable):
            await broker.get_trades(MAIN)
    assert len((await broker.get_trades(MAIN)).trades) == 2


def test_fail_rejects_a_name_that_is_not_a_broker_method(clock: FakeClock) -> None:
    broker = _broker(clock)
    with pytest.raises(ValueError, match="get_position"):
        broker.fail("get_position", RuntimeError())
    with pytest.raises(ValueError, match="times"):
        broker.fail("get_positions", RuntimeError(), times=0)


async def test_calls_are_recorded_in_order_including_failed_ones(clock: FakeClock) -> None:
    broker = _broker(clock)
    broker.fail("get_assets", BrokerUnavailable("down"))
    await broker.authenticate()
    with pytest.raises(BrokerUnavailable):
        await broker.get_assets()
    await broker.get_positions(MAIN)
    assert broker.calls == ["authenticate", "get_assets", "get_positions"]
    assert broker.api_figures() == {"requests": "3"}


async def test_before_call_can_hold_one_call_while_others_proceed(clock: FakeClock) -> None:
    broker = _broker(clock)
    release = asyncio.Event()

    async def hold_positions(method: str) -> None:
        if method == "get_positions":
            await release.wait()

    broker.before_call = hold_positions
    held = asyncio.create_task(broker.get_positions(MAIN))
    await asyncio.sleep(0)
    assert broker.calls == ["get_positions"]
    assert await broker.get_accounts() == [MAIN]
    assert not held.done()
    release.set()
    assert len(await held) == 1


async def test_trades_page_through_the_cursor_and_new_fills_follow_it(clock: FakeClock) -> None:
    broker = _broker(clock)
    pages = []
    cursor = None
    while True:
        page = await broker.get_trades(MAIN, cursor=cursor)
        pages.append([trade.broker_trade_id for trade in page.trades])
        cursor = page.cursor
        if not page.has_more:
            break
    assert pages == [["t0", "t1"], ["t2", "t3"], ["t4"]]
    broker.add_trade(_trade(9))
    page = await broker.get_trades(MAIN, cursor=cursor)
    assert [trade.broker_trade_id for trade in page.trades] == ["t9"]
    assert not page.has_more


@pytest.mark.parametrize("cursor", ["x", "-1", "99"])
async def test_a_cursor_the_broker_never_gave_is_refused(clock: FakeClock, cursor: str) -> None:
    with pytest.raises(BrokerError, match="cursor"):
        await _broker(clock).get_trades(MAIN, cursor=cursor)


async def test_market_order_fills_at_last_and_adds_a_trade(clock: FakeClock) -> None:
    broker = _broker(clock, trades=[])
    order = await broker.place_order(_order("c1"))
    assert order.status is OrderStatus.FILLED
    assert order.average_fill_price == Decimal("50000.00")
    page = await broker.get_trades(MAIN)
    assert [(t.client_order_id, t.price, t.quantity) for t in page.trades] == [
        ("c1", Decimal("50000.00"), Decimal("0.01"))
    ]


async def test_duplicate_client_order_id_raises_order_exists_and_places_nothing(
    clock: FakeClock,
) -> None:
    broker = _broker(clock, trades=[])
    first = await broker.place_order(_order("dup"))
    with pytest.raises(OrderExists) as raised:
        await broker.place_order(_order("dup", side=Side.SELL))
    assert raised.value.client_order_id == "dup"
    assert broker.orders["dup"] == first
    assert len((await broker.get_trades(MAIN)).trades) == 1


@pytest.mark.parametrize(
    ("side", "limit", "status"),
    [
        (Side.BUY, "50001.00", OrderStatus.FILLED),
        (Side.BUY, "50000.99", OrderStatus.OPEN),
        (Side.SELL, "49999.00", OrderStatus.FILLED),
        (Side.SELL, "49999.01", OrderStatus.OPEN),
    ],
)
async def test_limit_order_fills_only_when_marketable(
    clock: FakeClock, side: Side, limit: str, status: OrderStatus
) -> None:
    broker = _broker(clock)
    request = _order("lim", OrderType.LIMIT, side=side, limit_price=Decimal(limit))
    assert (await broker.place_order(request)).status is status


async def test_orders_of_another_account_are_not_found(clock: FakeClock) -> None:
    broker = _broker(clock)
    await broker.place_order(_order("c1"))
    other = Account(connection_id=CONNECTION, account_id="other")
    with pytest.raises(OrderNotFound):
        await broker.get_order_status(other, "c1", instrument=BTC)


async def test_orders_are_found_only_within_their_symbol(clock: FakeClock) -> None:
    broker = _broker(clock)
    placed = await broker.place_order(_order("c1"))
    assert await broker.get_order_status(MAIN, "c1", instrument=BTC) == placed
    eth = Instrument(symbol="ETH-USD")
    with pytest.raises(OrderNotFound):
        await broker.get_order_status(MAIN, "c1", instrument=eth)
    with pytest.raises(OrderNotFound):
        await broker.cancel_order(MAIN, "c1", instrument=eth)


async def test_order_for_an_unknown_account_is_rejected(clock: FakeClock) -> None:
    broker = _broker(clock)
    request = OrderRequest(
        connection_id=CONNECTION,
        account_id="nope",
        client_order_id="c1",
        instrument=BTC,
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal(1),
    )
    with pytest.raises(OrderRejected):
        await broker.place_order(request)


async def test_order_for_an_unknown_instrument_is_rejected_not_lost(clock: FakeClock) -> None:
    broker = _broker(clock)
    request = OrderRequest(
        connection_id=CONNECTION,
        account_id="main",
        client_order_id="c1",
        instrument=Instrument(symbol="NOPE"),
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal(1),
    )
    with pytest.raises(OrderRejected):
        await broker.place_order(request)
    assert broker.orders == {}


async def test_a_closed_broker_refuses_calls_and_closes_twice_quietly(clock: FakeClock) -> None:
    broker = _broker(clock)
    await broker.aclose()
    await broker.aclose()
    assert broker.closed
    with pytest.raises(RuntimeError, match="closed"):
        await broker.get_accounts()
