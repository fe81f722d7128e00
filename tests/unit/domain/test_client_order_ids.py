"""Client order ids for the key shapes tradecore really uses (docs/orders.md): a strategy's intent
is ``{strategy id}:{run id}:{index}`` (``services.strategy_run``), a manual order
``manual:{user id}:{idempotency key}`` (``services.manual_client_order_id``). Over generated
batches their ids are deterministic, distinct per distinct intent (also across the two shapes),
accepted by Binance (``^[\\.A-Z\\:/a-z0-9_-]{1,36}$``) and by Saxo's ExternalReference (50
characters at most). Any key's id being valid is in ``test_run_status_and_digest.py``."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tradecore.domain import (
    BrokerConnection,
    Instrument,
    OrderIntent,
    OrderRequest,
    OrderType,
    Quote,
    RiskGate,
    RiskLimits,
    StrategyConfig,
    StrategyDecision,
    client_order_id_for,
)
from tradecore.ports import StrategyContext, StrategyFactory
from tradecore.services import StrategyTarget, manual_client_order_id, run_strategy
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import make_user
from tradecore_adapters.memory import MemoryRepository

BINANCE_CLIENT_ID = re.compile(r"[\.A-Z\:/a-z0-9_-]{1,36}")
SAXO_EXTERNAL_REFERENCE_MAX = 50

ids = st.uuids().map(lambda u: u.hex)
"""Strategy, run and user ids as tradecore makes them (``new_id``: 32 hex characters)."""
indexes = st.integers(min_value=0, max_value=10_000)
idempotency_keys = st.text(min_size=1, max_size=80)
"""Whatever a person types as ``--key`` (any text)."""


def strategy_intent_id(strategy_id: str, run_id: str, index: int) -> str:
    return client_order_id_for(f"{strategy_id}:{run_id}:{index}")


def assert_valid_everywhere(client_id: str) -> None:
    assert BINANCE_CLIENT_ID.fullmatch(client_id), client_id
    assert len(client_id) <= SAXO_EXTERNAL_REFERENCE_MAX
    OrderRequest(  # the domain's own length rule accepts it
        connection_id="c",
        account_id="a",
        client_order_id=client_id,
        instrument=Instrument(symbol="BTCUSDT"),
        side="buy",
        order_type=OrderType.MARKET,
        quantity=Decimal(1),
    )


@given(st.lists(st.tuples(ids, ids, indexes), min_size=1, max_size=60, unique=True))
def test_strategy_intents_get_deterministic_distinct_valid_ids(
    intents: list[tuple[str, str, int]],
) -> None:
    made = [strategy_intent_id(*intent) for intent in intents]
    assert made == [strategy_intent_id(*intent) for intent in intents], "deterministic"
    assert len(set(made)) == len(intents), "one id per distinct intent"
    for client_id in made:
        assert_valid_everywhere(client_id)


@given(st.lists(st.tuples(ids, idempotency_keys), min_size=1, max_size=60, unique=True))
def test_manual_orders_get_deterministic_distinct_valid_ids(
    orders: list[tuple[str, str]],
) -> None:
    made = [manual_client_order_id(user_id, key) for user_id, key in orders]
    assert made == [manual_client_order_id(user_id, key) for user_id, key in orders]
    assert len(set(made)) == len(orders), "one id per distinct (user, key)"
    for client_id in made:
        assert_valid_everywhere(client_id)


@given(ids, ids, indexes)
def test_a_manual_key_shaped_like_an_intent_never_takes_a_strategy_orders_id(
    strategy_id: str, run_id: str, index: int
) -> None:
    # The worst case: a user id equal to the strategy id, a key spelling the rest of the intent.
    intent = strategy_intent_id(strategy_id, run_id, index)
    assert manual_client_order_id(strategy_id, f"{run_id}:{index}") != intent
    assert manual_client_order_id(strategy_id, f"{strategy_id}:{run_id}:{index}") != intent


@given(
    st.lists(st.tuples(ids, ids, indexes), max_size=30, unique=True),
    st.lists(st.tuples(ids, idempotency_keys), max_size=30, unique=True),
)
def test_a_mixed_batch_of_strategy_and_manual_orders_has_no_shared_id(
    intents: list[tuple[str, str, int]], manual: list[tuple[str, str]]
) -> None:
    made = [strategy_intent_id(*intent) for intent in intents]
    made += [manual_client_order_id(user_id, key) for user_id, key in manual]
    assert len(set(made)) == len(made)


@given(ids, ids, st.integers(min_value=1, max_value=60))
def test_every_intent_of_one_run_gets_its_own_id(strategy_id: str, run_id: str, n: int) -> None:
    """A strategy deciding ``n`` orders in one run: the index keeps them apart."""
    made = {strategy_intent_id(strategy_id, run_id, index) for index in range(n)}
    assert len(made) == n


async def test_run_strategy_names_its_orders_by_strategy_run_and_index() -> None:
    """Pins the intent-key shape the properties above are about to what ``run_strategy``
    really sends: three intents of one run become orders under ids of
    ``{strategy id}:{run id}:{index}``."""
    clock = FakeClock()
    user = make_user()
    connection = BrokerConnection(
        id="conn-fake", user_id=user.id, broker="fake", name="fake", created_at=clock.now()
    )
    btc = Instrument(symbol="BTC-USD")
    broker = FakeBroker(
        clock=clock,
        connection_id=connection.id,
        quotes=[Quote(instrument=btc, last=Decimal(40000), as_of=clock.now())],
    )
    config = StrategyConfig(
        user_id=user.id,
        strategy_type="three",
        name="three",
        connection_id=connection.id,
        created_at=clock.now(),
    )
    repository = MemoryRepository()
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.connections.add(connection)
        await uow.strategies.add(config)
        await uow.commit()

    class Three:
        def instruments(self) -> tuple[Instrument, ...]:
            return (btc,)

        async def evaluate(self, context: StrategyContext) -> StrategyDecision:
            buy = OrderIntent(instrument=btc, side="buy", quantity=Decimal("0.01"))
            return StrategyDecision(intents=[buy, buy, buy])

    factory = StrategyFactory(name="three", description="three buys", create=lambda c, v: Three())
    accounts = tuple(await broker.get_accounts())

    step = await run_strategy(
        config=config,
        target=StrategyTarget(connection=connection, broker=broker, accounts=accounts),
        factories={"three": factory},
        repository=repository,
        clock=clock,
        run_id="run-7",
        gate=RiskGate(limits=RiskLimits(user_id=user.id)),
    )

    assert step.counts["orders_placed"] == 3
    async with repository.unit_of_work() as uow:
        stored = await uow.orders.list(user.id, strategy_id=config.id)
    assert [order.client_order_id for order in stored] == [
        strategy_intent_id(config.id, "run-7", index) for index in range(3)
    ]
