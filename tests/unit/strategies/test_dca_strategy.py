"""The built-in ``dca`` strategy: one buy of a fixed quote amount per slot, quantities rounded down
to the step, skipped with a note when it cannot or should not buy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from tradecore.domain import (
    Account,
    AssetType,
    Instrument,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
    StrategyConfig,
    StrategyDecision,
)
from tradecore.errors import ConfigurationError
from tradecore.ports import Strategy, StrategyContext
from tradecore.testing.builders import (
    DEFAULT_CONNECTION_ID,
    make_order,
    make_position,
    make_strategy,
)
from tradecore_adapters.strategies.dca import DCA_FACTORY

CREATED = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
BTC = Instrument(symbol="BTC-USD", asset_type=AssetType.SPOT, base="BTC", quote="USD")
PAPER = Account(connection_id=DEFAULT_CONNECTION_ID, account_id="paper", currency="USD")


def dca_config(
    *, state: Mapping[str, str] | None = None, dry_run: bool = False, **parameters: str
) -> StrategyConfig:
    given = {"instrument": "BTC-USD", "amount": "100", **parameters}
    config = make_strategy(
        name="btc-daily", strategy_type="dca", parameters=given, created_at=CREATED, dry_run=dry_run
    )
    return attrs.evolve(config, state=state or {})


def quote(
    last: str, *, ask: str | None = None, instrument: Instrument = BTC, currency: str = "USD"
) -> Quote:
    return Quote(
        instrument=instrument,
        last=Decimal(last),
        ask=None if ask is None else Decimal(ask),
        currency=currency,
        as_of=CREATED,
    )


def context(
    config: StrategyConfig,
    now: datetime,
    prices: Sequence[Quote] = (),
    positions: Sequence[Position] = (),
    accounts: Sequence[Account] = (PAPER,),
    orders: Sequence[Order] = (),
) -> StrategyContext:
    return StrategyContext(
        config=config,
        accounts=accounts,
        positions=positions,
        prices={q.instrument.symbol: q for q in prices},
        recent_trades=(),
        orders=orders,
        now=now,
    )


async def decide(
    config: StrategyConfig,
    now: datetime,
    prices: Sequence[Quote] = (),
    *,
    positions: Sequence[Position] = (),
    accounts: Sequence[Account] = (PAPER,),
    orders: Sequence[Order] = (),
) -> StrategyDecision:
    """Build the strategy through its factory (validating the parameters) and evaluate it."""
    strategy = DCA_FACTORY.build(config)
    assert isinstance(strategy, Strategy)
    return await strategy.evaluate(context(config, now, prices, positions, accounts, orders))


async def test_first_buy_is_the_amount_over_the_ask_rounded_down_with_a_human_note() -> None:
    now = CREATED + timedelta(minutes=3)

    decision = await decide(dca_config(), now, [quote("61230.00", ask="61234.50")])

    (intent,) = decision.intents
    assert intent.side is Side.BUY
    assert intent.quantity == Decimal("0.0016")
    assert str(intent.quantity) == "0.0016"
    assert intent.order_type is OrderType.MARKET
    assert intent.limit_price is None
    assert intent.instrument == BTC
    assert intent.reason == "dca slot 0"
    assert decision.notes == (
        "buy 0.0016 BTC-USD for 100 USD at 61234.50 (slot 0)",
        "next buy due at 2026-11-20 10:00 UTC",
    )
    assert decision.state == {"last_slot": "0", "last_bought_at": now.isoformat()}


async def test_a_buy_in_slot_3_names_its_slot_and_the_next_due_time() -> None:
    bought_in_2 = {"last_slot": "2", "last_bought_at": (CREATED + timedelta(days=2)).isoformat()}
    now = CREATED + timedelta(days=3, minutes=30)

    decision = await decide(dca_config(state=bought_in_2), now, [quote("61234.50")])

    (intent,) = decision.intents
    assert intent.reason == "dca slot 3"
    assert decision.notes == (
        "buy 0.0016 BTC-USD for 100 USD at 61234.50 (slot 3)",
        "next buy due at 2026-11-23 10:00 UTC",
    )
    assert decision.state == {"last_slot": "3", "last_bought_at": now.isoformat()}


async def test_a_second_evaluation_in_the_same_slot_buys_nothing() -> None:
    prices = [quote("60000")]
    first_at = CREATED + timedelta(hours=1)
    first = await decide(dca_config(), first_at, prices)
    assert first.state is not None

    again = await decide(dca_config(state=first.state), CREATED + timedelta(hours=23), prices)

    assert again.intents == ()
    assert again.state is None  # nothing new to remember
    assert again.notes == (
        "already bought in slot 0 at 2026-11-19 11:00 UTC; next buy due at 2026-11-20 10:00 UTC",
    )
    dry = await decide(
        dca_config(state=first.state, dry_run=True), CREATED + timedelta(hours=23), prices
    )
    assert dry.notes[0].startswith("already decided (dry run) in slot 0 at 2026-11-19 11:00 UTC")


async def test_a_buy_whose_order_never_reached_the_broker_is_decided_again_in_its_slot() -> None:
    decided_at = CREATED + timedelta(hours=1)
    state = {"last_slot": "0", "last_bought_at": decided_at.isoformat()}
    lost = make_order(
        client_order_id="tc-lost",
        symbol="BTC-USD",
        status=OrderStatus.NOT_PLACED,
        created_at=decided_at + timedelta(seconds=1),
    )
    config = dca_config(state=state)
    now = CREATED + timedelta(hours=2)

    decision = await decide(config, now, [quote("60000")], orders=[lost])

    assert [i.reason for i in decision.intents] == ["dca slot 0"]
    assert decision.notes[0] == "the slot 0 buy was never placed (tc-lost), so it is decided again"
    assert decision.state == {"last_slot": "0", "last_bought_at": now.isoformat()}


@pytest.mark.parametrize("status", [OrderStatus.REJECTED, OrderStatus.FILLED, OrderStatus.OPEN])
async def test_a_buy_the_broker_had_used_its_slot(status: OrderStatus) -> None:
    decided_at = CREATED + timedelta(hours=1)
    state = {"last_slot": "0", "last_bought_at": decided_at.isoformat()}
    order = make_order(symbol="BTC-USD", status=status, created_at=decided_at)

    decision = await decide(
        dca_config(state=state), CREATED + timedelta(hours=2), [quote("60000")], orders=[order]
    )

    assert decision.intents == ()


async def run_cycles(
    config: StrategyConfig, times: Sequence[datetime], prices: Sequence[Quote]
) -> list[tuple[datetime, StrategyDecision]]:
    """Evaluate at each time, saving the state between evaluations as the cycle does."""
    decisions = []
    for now in times:
        decision = await decide(config, now, prices)
        if decision.state is not None:
            config = attrs.evolve(config, state=decision.state)
        decisions.append((now, decision))
    return decisions


async def test_hourly_cycles_buy_once_per_slot_at_the_first_cycle_of_each_slot() -> None:
    hourly = [CREATED + timedelta(minutes=10) + timedelta(hours=h) for h in range(72)]

    decisions = await run_cycles(dca_config(every="1d"), hourly, [quote("60000")])

    buys = [(now, d.intents[0].reason) for now, d in decisions if d.intents]
    assert buys == [
        (CREATED + timedelta(minutes=10), "dca slot 0"),
        (CREATED + timedelta(days=1, minutes=10), "dca slot 1"),
        (CREATED + timedelta(days=2, minutes=10), "dca slot 2"),
    ]


async def test_after_a_three_day_outage_it_buys_exactly_once_not_a_burst() -> None:
    times = [
        CREATED + timedelta(minutes=5),  # slot 0
        # no cycle for three days (slots 1 and 2 missed)
        CREATED + timedelta(days=3, hours=2),  # slot 3
        CREATED + timedelta(days=3, hours=3),
        CREATED + timedelta(days=3, hours=20),
    ]

    decisions = await run_cycles(dca_config(every="1d"), times, [quote("60000")])

    assert [len(d.intents) for _, d in decisions] == [1, 1, 0, 0]
    (after_outage,) = decisions[1][1].intents
    assert after_outage.quantity == Decimal("0.0016")  # one amount, not three
    assert "2 earlier slot(s) had no buy; dca buys once now and does not make them up" in (
        decisions[1][1].notes
    )


async def test_a_strategy_first_evaluated_late_buys_once() -> None:
    decision = await decide(dca_config(every="1w"), CREATED + timedelta(weeks=5), [quote("60000")])

    assert [i.reason for i in decision.intents] == ["dca slot 5"]


@pytest.mark.parametrize(
    ("amount", "price", "step", "expected"),
    [
        ("100", "61234.50", "0.0001", "0.0016"),
        ("100", "3000", "0.001", "0.033"),
        ("1000", "190", "1", "5"),
        ("50", "0.3", "0.0001", "166.6666"),
        ("100", "25", "1", "4"),  # an exact multiple stays whole
        ("100", "25", "0.5", "4"),
        ("10", "3", "0.01", "3.33"),
    ],
)
async def test_quantity_is_rounded_down_exactly_to_the_step(
    amount: str, price: str, step: str, expected: str
) -> None:
    config = dca_config(amount=amount, quantity_step=step)

    decision = await decide(config, CREATED, [quote(price)])

    (intent,) = decision.intents
    assert intent.quantity == Decimal(expected)
    assert str(intent.quantity) == expected
    assert intent.quantity * Decimal(price) <= Decimal(amount)


async def test_a_quantity_that_rounds_to_zero_is_no_order_with_a_note_saying_why() -> None:
    config = dca_config(amount="5", quantity_step="0.0001")

    decision = await decide(config, CREATED, [quote("61234.50")])

    assert decision.intents == ()
    assert decision.state is None  # not bought: the slot is still open
    assert decision.notes == (
        "5 USD buys less than one quantity_step (0.0001) of BTC-USD at 61234.50, so no order "
        "in slot 0; raise amount or lower quantity_step",
    )


async def test_no_buy_while_the_price_is_above_max_price_then_buys_in_the_same_slot() -> None:
    config = dca_config(max_price="60000")

    expensive = await decide(config, CREATED + timedelta(hours=1), [quote("61234.50")])
    cheaper = await decide(config, CREATED + timedelta(hours=2), [quote("59000")])

    assert expensive.intents == ()
    assert expensive.state is None
    assert expensive.notes == (
        "BTC-USD at 61234.50 is above max_price 60000, so no buy in slot 0 yet; "
        "checked again next cycle",
    )
    (intent,) = cheaper.intents
    assert intent.reason == "dca slot 0"


async def test_a_missing_price_is_no_order_and_a_note() -> None:
    other = quote("3000", instrument=Instrument(symbol="ETH-USD"))

    decision = await decide(dca_config(), CREATED, [other])

    assert decision.intents == ()
    assert decision.state is None
    assert decision.notes == (
        "no price for BTC-USD, so no buy in slot 0 yet; tried again next cycle",
    )


async def test_without_an_ask_the_last_price_is_used() -> None:
    decision = await decide(dca_config(amount="120"), CREATED, [quote("60000")])

    assert decision.intents[0].quantity == Decimal("0.002")


async def test_a_limit_order_is_priced_at_the_ask() -> None:
    config = dca_config(order_type="limit")

    decision = await decide(config, CREATED, [quote("61230.00", ask="61234.50")])

    (intent,) = decision.intents
    assert intent.order_type is OrderType.LIMIT
    assert intent.limit_price == Decimal("61234.50")
    assert decision.notes[0] == "buy 0.0016 BTC-USD for 100 USD limit 61234.50 (slot 0)"


async def test_dry_run_decides_the_same_and_keeps_the_state() -> None:
    prices = [quote("60000", ask="60010")]
    now = CREATED + timedelta(hours=5)

    live = await decide(dca_config(), now, prices)
    dry = await decide(dca_config(dry_run=True), now, prices)

    assert dry == live
    assert dry.state == {"last_slot": "0", "last_bought_at": now.isoformat()}


async def test_a_held_position_lends_its_instrument_and_account_to_the_intent() -> None:
    held = make_position(
        account_id="paper", symbol="BTC-USD", instrument=BTC, quantity=Decimal("0.5")
    )

    decision = await decide(dca_config(), CREATED, [quote("60000")], positions=[held])

    (intent,) = decision.intents
    assert intent.instrument is held.instrument
    assert intent.account_id == "paper"


async def test_on_binance_it_buys_the_spot_pair_in_the_account_holding_the_quote_asset() -> None:
    # Binance spot holds balances per asset (BTC, USDT); a futures position is named like the pair.
    spot = Account(connection_id=DEFAULT_CONNECTION_ID, account_id="spot")
    futures = Account(connection_id=DEFAULT_CONNECTION_ID, account_id="usdm-futures")
    usdt = make_position(
        account_id="spot", instrument=Instrument(symbol="USDT", base="USDT"), quantity=Decimal(500)
    )
    perpetual = make_position(
        account_id="usdm-futures",
        instrument=Instrument(symbol="BTCUSDT", asset_type=AssetType.FUTURE),
        quantity=Decimal("0.01"),
    )
    pair = Instrument(symbol="BTCUSDT")
    price = Quote(instrument=pair, last=Decimal("61234.50"), as_of=CREATED)
    config = dca_config(instrument="BTCUSDT", amount="50", quantity_step="0.00001")

    decision = await decide(
        config, CREATED, [price], positions=[usdt, perpetual], accounts=[spot, futures]
    )

    (intent,) = decision.intents
    assert intent.instrument == pair
    assert intent.instrument.asset_type is AssetType.SPOT
    assert intent.account_id == "spot"
    assert intent.quantity == Decimal("0.00081")
    assert decision.notes[0] == "buy 0.00081 BTCUSDT for 50 USDT at 61234.50 (slot 0)"


async def test_nothing_is_bought_before_the_strategy_was_created() -> None:
    decision = await decide(dca_config(), CREATED - timedelta(minutes=1), [quote("60000")])

    assert decision.intents == ()
    assert decision.notes == ("first buy due at 2026-11-19 10:00 UTC",)


async def test_an_unreadable_state_is_said_and_ignored() -> None:
    config = dca_config(state={"last_slot": "x", "last_bought_at": "yesterday"})

    decision = await decide(config, CREATED, [quote("60000")])

    assert len(decision.intents) == 1
    assert decision.notes[0].startswith("ignored an unreadable stored state")


def test_instruments_are_the_one_it_buys() -> None:
    strategy = DCA_FACTORY.build(dca_config(instrument="ETH-USD"))

    assert tuple(strategy.instruments()) == (Instrument(symbol="ETH-USD"),)


# Parameters are refused with a sentence when the strategy is built (as when it is added).


def test_an_unknown_parameter_is_refused_listing_the_allowed_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        DCA_FACTORY.build(dca_config(evry="1d"))

    assert str(caught.value) == (
        "strategy 'btc-daily' (dca): unknown parameter(s) evry; "
        "allowed: amount, every, instrument, max_price, order_type, quantity_step"
    )


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {"every": "5s"},
            "parameter 'every' must be a duration such as 30m, 4h, 1d or 1w; got '5s'",
        ),
        ({"every": "1m"}, "parameter 'every' must be at least 5m; got '1m'"),
        ({"amount": "-1"}, "parameter 'amount' must be more than 0; got '-1'"),
        ({"amount": "0"}, "parameter 'amount' must be more than 0; got '0'"),
        ({"amount": "ten"}, "parameter 'amount' must be a decimal number"),
        ({"quantity_step": "0"}, "parameter 'quantity_step' must be more than 0; got '0'"),
        ({"max_price": "-5"}, "parameter 'max_price' must be more than 0; got '-5'"),
        ({"order_type": "stop"}, "parameter 'order_type' must be one of market, limit; got 'stop'"),
        ({"instrument": "BTC-USD,ETH-USD"}, "parameter 'instrument' must be one symbol such as"),
    ],
)
def test_bad_values_are_refused_with_a_sentence(parameters: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        DCA_FACTORY.build(dca_config(**parameters))

    assert str(caught.value).startswith("strategy 'btc-daily' (dca): ")
    assert message in str(caught.value)


def test_instrument_and_amount_are_required() -> None:
    config = attrs.evolve(dca_config(), parameters={"amount": "100"})

    with pytest.raises(ConfigurationError, match=r"'instrument' is required \(for example"):
        DCA_FACTORY.build(config)


def test_the_defaults_are_a_daily_market_buy_with_a_small_step() -> None:
    spec = {p.name: p for p in DCA_FACTORY.parameters}

    assert DCA_FACTORY.name == "dca"
    assert (spec["every"].default, spec["every"].minimum) == ("1d", "5m")
    assert spec["quantity_step"].default == "0.0001"
    assert spec["order_type"].default == "market"
    assert spec["max_price"].default is None
    assert not spec["max_price"].required
    assert all(p.description and p.example for p in DCA_FACTORY.parameters)
