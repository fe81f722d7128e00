"""The portfolio use cases: sync each connection (one failing never stops the others, progress
is reported), then read positions and trades with their filters, only ever the user's own."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tests.fakes.fake_venue import FakeVenue

from tradecore.domain import BrokerConnection
from tradecore.errors import BrokerUnavailable, DomainError, NotFound
from tradecore.services import Connections, Portfolio, ServiceContext, SyncOutcome, Users
from tradecore.testing import FakeBroker
from tradecore.testing.builders import DEFAULT_TIME, make_position, make_trade


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int]] = []

    def started(self, connection: BrokerConnection) -> None:
        self.events.append(("started", connection.name, 0))

    def fetched(self, connection: BrokerConnection, trades: int) -> None:
        self.events.append(("fetched", connection.name, trades))

    def finished(self, outcome: SyncOutcome) -> None:
        self.events.append(("finished", outcome.connection.name, 0))


def holding(connection_id: str, symbols: list[str]) -> object:
    def setup(broker: FakeBroker) -> None:
        broker.set_positions(
            "main",
            [
                make_position(connection_id=connection_id, account_id="main", symbol=s)
                for s in symbols
            ],
        )
        for index, symbol in enumerate(symbols):
            broker.add_trade(
                make_trade(
                    connection_id=connection_id,
                    account_id="main",
                    broker_trade_id=str(index),
                    symbol=symbol,
                    executed_at=DEFAULT_TIME + timedelta(hours=index),
                )
            )

    return setup


async def alice_with_two(context: ServiceContext, venue: FakeVenue) -> tuple[str, str, str]:
    alice = (await Users(context).add("alice")).id
    bob = (await Users(context).add("bob")).id
    connections = Connections(context)
    first = await connections.add(alice, broker="fake", name="first")
    second = await connections.add(alice, broker="fake", name="second")
    venue.setup[first.id] = holding(first.id, ["BTCUSDT", "ETHUSDT"])  # type: ignore[assignment]
    venue.setup[second.id] = holding(second.id, ["SOLUSDT"])  # type: ignore[assignment]
    return alice, bob, second.id


async def test_sync_stores_every_connection_once_and_reports_progress(
    context: ServiceContext, venue: FakeVenue
) -> None:
    alice, _, _ = await alice_with_two(context, venue)
    portfolio = Portfolio(context)
    progress = Recorder()

    outcomes = await portfolio.sync(alice, progress=progress)

    assert {o.connection.name: o.result.trades_new for o in outcomes if o.result} == {
        "first": 2,
        "second": 1,
    }
    assert {event for event in progress.events if event[0] != "fetched"} == {
        ("started", "first", 0),
        ("finished", "first", 0),
        ("started", "second", 0),
        ("finished", "second", 0),
    }
    assert sum(n for kind, _, n in progress.events if kind == "fetched") == 3
    again = await portfolio.sync(alice)
    assert [o.result.trades_new for o in again if o.result] == [0, 0]
    assert len((await portfolio.trades(alice)).trades) == 3


async def test_one_failing_connection_never_stops_the_others(
    context: ServiceContext, venue: FakeVenue
) -> None:
    alice, _, second_id = await alice_with_two(context, venue)
    original = venue.setup[second_id]

    def broken(broker: FakeBroker) -> None:
        original(broker)
        broker.fail("get_positions", BrokerUnavailable("venue down"))

    venue.setup[second_id] = broken
    outcomes = {o.connection.name: o for o in await Portfolio(context).sync(alice)}
    assert outcomes["first"].result is not None
    assert outcomes["second"].result is None
    assert outcomes["second"].problem is not None
    assert "venue down" in outcomes["second"].problem
    holdings = await Portfolio(context).positions(alice)
    assert sorted(p.instrument.symbol for p in holdings.positions) == ["BTCUSDT", "ETHUSDT"]


async def test_reads_filter_by_connection_symbol_time_and_limit(
    context: ServiceContext, venue: FakeVenue
) -> None:
    alice, _, _ = await alice_with_two(context, venue)
    portfolio = Portfolio(context)
    await portfolio.sync(alice)

    one = await portfolio.positions(alice, connection="first", symbol=" btcusdt ")
    assert [p.instrument.symbol for p in one.positions] == ["BTCUSDT"]
    assert set(one.connection_names.values()) == {"first", "second"}
    early = await portfolio.trades(alice, until=DEFAULT_TIME + timedelta(minutes=30))
    assert sorted(t.instrument.symbol for t in early.trades) == ["BTCUSDT", "SOLUSDT"]
    newest = await portfolio.trades(alice, limit=1)
    assert [t.instrument.symbol for t in newest.trades] == ["ETHUSDT"]
    assert all(t.quantity == Decimal("0.1") for t in newest.trades)
    with pytest.raises(DomainError, match="since must be earlier than until"):
        await portfolio.trades(alice, since=DEFAULT_TIME, until=DEFAULT_TIME)


async def test_another_users_connection_and_data_are_out_of_reach(
    context: ServiceContext, venue: FakeVenue
) -> None:
    alice, bob, _ = await alice_with_two(context, venue)
    portfolio = Portfolio(context)
    await portfolio.sync(alice)
    for attempt in (
        portfolio.sync(bob, connection="first"),
        portfolio.positions(bob, connection="first"),
        portfolio.trades(bob, connection="first"),
    ):
        with pytest.raises(NotFound, match=r"^bob has no broker connection named 'first'$"):
            await attempt
    assert await portfolio.sync(bob) == []
    assert (await portfolio.positions(bob)).positions == ()
    assert (await portfolio.trades(bob)).trades == ()


async def test_a_cursor_reset_reads_the_account_again_without_losing_or_doubling_trades(
    context: ServiceContext, venue: FakeVenue
) -> None:
    alice, bob, _ = await alice_with_two(context, venue)
    portfolio = Portfolio(context)
    await portfolio.sync(alice)
    async with context.repository.unit_of_work() as uow:
        first = await uow.connections.get_by_name(alice, "first")
        # A cursor the fake broker cannot read: every sync of "first" fails until it is reset.
        await uow.cursors.set(alice, first.id, "main", "corrupt")
        await uow.commit()
    (failed,) = await portfolio.sync(alice, connection="first")
    assert failed.problem is not None
    assert "invalid trade cursor" in failed.problem

    with pytest.raises(NotFound, match=r"^bob has no broker connection named 'first'$"):
        await portfolio.reset_cursor(bob, "first", "main")
    await portfolio.reset_cursor(alice, " first ", " main ")

    (synced,) = await portfolio.sync(alice, connection="first")
    assert synced.result is not None
    assert (synced.result.trades_seen, synced.result.trades_new) == (2, 0), "read again, none new"
    assert len((await portfolio.trades(alice)).trades) == 3, "the history stayed"
    async with context.repository.unit_of_work() as uow:
        assert await uow.cursors.get(alice, first.id, "main") == "2"


async def test_a_cursor_reset_of_an_account_without_one_names_those_that_have_one(
    context: ServiceContext, venue: FakeVenue
) -> None:
    alice, _, _ = await alice_with_two(context, venue)
    portfolio = Portfolio(context)
    with pytest.raises(NotFound, match=r"'first' has no sync cursor .* are: none yet$"):
        await portfolio.reset_cursor(alice, "first", "main")
    await portfolio.sync(alice)
    with pytest.raises(
        NotFound,
        match=r"^connection 'first' has no sync cursor for the account 'BTCUSDT'; cursors are "
        r"kept per account, and its accounts with one are: 'main'$",
    ):
        await portfolio.reset_cursor(alice, "first", "BTCUSDT")
