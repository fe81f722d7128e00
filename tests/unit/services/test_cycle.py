"""One automation cycle: concurrency, isolation of failures, the status rule, the digest, the
notifier step, token refresh, and strategies going through the order protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from attrs import evolve

from tradecore.domain import (
    Account,
    AutomationConfig,
    AutomationState,
    BrokerConnection,
    DigestSection,
    Instrument,
    OAuthTokens,
    OrderIntent,
    OrderStatus,
    Phrase,
    Position,
    Quote,
    RiskLimits,
    RunStatus,
    Secret,
    StrategyConfig,
    StrategyDecision,
    TaskKind,
    TaskStatus,
    Trade,
    TradingHalt,
    Trigger,
    User,
)
from tradecore.errors import (
    BrokerUnavailable,
    NotificationError,
    OrderOutcomeUnknown,
    OrderRejected,
    ReauthorizationRequired,
)
from tradecore.ports import (
    BrokerContext,
    BrokerFactory,
    ParameterValues,
    StrategyContext,
    StrategyFactory,
)
from tradecore.services import AutomationCycle
from tradecore.testing import FakeBroker, FakeClock, RecordingNotifier
from tradecore_adapters.memory import MemoryRepository

BTC = Instrument(symbol="BTC-USD", base="BTC", quote="USD")


class Venue:
    """Keeps one FakeBroker per connection alive across cycles (the cycle closes its adapters)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.brokers: dict[str, FakeBroker] = {}
        self.created: list[str] = []
        self.closed: list[str] = []
        self.contexts: list[BrokerContext] = []

    def add(self, connection: BrokerConnection, **kwargs: Any) -> FakeBroker:
        broker = FakeBroker(clock=self.clock, connection_id=connection.id, name="fake", **kwargs)
        self.brokers[connection.id] = broker
        return broker

    def factory(self) -> BrokerFactory:
        venue = self

        class _Handle:
            def __init__(self, broker: FakeBroker) -> None:
                self._broker = broker

            def __getattr__(self, name: str) -> Any:
                return getattr(self._broker, name)

            async def aclose(self) -> None:
                venue.closed.append(self._broker.connection_id)

        def create(connection: BrokerConnection, context: BrokerContext) -> Any:
            venue.created.append(connection.id)
            venue.contexts.append(context)
            return _Handle(venue.brokers[connection.id])

        return BrokerFactory(name="fake", description="test broker", create=create)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def repository() -> MemoryRepository:
    return MemoryRepository()


@pytest.fixture
def venue(clock: FakeClock) -> Venue:
    return Venue(clock)


async def add_user(repository: MemoryRepository, clock: FakeClock, name: str = "alice") -> User:
    user = User(name=name, created_at=clock.now())
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


async def add_connection(
    repository: MemoryRepository, clock: FakeClock, user: User, name: str, **kwargs: Any
) -> BrokerConnection:
    connection = BrokerConnection(
        user_id=user.id,
        broker=kwargs.pop("broker", "fake"),
        name=name,
        created_at=clock.now(),
        **kwargs,
    )
    async with repository.unit_of_work() as uow:
        await uow.connections.add(connection)
        await uow.commit()
    return connection


def holdings(
    connection: BrokerConnection, clock: FakeClock, quantity: str = "1.5"
) -> list[Position]:
    return [
        Position(
            connection_id=connection.id,
            account_id="main",
            instrument=BTC,
            quantity=Decimal(quantity),
            as_of=clock.now(),
        )
    ]


def fills(connection: BrokerConnection, clock: FakeClock, *ids: str) -> list[Trade]:
    return [
        Trade(
            connection_id=connection.id,
            account_id="main",
            broker_trade_id=trade_id,
            instrument=BTC,
            side="buy",
            quantity=Decimal("0.1"),
            price=Decimal("40000"),
            executed_at=clock.now(),
        )
        for trade_id in ids
    ]


def quote(clock: FakeClock, last: str = "40000") -> Quote:
    return Quote(instrument=BTC, last=Decimal(last), as_of=clock.now())


def make_cycle(
    repository: MemoryRepository, clock: FakeClock, venue: Venue, **kwargs: Any
) -> AutomationCycle:
    return AutomationCycle(
        repository=repository, clock=clock, brokers={"fake": venue.factory()}, **kwargs
    )


async def stored_trades(
    repository: MemoryRepository, user: User, connection: BrokerConnection
) -> int:
    async with repository.unit_of_work() as uow:
        return await uow.trades.count(user.id, connection_id=connection.id)


async def test_all_connections_sync_concurrently(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    connections = [await add_connection(repository, clock, user, f"c{i}") for i in range(3)]
    everyone_in = asyncio.Event()
    inside: set[str] = set()

    async def meet(method: str, connection_id: str) -> None:
        if method != "get_accounts":
            return
        inside.add(connection_id)
        if len(inside) == len(connections):
            everyone_in.set()
        # Each broker waits until all three are inside get_accounts at once: only possible when
        # the cycle runs them concurrently. A sequential cycle would never get past the first.
        await everyone_in.wait()

    for connection in connections:
        broker = venue.add(connection)
        broker.before_call = lambda method, cid=connection.id: meet(method, cid)

    outcome = await asyncio.wait_for(make_cycle(repository, clock, venue).run(user.id), timeout=10)

    assert inside == {c.id for c in connections}
    assert outcome.run.status is RunStatus.SUCCESS


async def test_concurrency_is_bounded(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    connections = [await add_connection(repository, clock, user, f"c{i}") for i in range(5)]
    in_flight = 0
    peak = 0
    two_inside = asyncio.Event()

    async def track(method: str) -> None:
        nonlocal in_flight, peak
        if method != "get_accounts":
            return
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight >= 2:
            two_inside.set()
        await two_inside.wait()
        await asyncio.sleep(0)  # let any broker the semaphore would (wrongly) admit enter now
        in_flight -= 1

    for connection in connections:
        venue.add(connection).before_call = track

    cycle = make_cycle(repository, clock, venue, max_concurrent_connections=2)
    outcome = await asyncio.wait_for(cycle.run(user.id), timeout=10)

    assert peak == 2
    assert outcome.run.status is RunStatus.SUCCESS
    assert len([s for s in outcome.run.steps if s.kind is TaskKind.SYNC]) == 5


async def test_one_broker_failing_leaves_the_others_synced_and_the_run_partial(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    good = await add_connection(repository, clock, user, "good")
    bad = await add_connection(repository, clock, user, "bad")
    venue.add(good, positions=holdings(good, clock), trades=fills(good, clock, "1", "2"))
    venue.add(bad, positions=holdings(bad, clock), trades=fills(bad, clock, "9")).fail(
        "get_trades", BrokerUnavailable("exchange under maintenance", broker="fake")
    )

    outcome = await make_cycle(repository, clock, venue).run(user.id)

    assert outcome.run.status is RunStatus.PARTIAL
    async with repository.unit_of_work() as uow:
        positions = await uow.positions.list(user.id)
    assert {p.connection_id for p in positions} == {good.id}
    assert await stored_trades(repository, user, good) == 2
    assert await stored_trades(repository, user, bad) == 0
    by_subject = {s.subject: s for s in outcome.run.steps}
    assert by_subject["good"].status is TaskStatus.SUCCESS
    assert by_subject["good"].counts["trades_new"] == 2
    assert by_subject["good"].counts["positions"] == 1
    assert by_subject["bad"].status is TaskStatus.FAILURE
    assert by_subject["bad"].error == "BrokerUnavailable: exchange under maintenance"
    assert [line.subject for line in outcome.digest.errors] == ["bad"]
    assert set(venue.closed) == {good.id, bad.id}


async def test_every_connection_failing_is_a_failure(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    for name in ("a", "b"):
        connection = await add_connection(repository, clock, user, name)
        venue.add(connection).fail("get_accounts", BrokerUnavailable("down", broker="fake"))

    outcome = await make_cycle(repository, clock, venue).run(user.id)

    assert outcome.run.status is RunStatus.FAILURE
    assert len(outcome.digest.errors) == 2


async def test_an_uninstalled_broker_fails_only_its_own_connection(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    ok = await add_connection(repository, clock, user, "ok")
    await add_connection(repository, clock, user, "gone", broker="acme")
    venue.add(ok, trades=fills(ok, clock, "1"))

    outcome = await make_cycle(repository, clock, venue).run(user.id)

    assert outcome.run.status is RunStatus.PARTIAL
    (error,) = outcome.digest.errors
    assert error.subject == "gone"
    assert "broker 'acme' is not installed (available: fake)" in (error.text or "")


async def test_inactive_connections_are_not_synced(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    await add_connection(repository, clock, user, "off", active=False)

    outcome = await make_cycle(repository, clock, venue).run(user.id)

    assert venue.created == []
    assert outcome.run.steps == ()
    assert outcome.run.status is RunStatus.SUCCESS


async def test_trade_sync_is_incremental_across_cycles(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    broker = venue.add(connection, trades=fills(connection, clock, "1", "2", "3"), page_size=2)
    cycle = make_cycle(repository, clock, venue)

    first = await cycle.run(user.id)
    second = await cycle.run(user.id)
    broker.add_trade(fills(connection, clock, "4")[0])
    third = await cycle.run(user.id)

    def new(outcome: Any) -> int:
        (sync,) = [s for s in outcome.run.steps if s.kind is TaskKind.SYNC]
        return int(sync.counts["trades_new"])

    assert [new(first), new(second), new(third)] == [3, 0, 1]
    assert await stored_trades(repository, user, connection) == 4


async def test_the_run_and_its_steps_are_stored(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    venue.add(connection, positions=holdings(connection, clock))

    outcome = await make_cycle(repository, clock, venue).run(user.id, trigger=Trigger.CRON)

    async with repository.unit_of_work() as uow:
        (stored,) = await uow.runs.list(user.id)
    assert stored.id == outcome.run.id
    assert stored.trigger is Trigger.CRON
    assert stored.status is RunStatus.SUCCESS
    assert stored.finished_at is not None
    assert [(s.kind, s.subject, s.status) for s in stored.steps] == [
        (TaskKind.SYNC, "main", TaskStatus.SUCCESS)
    ]


async def test_the_digest_reaches_every_notifier_and_a_failing_one_is_its_own_step(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    venue.add(
        connection, positions=holdings(connection, clock), trades=fills(connection, clock, "1")
    )
    broken = RecordingNotifier("telegram", fail_with=NotificationError("chat not found"))
    working = RecordingNotifier("console")

    cycle = make_cycle(repository, clock, venue, notifiers=[broken, working])
    outcome = await cycle.run(user.id)

    assert outcome.run.status is RunStatus.SUCCESS
    (digest,) = working.sent
    assert dict(digest.totals)["positions"] == "1"
    assert dict(digest.totals)["trades_new"] == "1"
    assert [section for section, _ in digest.sections()] == [
        DigestSection.SUMMARY,
        DigestSection.API,
    ]
    notify = {s.subject: s for s in outcome.run.steps if s.kind is TaskKind.NOTIFY}
    assert notify["telegram"].status is TaskStatus.FAILURE
    assert notify["telegram"].error == "NotificationError: chat not found"
    assert notify["console"].status is TaskStatus.SUCCESS
    async with repository.unit_of_work() as uow:
        stored = await uow.runs.get(user.id, outcome.run.id)
    assert {s.subject for s in stored.steps if s.kind is TaskKind.NOTIFY} == {"telegram", "console"}
    assert stored.status is RunStatus.SUCCESS


async def test_secrets_in_an_untranslated_error_are_masked(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(
        repository, clock, user, "leaky", secrets={"api_secret": Secret("s3cr3t-canary")}
    )
    venue.add(connection).fail(
        "get_accounts", RuntimeError("GET /x?signature=s3cr3t-canary failed")
    )

    outcome = await make_cycle(repository, clock, venue).run(user.id)

    (error,) = outcome.digest.errors
    assert "s3cr3t-canary" not in (error.text or "")
    assert error.text == "unexpected RuntimeError: GET /x?signature=********** failed"


async def test_a_token_near_expiry_is_refreshed_before_syncing(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    tokens = OAuthTokens(
        access_token=Secret("old"), access_expires_at=clock.now() + timedelta(minutes=2)
    )
    connection = await add_connection(repository, clock, user, "saxo", tokens=tokens)
    broker = venue.add(connection)

    outcome = await make_cycle(repository, clock, venue).run(user.id)

    assert broker.calls[:2] == ["refresh_auth_token", "get_accounts"]
    assert [s.kind for s in outcome.run.steps] == [TaskKind.TOKEN_REFRESH, TaskKind.SYNC]
    assert venue.contexts[0].tokens is not None


async def test_a_fresh_token_is_left_alone(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    tokens = OAuthTokens(
        access_token=Secret("ok"), access_expires_at=clock.now() + timedelta(hours=1)
    )
    connection = await add_connection(repository, clock, user, "saxo", tokens=tokens)
    broker = venue.add(connection)

    await make_cycle(repository, clock, venue).run(user.id)

    assert "refresh_auth_token" not in broker.calls


async def test_a_dead_refresh_token_fails_that_connection_without_syncing(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    tokens = OAuthTokens(access_token=Secret("old"), access_expires_at=clock.now())
    saxo = await add_connection(repository, clock, user, "saxo", tokens=tokens)
    other = await add_connection(repository, clock, user, "other")
    venue.add(saxo).fail(
        "refresh_auth_token", ReauthorizationRequired("log in again", broker="fake")
    )
    venue.add(other)

    outcome = await make_cycle(repository, clock, venue).run(user.id)

    assert outcome.run.status is RunStatus.PARTIAL
    assert "get_accounts" not in venue.brokers[saxo.id].calls
    (error,) = outcome.digest.errors
    assert (error.kind, error.subject) == (TaskKind.TOKEN_REFRESH, "saxo")
    assert error.text == "ReauthorizationRequired: log in again"


async def test_the_token_store_persists_rotated_tokens(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    tokens = OAuthTokens(
        access_token=Secret("ok"),
        refresh_token=Secret("r"),
        access_expires_at=clock.now() + timedelta(hours=1),
    )
    connection = await add_connection(repository, clock, user, "saxo", tokens=tokens)
    venue.add(connection)
    await make_cycle(repository, clock, venue).run(user.id)
    store = venue.contexts[0].tokens
    assert store is not None
    rotated = OAuthTokens(
        access_token=Secret("new-access"),
        refresh_token=Secret("new-refresh"),
        access_expires_at=clock.now() + timedelta(minutes=20),
    )

    async def exchange(old: OAuthTokens) -> OAuthTokens:
        return rotated

    await store.refresh(exchange, force=True)

    async with repository.unit_of_work() as uow:
        stored = await uow.connections.get(user.id, connection.id)
    assert stored.tokens == evolve(rotated, version=1)


class BuyOnce:
    """A strategy that buys 0.01 BTC whenever it runs."""

    def __init__(self, config: StrategyConfig) -> None:
        self.config = config
        self.seen: list[StrategyContext] = []

    def instruments(self) -> Sequence[Instrument]:
        return [BTC]

    async def evaluate(self, context: StrategyContext) -> StrategyDecision:
        self.seen.append(context)
        runs = int(context.state.get("runs", "0")) + 1
        intent = OrderIntent(instrument=BTC, side="buy", quantity=Decimal("0.01"), reason="test")
        return StrategyDecision(intents=[intent], state={"runs": str(runs)})


def buy_once_factory(created: list[BuyOnce]) -> StrategyFactory:
    def create(config: StrategyConfig, values: ParameterValues) -> BuyOnce:
        strategy = BuyOnce(config)
        created.append(strategy)
        return strategy

    return StrategyFactory(name="buy-once", description="buys", create=create)


async def add_strategy(
    repository: MemoryRepository,
    clock: FakeClock,
    user: User,
    connection: BrokerConnection,
    **kwargs: Any,
) -> StrategyConfig:
    config = StrategyConfig(
        user_id=user.id,
        strategy_type="buy-once",
        name=kwargs.pop("name", "stack-sats"),
        connection_id=connection.id,
        created_at=clock.now(),
        **kwargs,
    )
    async with repository.unit_of_work() as uow:
        await uow.strategies.add(config)
        await uow.commit()
    return config


async def test_a_dry_run_strategy_records_its_intents_and_places_nothing(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    broker = venue.add(connection, positions=holdings(connection, clock), quotes=[quote(clock)])
    await add_strategy(repository, clock, user, connection, dry_run=True)
    created: list[BuyOnce] = []

    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory(created)})
    outcome = await cycle.run(user.id)

    assert "place_order" not in broker.calls
    (step,) = [s for s in outcome.run.steps if s.kind is TaskKind.STRATEGY]
    assert step.status is TaskStatus.SUCCESS
    assert step.counts == {"intents": 1, "orders_placed": 0, "blocked": 0, "would_place": 1}
    assert step.notes == ("dry run, would buy 0.01 BTC-USD at market (test)",)
    assert "would buy 0.01 BTC-USD" in (outcome.digest.summary[-1].text or "")
    (context,) = created[0].seen
    assert context.prices["BTC-USD"].last == Decimal("40000")
    assert [p.quantity for p in context.positions] == [Decimal("1.5")]
    async with repository.unit_of_work() as uow:
        assert await uow.orders.list(user.id) == []


async def test_a_live_strategy_places_its_order_through_the_ledger(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    broker = venue.add(connection, quotes=[quote(clock)])
    await add_strategy(repository, clock, user, connection)

    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory([])})
    outcome = await cycle.run(user.id)

    assert outcome.run.status is RunStatus.SUCCESS
    async with repository.unit_of_work() as uow:
        (order,) = await uow.orders.list(user.id)
    assert order.status is OrderStatus.FILLED
    assert broker.calls.count("place_order") == 1
    assert order.client_order_id in broker.orders
    assert dict(outcome.digest.totals)["orders_placed"] == "1"


async def test_an_order_with_unknown_outcome_is_never_resent(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    broker = venue.add(connection, quotes=[quote(clock)])
    broker.fail(
        "place_order", OrderOutcomeUnknown("read timeout", client_order_id="x", broker="fake")
    )
    await add_strategy(repository, clock, user, connection)
    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory([])})

    first = await cycle.run(user.id)
    broker.clear_failures()
    second = await cycle.run(user.id)

    assert broker.calls.count("place_order") == 1
    async with repository.unit_of_work() as uow:
        (order,) = await uow.orders.list(user.id)
    assert order.status is OrderStatus.UNKNOWN
    (strategy_step,) = [s for s in first.run.steps if s.kind is TaskKind.STRATEGY]
    assert strategy_step.status is TaskStatus.FAILURE
    assert "never resent" in (strategy_step.error or "")
    (blocked,) = [s for s in second.run.steps if s.kind is TaskKind.STRATEGY]
    assert blocked.status is TaskStatus.SKIPPED
    assert "unknown outcome" in (blocked.error or "")
    (reconcile,) = [s for s in second.run.steps if s.kind is TaskKind.RECONCILE]
    assert reconcile.counts["orders_unresolved"] == 1


async def test_an_order_whose_answer_was_lost_is_adopted_by_lookup_at_once(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    broker = venue.add(connection, quotes=[quote(clock)])
    await add_strategy(repository, clock, user, connection)
    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory([])})
    # The broker accepts the order but the answer is lost on the way back.
    real_place = broker.place_order

    async def place_then_lose_answer(request: Any) -> Any:
        await real_place(request)
        raise OrderOutcomeUnknown("connection reset", client_order_id=request.client_order_id)

    broker.place_order = place_then_lose_answer  # type: ignore[method-assign]
    outcome = await cycle.run(user.id)

    async with repository.unit_of_work() as uow:
        (order,) = await uow.orders.list(user.id)
    assert order.status is OrderStatus.FILLED
    assert broker.calls.count("place_order") == 1
    assert broker.calls[-1] == "get_order_status"
    assert outcome.run.status is RunStatus.SUCCESS


async def test_an_unknown_order_found_by_a_later_reconcile_is_adopted(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    broker = venue.add(connection, quotes=[quote(clock)])
    await add_strategy(repository, clock, user, connection)
    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory([])})
    real_place = broker.place_order
    hidden: list[Any] = []

    async def place_then_hide(request: Any) -> Any:
        # Accepted, the answer lost, and not visible to a lookup yet (Binance's -2013 lag).
        hidden.append(await real_place(request))
        del broker.orders[request.client_order_id]
        raise OrderOutcomeUnknown("read timeout", client_order_id=request.client_order_id)

    broker.place_order = place_then_hide  # type: ignore[method-assign]
    first = await cycle.run(user.id)
    broker.place_order = real_place  # type: ignore[method-assign]
    broker.orders[hidden[0].client_order_id] = hidden[0]  # now the broker shows it
    clock.advance(timedelta(minutes=30))
    second = await cycle.run(user.id)

    async with repository.unit_of_work() as uow:
        orders = await uow.orders.list(user.id)
    assert orders[0].status is OrderStatus.FILLED
    assert orders[0].client_order_id == hidden[0].client_order_id
    (reconcile,) = [s for s in second.run.steps if s.kind is TaskKind.RECONCILE]
    assert reconcile.counts == {
        "orders_checked": 1,
        "orders_updated": 1,
        "orders_unresolved": 0,
        "orders_not_placed": 0,
    }
    assert first.run.status is not RunStatus.SUCCESS
    assert second.run.status is RunStatus.SUCCESS
    assert len(broker.orders) == 2  # the lost one, then the next cycle's own: never a resend


async def test_a_strategy_on_a_connection_that_did_not_sync_is_skipped(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    broker = venue.add(connection, quotes=[quote(clock)])
    broker.fail("get_positions", BrokerUnavailable("down", broker="fake"))
    await add_strategy(repository, clock, user, connection)

    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory([])})
    outcome = await cycle.run(user.id)

    (step,) = [s for s in outcome.run.steps if s.kind is TaskKind.STRATEGY]
    assert step.status is TaskStatus.SKIPPED
    assert step.error == "connection 'main' did not sync"
    assert "place_order" not in broker.calls


async def test_an_uninstalled_strategy_type_fails_its_step(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    venue.add(connection)
    await add_strategy(repository, clock, user, connection)

    outcome = await make_cycle(repository, clock, venue).run(user.id)

    assert outcome.run.status is RunStatus.PARTIAL
    (error,) = outcome.digest.errors
    assert error.text == "PluginError: strategy type 'buy-once' is not installed (none installed)"


async def test_cycles_of_two_users_never_see_each_others_data(repository, clock, venue) -> None:
    alice = await add_user(repository, clock, "alice")
    bob = await add_user(repository, clock, "bob")
    a = await add_connection(repository, clock, alice, "main")
    b = await add_connection(repository, clock, bob, "main")
    venue.add(a, trades=fills(a, clock, "1"))
    venue.add(b, trades=fills(b, clock, "1", "2"))

    outcome = await make_cycle(repository, clock, venue).run(alice.id)

    assert venue.created == [a.id]
    assert await stored_trades(repository, alice, a) == 1
    assert await stored_trades(repository, bob, b) == 0
    assert outcome.digest.user_name == "alice"


async def test_accounts_reported_by_the_broker_belong_to_the_connection(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    venue.add(connection, accounts=[Account(connection_id="someone-else", account_id="x")])

    outcome = await make_cycle(repository, clock, venue).run(user.id)

    (error,) = outcome.digest.errors
    assert (error.text or "").startswith("MalformedResponse: broker returned data of connection")


async def test_secrets_in_an_order_rejection_are_masked_in_the_strategy_step(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(
        repository, clock, user, "leaky", secrets={"api_key": Secret("k3y-canary")}
    )
    broker = venue.add(connection, quotes=[quote(clock)])
    broker.fail("place_order", OrderRejected("key k3y-canary may not trade", broker="fake"))
    await add_strategy(repository, clock, user, connection)

    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory([])})
    outcome = await cycle.run(user.id)

    (step,) = [s for s in outcome.run.steps if s.kind is TaskKind.STRATEGY]
    assert step.status is TaskStatus.FAILURE
    assert "k3y-canary" not in (step.error or "")
    assert "OrderRejected: key ********** may not trade" in (step.error or "")
    # Still a phrase (translatable), its values masked: what any language shows holds no secret.
    assert isinstance(step.error, Phrase)
    shown = step.error.render(lambda msgid: f"» {msgid}")
    assert shown.startswith("» » » buy 0.01 BTC-USD at market (test) rejected: ")
    assert "k3y-canary" not in shown
    assert "key ********** may not trade" in shown


async def set_limits(repository: MemoryRepository, user: User, **limits: Any) -> None:
    async with repository.unit_of_work() as uow:
        await uow.risk.save_limits(RiskLimits(user_id=user.id, **limits))
        await uow.commit()


async def test_an_oversized_intent_is_blocked_naming_the_rule_and_nothing_is_recorded(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    broker = venue.add(connection, quotes=[quote(clock)])  # 0.01 BTC at 40000 = 400
    await add_strategy(repository, clock, user, connection)
    await set_limits(repository, user, max_order_notional=Decimal("250"))

    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory([])})
    outcome = await cycle.run(user.id)

    assert "place_order" not in broker.calls
    (step,) = [s for s in outcome.run.steps if s.kind is TaskKind.STRATEGY]
    assert step.status is TaskStatus.FAILURE
    assert step.counts["blocked"] == 1
    assert step.error == (
        "buy 0.01 BTC-USD at market (test) blocked by max_order_notional: "
        "notional 400.00 exceeds the limit of 250"
    )
    assert outcome.run.status is RunStatus.PARTIAL  # the sync succeeded
    (error,) = outcome.digest.errors
    assert "max_order_notional" in (error.text or "")
    async with repository.unit_of_work() as uow:
        assert await uow.orders.list(user.id) == []
        stored = await uow.runs.get(user.id, outcome.run.id)
    assert stored.steps == outcome.run.steps[: len(stored.steps)]


async def test_the_cycle_limits_count_every_strategy_of_the_cycle(repository, clock, venue) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    broker = venue.add(connection, quotes=[quote(clock)])
    for name in ("a", "b", "c"):
        await add_strategy(repository, clock, user, connection, name=name)
    await set_limits(repository, user, max_cycle_notional=Decimal("900"), max_orders_per_cycle=5)

    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory([])})
    outcome = await cycle.run(user.id)

    assert broker.calls.count("place_order") == 2  # 400 + 400; the third would make 1200
    steps = {s.subject: s for s in outcome.run.steps if s.kind is TaskKind.STRATEGY}
    assert [steps[n].status for n in "abc"] == [TaskStatus.SUCCESS] * 2 + [TaskStatus.FAILURE]
    assert "blocked by max_cycle_notional" in (steps["c"].error or "")


async def test_the_kill_switch_and_a_paused_automation_stop_all_placement(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    broker = venue.add(connection, quotes=[quote(clock)])
    await add_strategy(repository, clock, user, connection)
    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory([])})

    async with repository.unit_of_work() as uow:
        await uow.risk.set_halt(TradingHalt(reason="exchange incident", since=clock.now()))
        await uow.commit()
    halted = await cycle.run(user.id)
    async with repository.unit_of_work() as uow:
        await uow.risk.set_halt(None)
        await uow.automation.save(AutomationConfig(user_id=user.id, state=AutomationState.PAUSED))
        await uow.commit()
    paused = await cycle.run(user.id)

    assert "place_order" not in broker.calls
    for outcome, rule in ((halted, "kill_switch"), (paused, "automation_paused")):
        (step,) = [s for s in outcome.run.steps if s.kind is TaskKind.STRATEGY]
        assert f"blocked by {rule}" in (step.error or "")
    assert "exchange incident" in str(
        [s.error for s in halted.run.steps if s.kind is TaskKind.STRATEGY]
    )


async def test_a_dry_run_intent_is_checked_but_never_uses_the_cycle_budget(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    broker = venue.add(connection, quotes=[quote(clock)])
    await add_strategy(repository, clock, user, connection, name="a-dry", dry_run=True)
    await add_strategy(repository, clock, user, connection, name="b-live")
    await set_limits(repository, user, max_orders_per_cycle=1)

    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory([])})
    outcome = await cycle.run(user.id)

    assert broker.calls.count("place_order") == 1
    assert outcome.run.status is RunStatus.SUCCESS
    summary = {line.subject: line.text for line in outcome.digest.summary}
    assert summary["a-dry"] == "dry run, would buy 0.01 BTC-USD at market (test)"
    assert summary["b-live"] == "buy 0.01 BTC-USD at market (test): filled"


async def test_the_strategy_state_is_saved_with_its_orders_and_seen_next_cycle(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    venue.add(connection, quotes=[quote(clock)])
    config = await add_strategy(repository, clock, user, connection)
    created: list[BuyOnce] = []
    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory(created)})

    await cycle.run(user.id)
    await cycle.run(user.id)

    assert [dict(s.seen[0].state) for s in created] == [{}, {"runs": "1"}]
    assert [len(s.seen[0].orders) for s in created] == [0, 1]
    async with repository.unit_of_work() as uow:
        stored = await uow.strategies.get(user.id, config.id)
        orders = await uow.orders.list(user.id, strategy_id=config.id)
    assert dict(stored.state) == {"runs": "2"}
    assert [o.strategy_id for o in orders] == [config.id, config.id]


async def test_an_order_never_seen_by_the_broker_is_marked_not_placed_after_the_safe_window(
    repository, clock, venue
) -> None:
    user = await add_user(repository, clock)
    connection = await add_connection(repository, clock, user, "main")
    broker = venue.add(connection, quotes=[quote(clock)])
    await add_strategy(repository, clock, user, connection)
    cycle = make_cycle(repository, clock, venue, strategies={"buy-once": buy_once_factory([])})
    broker.fail("place_order", BrokerUnavailable("read timeout", broker="fake"), times=1)

    await cycle.run(user.id)  # sent (the fake raised before keeping it), outcome unknown
    clock.advance(timedelta(minutes=1))
    early = await cycle.run(user.id)  # within the safe window: still unresolved
    clock.advance(timedelta(minutes=5))
    late = await cycle.run(user.id)

    (early_step,) = [s for s in early.run.steps if s.kind is TaskKind.STRATEGY]
    assert early_step.status is TaskStatus.SKIPPED
    (reconcile,) = [s for s in late.run.steps if s.kind is TaskKind.RECONCILE]
    assert reconcile.counts["orders_not_placed"] == 1
    (note,) = reconcile.notes
    assert note.endswith(": not_placed")
    async with repository.unit_of_work() as uow:
        first, second = await uow.orders.list(user.id)
    assert first.status is OrderStatus.NOT_PLACED
    assert first.missing_lookups >= 3
    assert (first.reason or "").startswith("never placed: not found by client id in ")
    assert second.status is OrderStatus.FILLED  # only then did the strategy decide again
    assert first.client_order_id != second.client_order_id
    assert broker.calls.count("place_order") == 2
    assert "get_order_status" in broker.calls
