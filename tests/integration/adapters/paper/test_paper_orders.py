"""Orders on the paper broker: fills, funds, resting limits, and an account that always adds up."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest

from tradecore.domain import (
    Account,
    BrokerConnection,
    Instrument,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    Trade,
)
from tradecore.errors import (
    BrokerError,
    InstrumentNotFound,
    InsufficientFunds,
    OrderExists,
    OrderNotFound,
    OrderRejected,
)
from tradecore.ports import BrokerContext
from tradecore.testing import FakeClock
from tradecore_adapters.paper.broker import PaperBroker

CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
QUIET = CREATED - timedelta(minutes=1)  # with history_days=0, no history fill is due yet
CENT = Decimal("0.01")
ACCOUNT = Account(connection_id="conn-paper", account_id="paper")
BTC, AAPL = Instrument(symbol="BTC-USD"), Instrument(symbol="AAPL")


def _broker(clock: FakeClock, **settings: str) -> PaperBroker:
    connection = BrokerConnection(
        id="conn-paper",
        user_id="user-1",
        broker="paper",
        name="paper",
        settings=settings,
        created_at=CREATED,
    )
    return PaperBroker.create(connection, BrokerContext(clock=clock))


def _quiet(clock: FakeClock | None = None, cash: str = "100000") -> PaperBroker:
    return _broker(clock or FakeClock(QUIET), history_days="0", starting_cash=cash)


def _request(
    client_id: str,
    instrument: Instrument,
    side: Side,
    quantity: str,
    limit: Decimal | None = None,
    **kwargs: object,
) -> OrderRequest:
    fields: dict[str, object] = {
        "connection_id": "conn-paper",
        "account_id": "paper",
        "client_order_id": client_id,
        "instrument": instrument,
        "side": side,
        "order_type": OrderType.MARKET if limit is None else OrderType.LIMIT,
        "quantity": Decimal(quantity),
        "limit_price": limit,
    }
    fields.update(kwargs)
    return OrderRequest(**fields)  # type: ignore[arg-type]


async def _drain(broker: PaperBroker, cursor: str | None = None) -> tuple[list[Trade], str | None]:
    trades: list[Trade] = []
    while True:
        page = await broker.get_trades(ACCOUNT, cursor=cursor)
        trades.extend(page.trades)
        cursor = page.cursor
        if not page.has_more:
            return trades, cursor


async def _holdings(broker: PaperBroker) -> dict[str, Decimal]:
    return {p.instrument.symbol: p.quantity for p in await broker.get_positions(ACCOUNT)}


async def test_market_orders_fill_at_the_ask_or_bid_with_a_fee() -> None:
    broker = _quiet()
    quote = await broker.get_asset_price(BTC)
    bought = await broker.place_order(_request("b1", BTC, Side.BUY, "0.5"))
    sold = await broker.place_order(_request("s1", BTC, Side.SELL, "0.2"))
    assert (bought.status, bought.average_fill_price) == (OrderStatus.FILLED, quote.ask)
    assert (sold.status, sold.average_fill_price) == (OrderStatus.FILLED, quote.bid)
    assert bought.filled_quantity == Decimal("0.5")
    trades, _ = await _drain(broker)
    assert [(t.client_order_id, t.broker_order_id, t.side) for t in trades] == [
        ("b1", bought.broker_order_id, Side.BUY),
        ("s1", sold.broker_order_id, Side.SELL),
    ]
    assert trades[0].fee == (trades[0].notional * Decimal("0.001")).quantize(CENT)
    assert trades[0].fee_asset == "USD"
    assert (await _holdings(broker))["BTC-USD"] == Decimal("0.3")


async def test_positions_equal_starting_cash_plus_every_fill() -> None:
    clock = FakeClock(CREATED + timedelta(hours=5))
    broker = _broker(clock, seed="3", history_days="5", activity_minutes="30")
    held = await _holdings(broker)
    symbol = next(s for s in held if s != "USD")
    await broker.place_order(_request("buy", BTC, Side.BUY, "0.05"))
    await broker.place_order(
        _request("sell", Instrument(symbol=symbol), Side.SELL, str(held[symbol]))
    )
    clock.advance(timedelta(hours=7))
    trades, _ = await _drain(broker)
    assert len(trades) > 200

    cash, quantity, average = Decimal(100000), defaultdict(Decimal), {}
    for t in sorted(trades, key=lambda t: t.executed_at):
        sym = t.instrument.symbol
        if t.side is Side.BUY:
            average[sym] = (quantity[sym] * average.get(sym, 0) + t.notional) / (
                quantity[sym] + t.quantity
            )
            quantity[sym] += t.quantity
            cash -= t.notional + t.fee
        else:
            quantity[sym] -= t.quantity
            cash += t.notional - t.fee
        assert quantity[sym] >= 0, f"{t.broker_trade_id} sold more {sym} than held"
        assert cash >= 0, f"{t.broker_trade_id} spent more cash than held"

    positions = {p.instrument.symbol: p for p in await broker.get_positions(ACCOUNT)}
    assert positions.pop("USD").quantity == cash
    assert {s: p.quantity for s, p in positions.items()} == {s: q for s, q in quantity.items() if q}
    assert symbol not in positions
    for sym, position in positions.items():
        last = (await broker.get_asset_price(position.instrument)).last
        assert position.average_price is not None
        assert abs(position.average_price - average[sym]) <= CENT
        assert position.market_value == (position.quantity * last).quantize(CENT)
        expected_pnl = (last - average[sym]) * position.quantity
        assert position.unrealized_pnl is not None
        assert abs(position.unrealized_pnl - expected_pnl) <= CENT
        assert position.as_of == clock.now()


async def test_a_buy_costing_more_than_the_cash_raises_insufficient_funds() -> None:
    broker = _quiet(cash="1000")
    with pytest.raises(InsufficientFunds) as raised:
        await broker.place_order(_request("big", BTC, Side.BUY, "1"))
    assert (raised.value.broker, raised.value.code) == ("paper", "insufficient_funds")
    with pytest.raises(OrderNotFound):
        await broker.get_order_status(ACCOUNT, "big", instrument=BTC)
    assert await _holdings(broker) == {"USD": Decimal("1000.00")}
    affordable = await broker.place_order(_request("small", AAPL, Side.BUY, "5"))
    assert affordable.status is OrderStatus.FILLED


async def test_selling_more_than_held_is_rejected_but_is_not_a_lack_of_funds() -> None:
    broker = _quiet()
    await broker.place_order(_request("b", AAPL, Side.BUY, "3"))
    with pytest.raises(OrderRejected) as raised:
        await broker.place_order(_request("s", AAPL, Side.SELL, "4"))
    assert not isinstance(raised.value, InsufficientFunds)
    assert (await _holdings(broker))["AAPL"] == 3


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (_request("x", Instrument(symbol="NOPE"), Side.BUY, "1"), "unknown_symbol"),
        (_request("x", AAPL, Side.BUY, "0.5"), "lot_size"),
        (_request("x", BTC, Side.BUY, "0.00001"), "lot_size"),
        (_request("x", AAPL, Side.BUY, "1", Decimal("100.001")), "tick_size"),
        (_request("x", AAPL, Side.BUY, "1", account_id="other"), "unknown_account"),
        (_request("x", AAPL, Side.BUY, "1", connection_id="conn-other"), "wrong_connection"),
    ],
)
async def test_invalid_orders_are_rejected_definitively(request_: OrderRequest, code: str) -> None:
    broker = _quiet()
    with pytest.raises(OrderRejected) as raised:
        await broker.place_order(request_)
    assert raised.value.code == code
    assert not isinstance(raised.value, InstrumentNotFound)


async def test_a_duplicate_client_order_id_raises_order_exists_and_places_nothing() -> None:
    broker = _quiet()
    first = await broker.place_order(_request("dup", BTC, Side.BUY, "0.01"))
    with pytest.raises(OrderExists) as raised:
        await broker.place_order(_request("dup", BTC, Side.BUY, "0.02"))
    assert raised.value.client_order_id == "dup"
    account = (await broker.get_accounts())[0]
    assert await broker.get_order_status(account, "dup", instrument=BTC) == first
    trades, _ = await _drain(broker)
    assert [t.client_order_id for t in trades] == ["dup"]


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
async def test_a_resting_limit_order_fills_at_its_price_once_the_market_crosses_it(
    side: Side,
) -> None:
    clock = FakeClock(QUIET)
    broker = _quiet(clock)
    await broker.place_order(_request("inventory", BTC, Side.BUY, "0.1"))
    quote = await broker.get_asset_price(BTC)
    assert quote.bid is not None
    assert quote.ask is not None
    limit = quote.bid - 60 if side is Side.BUY else quote.ask + 60
    placed = await broker.place_order(_request("limit", BTC, side, "0.1", limit))
    assert placed.status is OrderStatus.OPEN
    _, cursor = await _drain(broker)

    waited = 0
    for _ in range(3 * 24 * 60):
        clock.advance(timedelta(minutes=1))
        waited += 1
        quote = await broker.get_asset_price(BTC)
        assert quote.bid is not None
        assert quote.ask is not None
        if (quote.ask <= limit) if side is Side.BUY else (quote.bid >= limit):
            break
        assert (
            await broker.get_order_status(ACCOUNT, "limit", instrument=BTC)
        ).status is OrderStatus.OPEN
    else:
        pytest.fail("the price never crossed the limit in three days")
    assert waited > 1, "the limit was marketable from the start; the test proves nothing"

    filled = await broker.get_order_status(ACCOUNT, "limit", instrument=BTC)
    assert (filled.status, filled.filled_quantity) == (OrderStatus.FILLED, Decimal("0.1"))
    assert (filled.average_fill_price, filled.updated_at) == (limit, clock.now())
    later, _ = await _drain(broker, cursor)
    fills = [t for t in later if t.client_order_id == "limit"]
    assert [(t.price, t.executed_at) for t in fills] == [(limit, clock.now())]


async def test_an_open_limit_order_reserves_its_cash_until_cancelled() -> None:
    broker = _quiet(cash="10000")
    ask = (await broker.get_asset_price(BTC)).ask
    assert ask is not None
    limit = (ask / 2).quantize(CENT)
    await broker.place_order(_request("rest", BTC, Side.BUY, "0.3", limit))
    with pytest.raises(InsufficientFunds):
        await broker.place_order(_request("m1", AAPL, Side.BUY, "10"))
    cancelled = await broker.cancel_order(ACCOUNT, "rest", instrument=BTC)
    assert cancelled.status is OrderStatus.CANCELED
    assert (await broker.place_order(_request("m2", AAPL, Side.BUY, "10"))).status is (
        OrderStatus.FILLED
    )


async def test_an_open_limit_sell_reserves_the_holding() -> None:
    broker = _quiet()
    await broker.place_order(_request("b", AAPL, Side.BUY, "10"))
    await broker.place_order(_request("rest", AAPL, Side.SELL, "10", Decimal("1000.00")))
    with pytest.raises(OrderRejected):
        await broker.place_order(_request("s", AAPL, Side.SELL, "1"))


async def test_cancelling_a_filled_order_returns_it_unchanged() -> None:
    broker = _quiet()
    filled = await broker.place_order(_request("f", AAPL, Side.BUY, "1"))
    assert await broker.cancel_order(ACCOUNT, "f", instrument=AAPL) == filled


async def test_an_ioc_limit_that_cannot_fill_expires_at_once() -> None:
    broker = _quiet()
    request = _request("ioc", AAPL, Side.BUY, "1", Decimal("1.00"), time_in_force=TimeInForce.IOC)
    assert (await broker.place_order(request)).status is OrderStatus.EXPIRED
    assert (await _drain(broker))[0] == []


async def test_a_day_limit_expires_at_midnight_utc() -> None:
    clock = FakeClock(datetime(2026, 1, 4, 23, 0, tzinfo=UTC))
    broker = _quiet(clock)
    request = _request("day", AAPL, Side.BUY, "1", Decimal("1.00"), time_in_force=TimeInForce.DAY)
    assert (await broker.place_order(request)).status is OrderStatus.OPEN
    clock.advance(timedelta(minutes=59))
    assert (
        await broker.get_order_status(ACCOUNT, "day", instrument=AAPL)
    ).status is OrderStatus.OPEN
    clock.advance(timedelta(minutes=1))
    assert (
        await broker.get_order_status(ACCOUNT, "day", instrument=AAPL)
    ).status is OrderStatus.EXPIRED


async def test_order_fills_of_a_new_broker_are_not_hidden_by_an_older_brokers_cursor() -> None:
    clock = FakeClock(QUIET)
    first = _quiet(clock)
    await first.place_order(_request("a1", AAPL, Side.BUY, "1"))
    _, cursor = await _drain(first)
    second = _quiet(clock)  # the next cycle: a new broker, the order book of the last one is gone
    await second.place_order(_request("b1", AAPL, Side.BUY, "1"))
    later, _ = await _drain(second, cursor)
    assert [t.client_order_id for t in later] == ["b1"]


async def test_history_fills_keep_their_content_whatever_orders_were_placed() -> None:
    # Trades are de-duplicated on their id, so an id must always mean the same fill.
    clock = FakeClock(CREATED + timedelta(hours=1))
    busy = _broker(clock, history_days="2", starting_cash="10000")
    calm = _broker(clock, history_days="2", starting_cash="10000")
    free_cash = (await _holdings(busy))["USD"]
    last = (await busy.get_asset_price(AAPL)).ask
    assert last is not None
    spend = (free_cash * Decimal("0.95") / last).to_integral_value(rounding=ROUND_DOWN)
    await busy.place_order(_request("spend", AAPL, Side.BUY, str(spend)))
    clock.advance(timedelta(days=1))
    busy_history = {
        t.broker_trade_id: t for t in (await _drain(busy))[0] if t.client_order_id is None
    }
    calm_history = {t.broker_trade_id: t for t in (await _drain(calm))[0]}
    assert busy_history.items() <= calm_history.items()
    assert len(busy_history) < len(calm_history), "no history fill was skipped for lack of cash"
    assert (await _holdings(busy))["USD"] >= 0


async def test_a_cursor_the_broker_never_issued_is_refused() -> None:
    with pytest.raises(BrokerError) as raised:
        await _quiet().get_trades(ACCOUNT, cursor="garbage")
    assert raised.value.code == "bad_cursor"


async def test_an_account_of_another_connection_is_refused() -> None:
    with pytest.raises(BrokerError):
        await _quiet().get_positions(Account(connection_id="conn-other", account_id="paper"))


async def test_api_figures_count_requests_and_a_closed_broker_refuses_calls() -> None:
    broker = _quiet()
    await broker.authenticate()
    assert await broker.refresh_auth_token() is None
    await broker.get_assets()
    assert broker.api_figures() == {"requests": "3"}
    await broker.aclose()
    await broker.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await broker.get_accounts()
