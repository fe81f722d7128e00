"""The order use cases: place by hand (input checked before anything is recorded, the key, the
account, the symbol against the broker's instruments), preview, status, cancel, list; each scoped
to the acting user."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from tradecore.domain import Account, BrokerConnection, Instrument, OrderStatus, Quote, Side, User
from tradecore.errors import BrokerUnavailable, DomainError, InstrumentNotFound, NotFound
from tradecore.ports import BrokerContext, BrokerFactory, BrokerPort
from tradecore.services import (
    AccountNotChosen,
    ConnectionInactive,
    KeyUsedElsewhere,
    OrderForm,
    Orders,
    Risk,
    ServiceContext,
    Users,
)
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import DEFAULT_TIME, make_connection


class _Venue:
    """A ``fake`` broker whose adapter is kept per connection (its orders outlive one adapter),
    quoting BTC-USD, with the accounts a test asks for."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.accounts: dict[str, int] = {}
        self.brokers: dict[str, FakeBroker] = {}
        self.failures: list[tuple[str, BaseException]] = []

    def create(self, connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
        count = self.accounts.get(connection.id, 1)
        broker = FakeBroker(
            clock=self.clock,
            connection_id=connection.id,
            quotes=[_quote()],
            accounts=[
                Account(connection_id=connection.id, account_id=f"acc{n}", currency="USD")
                for n in range(1, count + 1)
            ],
        )
        previous = self.brokers.get(connection.id)
        if previous is not None:
            broker.orders = previous.orders  # the venue's orders outlive one adapter
        for method, exc in self.failures:
            broker.fail(method, exc)
        self.brokers[connection.id] = broker
        return broker


def _quote(symbol: str = "BTC-USD") -> Quote:
    return Quote(
        instrument=Instrument(symbol=symbol),
        last=Decimal(50000),
        bid=Decimal(49990),
        ask=Decimal(50010),
        currency="USD",
        as_of=DEFAULT_TIME,
    )


async def _user(
    context: ServiceContext,
    kept: _Venue,
    clock: FakeClock,
    name: str,
    *,
    connection: str = "main",
    active: bool = True,
    accounts: int = 1,
) -> User:
    user = await Users(context).add(name)
    stored = make_connection(user_id=user.id, name=connection, broker="fake", active=active)
    async with context.repository.unit_of_work() as uow:
        await uow.connections.add(stored)
        await uow.commit()
    kept.accounts[stored.id] = accounts
    return user


def _form(**changes: Any) -> OrderForm:
    given: dict[str, Any] = {
        "connection": "main",
        "symbol": "BTC-USD",
        "side": "buy",
        "quantity": Decimal("0.01"),
    }
    given.update(changes)
    return OrderForm(**given)


@pytest.fixture
def kept(clock: FakeClock) -> _Venue:
    return _Venue(clock)


@pytest.fixture
def context(context: ServiceContext, kept: _Venue) -> ServiceContext:
    factory = BrokerFactory(name="fake", description="a fake broker", create=kept.create)
    return attrs.evolve(context, brokers={"fake": factory})


@pytest.fixture
def orders(context: ServiceContext) -> Orders:
    return Orders(context)


async def test_a_market_order_is_placed_once_and_listed(
    orders: Orders, context: ServiceContext, kept: _Venue, clock: FakeClock
) -> None:
    alice = await _user(context, kept, clock, "alice")

    placed = await orders.place(alice.id, _form(side="BUY", key="k-1"))
    again = await orders.place(alice.id, _form(side="Buy", key="k-1"))

    assert placed.order.request.side is Side.BUY
    assert placed.order.request.account_id == "acc1"
    assert placed.order.status is OrderStatus.FILLED
    assert not placed.existed
    assert again.existed
    assert not again.differs
    assert again.order.client_order_id == placed.order.client_order_id
    listing = await orders.list(alice.id)
    assert [each.client_order_id for each in listing.orders] == [placed.order.client_order_id]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantity": Decimal("99999999999999999999999999999999")}, "quantity must be less than"),
        ({"quantity": Decimal("0.0000000000001")}, "at most 12 decimal places"),
        ({"quantity": Decimal(0)}, "greater than 0"),
        ({"order_type": "limit", "limit_price": Decimal("1e16")}, "limit price must be less"),
        ({"order_type": "limit"}, "a limit order needs a limit price"),
        ({"side": "hold"}, "a side is buy or sell, got 'hold'"),
        ({"symbol": "  "}, "a symbol must not be empty"),
        ({"key": " "}, "an idempotency key must not be empty"),
    ],
)
def test_a_bad_form_is_refused_when_built(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(DomainError, match=message):
        _form(**changes)


async def test_an_unlisted_symbol_is_refused_before_anything_is_recorded(
    orders: Orders, context: ServiceContext, kept: _Venue, clock: FakeClock
) -> None:
    alice = await _user(context, kept, clock, "alice")

    with pytest.raises(InstrumentNotFound, match="does not list the symbol 'DOGE-USD'"):
        await orders.place(alice.id, _form(symbol="DOGE-USD"))

    assert (await orders.list(alice.id)).orders == ()


async def test_a_symbol_in_another_case_takes_the_brokers_spelling(
    orders: Orders, context: ServiceContext, kept: _Venue, clock: FakeClock
) -> None:
    alice = await _user(context, kept, clock, "alice")

    placed = await orders.place(alice.id, _form(symbol=" btc-usd "))

    assert placed.order.request.instrument.symbol == "BTC-USD"
    assert placed.notes == ("btc-usd is spelled BTC-USD at main (fake)",)


async def test_a_broker_that_cannot_list_its_instruments_gives_a_note(
    orders: Orders, context: ServiceContext, kept: _Venue, clock: FakeClock
) -> None:
    alice = await _user(context, kept, clock, "alice")
    kept.failures.append(("get_assets", BrokerUnavailable("listing is down", broker="fake")))

    ticket = await orders.preview(alice.id, _form())

    assert "BTC-USD was not checked against main (fake)'s instruments" in ticket.notes[0]
    assert ticket.estimate is not None
    assert ticket.estimate.basis == "ask"
    assert ticket.estimate.notional == Decimal("500.10")
    assert (await orders.list(alice.id)).orders == ()


async def test_the_account_is_the_only_one_or_must_be_named(
    orders: Orders, context: ServiceContext, kept: _Venue, clock: FakeClock
) -> None:
    alice = await _user(context, kept, clock, "alice", accounts=2)

    with pytest.raises(AccountNotChosen) as caught:
        await orders.place(alice.id, _form())
    placed = await orders.place(alice.id, _form(account="acc2"))

    assert caught.value.accounts == ("acc1", "acc2")
    assert placed.order.request.account_id == "acc2"
    assert len((await orders.list(alice.id)).orders) == 1


async def test_an_inactive_connection_and_a_key_used_elsewhere_are_refused(
    orders: Orders, context: ServiceContext, kept: _Venue, clock: FakeClock
) -> None:
    alice = await _user(context, kept, clock, "alice")
    async with context.repository.unit_of_work() as uow:
        other = make_connection(user_id=alice.id, name="off", broker="fake", active=False)
        await uow.connections.add(other)
        await uow.commit()
    await orders.place(alice.id, _form(key="k-1"))

    with pytest.raises(ConnectionInactive, match="connection off is inactive"):
        await orders.place(alice.id, _form(connection="off"))
    await _add_connection(context, alice, "second")
    with pytest.raises(KeyUsedElsewhere):
        await orders.place(alice.id, _form(connection="second", key="k-1"))
    assert len((await orders.list(alice.id)).orders) == 1


async def _add_connection(context: ServiceContext, user: User, name: str) -> None:
    async with context.repository.unit_of_work() as uow:
        await uow.connections.add(make_connection(user_id=user.id, name=name, broker="fake"))
        await uow.commit()


async def test_status_and_cancel_of_a_resting_limit_order(
    orders: Orders, context: ServiceContext, kept: _Venue, clock: FakeClock
) -> None:
    alice = await _user(context, kept, clock, "alice")
    placed = await orders.place(alice.id, _form(order_type="limit", limit_price=Decimal(1000)))
    client_id = placed.order.client_order_id

    status = await orders.status(alice.id, client_id)
    cancelled = await orders.cancel(alice.id, client_id)
    again = await orders.cancel(alice.id, client_id)

    assert placed.order.status is OrderStatus.OPEN
    assert status.after is not None
    assert status.after.status is OrderStatus.OPEN
    assert cancelled.after is not None
    assert cancelled.after.status is OrderStatus.CANCELED
    assert again.before.status is OrderStatus.CANCELED
    listing = await orders.list(alice.id, connection="main", open_only=True)
    assert listing.orders == ()


async def test_a_user_cannot_place_on_read_or_cancel_another_users_orders(
    orders: Orders, context: ServiceContext, kept: _Venue, clock: FakeClock
) -> None:
    alice = await _user(context, kept, clock, "alice")
    bob = await _user(context, kept, clock, "bob", connection="bobs")
    bobs = await orders.place(bob.id, _form(connection="bobs", order_type="limit",
                                            limit_price=Decimal(1000)))  # fmt: skip
    client_id = bobs.order.client_order_id

    with pytest.raises(NotFound) as placing:
        await orders.place(alice.id, _form(connection="bobs"))
    with pytest.raises(NotFound) as previewing:
        await orders.preview(alice.id, _form(connection="bobs"))
    with pytest.raises(NotFound) as looking:
        await orders.status(alice.id, client_id)
    with pytest.raises(NotFound) as cancelling:
        await orders.cancel(alice.id, client_id)
    with pytest.raises(NotFound) as listing:
        await orders.list(alice.id, connection="bobs")

    no_connection = "alice has no broker connection named 'bobs'"
    no_order = f"alice has no order with client id {client_id!r}"
    assert str(placing.value) == str(previewing.value) == str(listing.value) == no_connection
    assert str(looking.value) == str(cancelling.value) == no_order
    assert (await orders.list(alice.id)).orders == ()
    [kept] = (await orders.list(bob.id)).orders
    assert kept.status is OrderStatus.OPEN


async def test_a_recorded_order_is_read_only_by_its_own_user(
    orders: Orders, context: ServiceContext, kept: _Venue, clock: FakeClock
) -> None:
    alice = await _user(context, kept, clock, "alice")
    bob = await _user(context, kept, clock, "bob")
    placed = await orders.place(bob.id, _form(key="k-1"))

    found = await orders.recorded(bob.id, placed.order.client_order_id)
    assert found.status is OrderStatus.FILLED
    with pytest.raises(NotFound, match="alice has no order with client id"):
        await orders.recorded(alice.id, placed.order.client_order_id)


async def test_a_preview_names_the_risk_rule_that_would_block_the_order(
    orders: Orders, context: ServiceContext, kept: _Venue, clock: FakeClock
) -> None:
    alice = await _user(context, kept, clock, "alice")
    assert (await orders.preview(alice.id, _form())).blocked is None
    await Risk(context).set_limits(alice.id, max_order_notional=Decimal(100))

    ticket = await orders.preview(alice.id, _form())

    assert ticket.blocked == "max_order_notional"
    assert ticket.blocked_reason is not None
    assert ticket.blocked_reason.startswith("blocked by max_order_notional")
    assert (await orders.list(alice.id)).orders == ()
