"""The equity history: each sync records the connection's market value per currency in the
same unit of work as its positions (a failed or partial sync records none), and
``Portfolio.equity`` reads it back bounded, only ever the user's own."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tests.fakes.fake_venue import FakeVenue

from tradecore.domain import Account, EquityPoint, Position
from tradecore.errors import BrokerUnavailable, DomainError, MalformedResponse, NotFound
from tradecore.ports import RepositoryPort, UnitOfWork
from tradecore.services import (
    MAX_EQUITY_POINTS,
    Connections,
    Portfolio,
    Retention,
    ServiceContext,
    Users,
    prune_ledger,
    sync_connection,
)
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import make_connection, make_position, make_user
from tradecore_adapters.memory import MemoryRepository


def priced(
    connection_id: str, symbol: str, value: str | None, currency: str | None = "USD"
) -> Position:
    return make_position(
        connection_id=connection_id,
        account_id="main",
        symbol=symbol,
        currency=currency,
        market_value=None if value is None else Decimal(value),
    )


async def alice_and_bob(context: ServiceContext) -> tuple[str, str, str]:
    alice = (await Users(context).add("alice")).id
    bob = (await Users(context).add("bob")).id
    first = await Connections(context).add(alice, broker="fake", name="first")
    return alice, bob, first.id


def holds(venue: FakeVenue, connection_id: str, *positions: Position) -> None:
    venue.setup[connection_id] = lambda broker: broker.set_positions("main", positions)


async def test_each_sync_records_the_value_per_currency_with_unpriced_counted(
    context: ServiceContext, venue: FakeVenue, clock: FakeClock
) -> None:
    alice, _, first = await alice_and_bob(context)
    holds(
        venue,
        first,
        priced(first, "BTCUSD", "1000.10"),
        priced(first, "ETHUSD", "-0.05"),  # a short lowers the value
        priced(first, "SAP", "200.5", currency="EUR"),
        priced(first, "DOGE", None),  # no market value: unpriced
        priced(first, "XYZ", "3", currency=None),  # no currency: unpriced
    )
    portfolio = Portfolio(context)
    start = clock.now()

    (outcome,) = await portfolio.sync(alice)
    clock.advance(timedelta(minutes=30))
    holds(venue, first, priced(first, "BTCUSD", "1100.00"))
    await portfolio.sync(alice)

    assert outcome.result is not None
    assert outcome.result.equity_points == 2
    history = await portfolio.equity(alice)
    assert [(s.connection, s.currency, s.stored) for s in history.series] == [
        ("first", "EUR", 1),
        ("first", "USD", 2),
    ]
    eur, usd = history.series
    assert [(p.at, p.value, p.priced, p.unpriced) for p in usd.points] == [
        (start, Decimal("1000.05"), 2, 2),
        (start + timedelta(minutes=30), Decimal("1100.00"), 1, 0),
    ]
    assert [(p.value, p.priced, p.unpriced) for p in eur.points] == [(Decimal("200.5"), 1, 2)]
    assert history.every is None


async def test_a_failed_sync_records_no_point(context: ServiceContext, venue: FakeVenue) -> None:
    alice, _, first = await alice_and_bob(context)
    holds(venue, first, priced(first, "BTCUSD", "10"))
    venue.fail("get_trades", BrokerUnavailable("down", broker="fake"))

    (outcome,) = await Portfolio(context).sync(alice)

    assert outcome.problem is not None
    assert (await Portfolio(context).equity(alice)).series == ()


async def test_a_sync_with_a_refused_account_stores_the_rest_but_records_no_point() -> None:
    clock = FakeClock()
    connection = make_connection()
    repository = MemoryRepository(clock=clock)
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user())
        await uow.connections.add(connection)
        await uow.commit()
    good = Account(connection_id=connection.id, account_id="main", currency="USD")
    bad = Account(connection_id=connection.id, account_id="other", currency="USD")
    broker = FakeBroker(clock=clock, connection_id=connection.id, accounts=[good, bad])
    broker.set_positions("main", [priced(connection.id, "BTCUSD", "10")])
    # A position filed under "other" that claims another account: the adapter's data is refused.
    broker.set_positions("other", [priced(connection.id, "ETHUSD", "99")])

    with pytest.raises(MalformedResponse):
        await sync_connection(
            repository=repository, broker=broker, connection=connection, clock=clock
        )

    async with repository.unit_of_work() as uow:
        assert [p.instrument.symbol for p in await uow.positions.list(connection.user_id)] == [
            "BTCUSD"
        ]
        assert list(await uow.equity.list(connection.user_id)) == []


class RefusingEquity:
    """An equity repository whose writes fail, to prove the sync writes in one unit."""

    async def add(self, user_id: str, points: object) -> int:
        raise DomainError("the equity table refuses the write")


class EquityWriteFails:
    """The memory repository, with ``uow.equity.add`` failing."""

    def __init__(self, inner: MemoryRepository) -> None:
        self.inner = inner

    def unit_of_work(self) -> UnitOfWork:
        unit = self.inner.unit_of_work()
        unit.equity = RefusingEquity()  # type: ignore[assignment]
        return unit

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_positions_and_points_are_written_in_one_unit_of_work() -> None:
    clock = FakeClock()
    connection = make_connection()
    inner = MemoryRepository(clock=clock)
    async with inner.unit_of_work() as uow:
        await uow.users.add(make_user())
        await uow.connections.add(connection)
        await uow.commit()
    broker = FakeBroker(clock=clock, connection_id=connection.id)
    broker.set_positions("main", [priced(connection.id, "BTCUSD", "10")])
    repository: RepositoryPort = EquityWriteFails(inner)

    with pytest.raises(DomainError, match="refuses"):
        await sync_connection(
            repository=repository, broker=broker, connection=connection, clock=clock
        )

    async with inner.unit_of_work() as uow:
        assert list(await uow.positions.list(connection.user_id)) == []


async def test_another_users_equity_is_never_returned(
    context: ServiceContext, venue: FakeVenue
) -> None:
    alice, bob, first = await alice_and_bob(context)
    bobs = await Connections(context).add(bob, broker="fake", name="mine")
    holds(venue, first, priced(first, "BTCUSD", "1000"))
    holds(venue, bobs.id, priced(bobs.id, "BTCUSD", "5"))
    portfolio = Portfolio(context)
    await portfolio.sync(alice)
    await portfolio.sync(bob)

    seen = await portfolio.equity(bob)

    assert [(s.connection, [p.value for p in s.points]) for s in seen.series] == [
        ("mine", [Decimal(5)])
    ]
    assert dict(seen.connection_names) == {bobs.id: "mine"}
    with pytest.raises(NotFound):
        await portfolio.equity(bob, connection="first")  # alice's name is no name of bob's
    with pytest.raises(NotFound):
        await portfolio.equity("nobody")


async def test_a_long_history_comes_back_thinned_to_the_cap_ending_at_the_newest_point(
    context: ServiceContext, clock: FakeClock
) -> None:
    alice, _, first = await alice_and_bob(context)
    start = clock.now()
    points = [
        EquityPoint(
            user_id=alice,
            connection_id=first,
            at=start + timedelta(minutes=30 * n),
            currency="USD",
            value=Decimal(n),
        )
        for n in range(5000)  # 104 days of syncs every 30 minutes
    ]
    async with context.repository.unit_of_work() as uow:
        await uow.equity.add(alice, points)
        await uow.commit()
    portfolio = Portfolio(context)

    (full,) = (await portfolio.equity(alice)).series
    hundred = await portfolio.equity(alice, connection="first", max_points=100)
    (recent,) = (await portfolio.equity(alice, since=start + timedelta(minutes=30 * 4900))).series

    assert len(full.points) <= MAX_EQUITY_POINTS
    assert full.stored == 5000
    assert len(full.points) > MAX_EQUITY_POINTS // 2
    assert full.points[-1] == points[-1]
    (series,) = hundred.series
    assert 50 < len(series.points) <= 100
    assert series.points[-1] == points[-1]
    assert hundred.every is not None
    assert hundred.every >= timedelta(minutes=30 * 49)
    values = [p.value for p in series.points]
    assert values == sorted(values)  # oldest first
    assert [p.value for p in recent.points] == [Decimal(n) for n in range(4900, 5000)]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_points": 0}, "1 to 2000"),
        ({"max_points": MAX_EQUITY_POINTS + 1}, "1 to 2000"),
        ({"since": "later", "until": "earlier"}, "since must be earlier than until"),
    ],
)
async def test_a_bad_range_or_cap_is_refused(
    context: ServiceContext, clock: FakeClock, changes: dict[str, object], message: str
) -> None:
    alice, _, _ = await alice_and_bob(context)
    times = {"later": clock.now() + timedelta(days=1), "earlier": clock.now()}
    arguments = {key: times.get(str(value), value) for key, value in changes.items()}

    with pytest.raises(DomainError, match=message):
        await Portfolio(context).equity(alice, **arguments)  # type: ignore[arg-type]


async def test_the_ledger_prunes_equity_older_than_its_retention(
    context: ServiceContext, clock: FakeClock
) -> None:
    alice, _, first = await alice_and_bob(context)
    start = clock.now()
    async with context.repository.unit_of_work() as uow:
        await uow.equity.add(
            alice,
            [
                EquityPoint(
                    user_id=alice,
                    connection_id=first,
                    at=start + timedelta(days=day),
                    currency="USD",
                    value=Decimal(day),
                )
                for day in (0, 1, 2)
            ],
        )
        await uow.commit()
    clock.set(start + timedelta(days=731, hours=12))

    kept_for_ever = await prune_ledger(context.repository, Retention(equity_age=None))
    pruned = await prune_ledger(context.repository, Retention())

    assert kept_for_ever.equity_points == 0
    assert pruned.equity_points == 2
    (series,) = (await Portfolio(context).equity(alice)).series
    assert [p.value for p in series.points] == [Decimal(2)]
