"""BrokerFaults and FaultyBroker: transparent when nothing is armed (the broker contract passes
through the wrapper), and each fault does exactly what it says to the wrapped broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tradecore.domain import (
    Account,
    AssetType,
    BrokerConnection,
    Instrument,
    OrderRequest,
    OrderType,
    Position,
    Quote,
    Side,
    Trade,
)
from tradecore.errors import (
    BrokerUnavailable,
    OrderNotFound,
    OrderOutcomeUnknown,
    OrderRejected,
)
from tradecore.ports import BrokerContext, BrokerFactory, BrokerPort, SettingSpec
from tradecore.testing import BrokerFaults, FakeBroker, FakeClock, FaultyBroker
from tradecore.testing.builders import make_connection
from tradecore.testing.contracts.broker import BrokerPortContract

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BTC = Instrument(symbol="BTC-USD", asset_type=AssetType.SPOT)
MAIN = Account(connection_id="fake-connection", account_id="main")


def _inner(clock: FakeClock) -> FakeBroker:
    quote = Quote(
        instrument=BTC,
        last=Decimal("50000.00"),
        bid=Decimal("49999.00"),
        ask=Decimal("50001.00"),
        currency="USD",
        as_of=START,
    )
    return FakeBroker(clock=clock, quotes=[quote])


def _stocked(clock: FakeClock) -> FakeBroker:
    # The contract's checks need a holding and a fill to look at (none passes on an empty one).
    inner = _inner(clock)
    inner.set_positions(
        "main",
        [
            Position(
                connection_id="fake-connection",
                account_id="main",
                instrument=BTC,
                quantity=Decimal("0.5"),
                as_of=START,
            )
        ],
    )
    inner.add_trade(
        Trade(
            connection_id="fake-connection",
            account_id="main",
            broker_trade_id="t-1",
            instrument=BTC,
            side=Side.BUY,
            quantity=Decimal("0.5"),
            price=Decimal("48000.00"),
            executed_at=START,
        )
    )
    return inner


def _request(client_id: str = "c-1") -> OrderRequest:
    return OrderRequest(
        connection_id="fake-connection",
        account_id="main",
        client_order_id=client_id,
        instrument=BTC,
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal("0.01"),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def inner(clock: FakeClock) -> FakeBroker:
    return _inner(clock)


@pytest.fixture
def faults() -> BrokerFaults:
    return BrokerFaults()


@pytest.fixture
def broker(inner: FakeBroker, faults: BrokerFaults) -> FaultyBroker:
    return faults.wrap(inner)


class TestFaultyBrokerWithNothingArmed(BrokerPortContract):
    """Nothing armed: the wrapper is the wrapped broker, as the contract suite sees it."""

    @pytest.fixture
    async def broker(self, clock: FakeClock) -> AsyncIterator[BrokerPort]:
        wrapped = BrokerFaults().wrap(_stocked(clock))
        yield wrapped
        await wrapped.aclose()

    @pytest.fixture
    def tradable_instrument(self) -> Instrument:
        return BTC


async def test_a_lost_answer_places_the_order_then_raises_outcome_unknown_with_its_id(
    broker: FaultyBroker, inner: FakeBroker, faults: BrokerFaults
) -> None:
    faults.lose_answer()

    with pytest.raises(OrderOutcomeUnknown) as raised:
        await broker.place_order(_request("c-1"))

    assert raised.value.client_order_id == "c-1"
    assert raised.value.broker == "fake"
    assert list(inner.orders) == ["c-1"], "the wrapped broker placed it"
    assert inner.calls.count("place_order") == 1
    assert faults.sent == [_request("c-1")]
    assert faults.calls["place_order"] == 1
    assert (await broker.get_order_status(MAIN, "c-1", instrument=BTC)).client_order_id == "c-1"


async def test_a_failure_before_sending_never_reaches_the_wrapped_broker(
    broker: FaultyBroker, inner: FakeBroker, faults: BrokerFaults
) -> None:
    faults.fail_before_send()

    with pytest.raises(BrokerUnavailable, match="c-1 was not sent"):
        await broker.place_order(_request("c-1"))

    assert inner.orders == {}
    assert "place_order" not in inner.calls
    assert (faults.calls["place_order"], faults.sent) == (1, [])


async def test_order_faults_are_used_once_each_in_the_order_armed(
    broker: FaultyBroker, inner: FakeBroker, faults: BrokerFaults
) -> None:
    refused = OrderRejected("no", broker="fake")
    faults.lose_answer(lambda request: BrokerUnavailable(f"lost {request.client_order_id}"))
    faults.fail_before_send(refused)

    with pytest.raises(BrokerUnavailable, match="lost c-1"):
        await broker.place_order(_request("c-1"))
    with pytest.raises(OrderRejected) as raised:
        await broker.place_order(_request("c-2"))
    placed = await broker.place_order(_request("c-3"))

    assert raised.value is refused
    assert placed.client_order_id == "c-3"
    assert list(inner.orders) == ["c-1", "c-3"]
    assert faults.calls["place_order"] == 3
    assert faults.armed == ()


async def test_a_hidden_order_is_not_found_for_the_next_lookups_only(
    broker: FaultyBroker, inner: FakeBroker, faults: BrokerFaults
) -> None:
    await broker.place_order(_request("c-1"))
    faults.hide_from_lookups(2)

    for _ in range(2):
        with pytest.raises(OrderNotFound, match="c-1"):
            await broker.get_order_status(MAIN, "c-1", instrument=BTC)
    found = await broker.get_order_status(MAIN, "c-1", instrument=BTC)

    assert found.client_order_id == "c-1"
    assert inner.calls.count("get_order_status") == 1, "hidden lookups never reach the broker"
    assert faults.lookups == ["c-1", "c-1", "c-1"]
    assert faults.calls["get_order_status"] == 3


class VendorTimeout(Exception):
    """Stands for a vendor SDK's own exception."""


async def test_fail_raises_on_the_named_method_for_the_given_number_of_calls(
    broker: FaultyBroker, inner: FakeBroker, faults: BrokerFaults
) -> None:
    error = VendorTimeout("sdk: read timed out")
    faults.fail("get_positions", error, times=2)

    for _ in range(2):
        with pytest.raises(VendorTimeout) as raised:
            await broker.get_positions(MAIN)
        assert raised.value is error
    assert await broker.get_positions(MAIN) == []
    assert await broker.get_accounts()

    assert inner.calls.count("get_positions") == 1
    assert (faults.calls["get_positions"], faults.calls["get_accounts"]) == (3, 1)


async def test_fail_takes_a_function_for_a_new_error_each_time(
    broker: FaultyBroker, faults: BrokerFaults
) -> None:
    faults.fail("aclose", lambda: BrokerUnavailable("close failed"), times=2)

    raised = []
    for _ in range(2):
        with pytest.raises(BrokerUnavailable) as caught:
            await broker.aclose()
        raised.append(caught.value)

    assert raised[0] is not raised[1]


async def test_fail_on_place_order_comes_before_the_queued_order_faults(
    broker: FaultyBroker, inner: FakeBroker, faults: BrokerFaults
) -> None:
    faults.lose_answer()
    faults.fail("place_order", OrderRejected("refused first", broker="fake"))

    with pytest.raises(OrderRejected):
        await broker.place_order(_request("c-1"))

    assert inner.orders == {}
    assert faults.armed == ("the order is executed, then its answer is lost",)


def test_bad_arming_is_refused_with_a_clear_error(faults: BrokerFaults) -> None:
    with pytest.raises(ValueError, match="'get_position' is not one of"):
        faults.fail("get_position", RuntimeError())
    with pytest.raises(ValueError, match="at least 1"):
        faults.fail("get_positions", RuntimeError(), times=0)
    with pytest.raises(ValueError, match="at least 1"):
        faults.hide_from_lookups(0)


def test_armed_describes_what_is_left_and_clear_disarms_everything(
    faults: BrokerFaults,
) -> None:
    faults.fail_before_send()
    faults.hide_from_lookups(3)
    faults.fail("get_trades", RuntimeError(), times=2)

    assert faults.armed == (
        "the order fails before it is sent",
        "the next 3 lookups are hidden",
        "the next 2 calls of get_trades fail",
    )
    faults.clear()
    assert faults.armed == ()


async def test_the_factory_wraps_every_adapter_it_builds_and_keeps_the_inner_factory(
    clock: FakeClock, faults: BrokerFaults
) -> None:
    built: list[FakeBroker] = []

    def create(connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
        built.append(_inner(context.clock))
        return built[-1]

    setting = SettingSpec(name="region", description="where")
    inner_factory = BrokerFactory(
        name="acme", description="Acme", create=create, settings=[setting]
    )
    factory = faults.factory(inner_factory)
    faults.lose_answer()

    first = factory.create(make_connection(broker="acme"), BrokerContext(clock=clock))
    second = factory.create(make_connection(broker="acme"), BrokerContext(clock=clock))
    with pytest.raises(OrderOutcomeUnknown):
        await first.place_order(_request("c-1"))
    await second.place_order(_request("c-2"))

    assert (factory.name, factory.description, factory.settings) == ("acme", "Acme", (setting,))
    assert isinstance(first, FaultyBroker)
    assert [list(broker.orders) for broker in built] == [["c-1"], ["c-2"]]
    assert faults.calls["place_order"] == 2, "one record for every adapter built"
