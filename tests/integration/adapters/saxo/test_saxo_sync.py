"""Saxo reads: paging to the end, rate limits, the end-of-day trade report synced once, exact
Decimals and UTC times in the database (docs/brokers/saxo.md, "What is synced" and "Limits,
retries and errors")."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from tests.fakes.saxo_exchange import FakeSaxo
from tests.integration.adapters.saxo.conftest import AAPL, ACCOUNT_KEY, EURUSD, BrokerMaker

from tradecore.domain import (
    BrokerConnection,
    Instrument,
    OrderRequest,
    OrderType,
    client_order_id_for,
)
from tradecore.errors import MalformedResponse
from tradecore.ports import RepositoryPort
from tradecore.services import sync_connection
from tradecore.testing import FakeClock


@pytest.mark.parametrize("absolute", [False, True])
async def test_every_page_of_a_collection_is_read_once(
    fake: FakeSaxo, make_broker: BrokerMaker, clock: FakeClock, absolute: bool
) -> None:
    """Follow ``__next`` (relative or absolute) until it is absent."""
    fake.absolute_next = absolute
    account = fake.accounts[ACCOUNT_KEY]
    account.add_report_trades(
        EURUSD, "FxSpot", 2250, clock.now() - timedelta(days=50), spacing=timedelta(minutes=30)
    )
    broker = make_broker()
    target = next(a for a in await broker.get_accounts() if a.account_id == ACCOUNT_KEY)

    page = await broker.get_trades(target)

    ids = [trade.broker_trade_id for trade in page.trades]
    assert len(ids) == len(set(ids)) == 2280  # pages of $top=1000
    assert fake.count("GET", "/cs/v1/reports/trades") == 3
    await broker.aclose()


async def test_a_next_link_to_another_host_is_not_followed(
    fake: FakeSaxo, make_broker: BrokerMaker, connection: BrokerConnection
) -> None:
    """The bearer token must never leave Saxo's gateway."""
    payload = (
        b'{"Data": [], "__next": "https://evil.example/sim/openapi/port/v1/accounts/me?$skip=1"}'
    )
    fake.script("GET", "/port/v1/accounts/me", ("status", 200, payload))
    broker = make_broker()

    with pytest.raises(MalformedResponse, match="another host"):
        await broker.get_accounts()
    assert not [r for r in fake.requests if "evil" in str(r.headers.get("host", ""))]
    await broker.aclose()


async def test_a_429_waits_for_the_reset_saxo_names_and_the_read_succeeds(
    fake: FakeSaxo, make_broker: BrokerMaker, clock: FakeClock
) -> None:
    """A 429: back off until the relevant ``X-RateLimit-*-Reset``."""
    broker = make_broker()
    fake.script("GET", "/port/v1/accounts/me", ("rate_limited", 17))
    started = clock.now()

    accounts = await broker.get_accounts()

    assert len(accounts) == 2
    assert (clock.now() - started).total_seconds() >= 17
    assert broker.api_figures()["retries"] == "1"
    await broker.aclose()


async def test_an_exhausted_session_window_is_waited_out_before_asking(
    fake: FakeSaxo, make_broker: BrokerMaker, clock: FakeClock
) -> None:
    """120 requests a minute per service group; the headers say what is left."""
    fake.session_limit = 3
    broker = make_broker()
    started = clock.now()
    for _ in range(7):
        await broker.get_accounts()

    figures = broker.api_figures()
    assert (clock.now() - started).total_seconds() >= 60
    assert "retries" not in figures, "a request was refused (429) instead of waited for"
    assert float(figures["throttled_s"]) >= 60
    assert figures["rate_limit_left"].startswith("port ")
    assert figures["rate_limit_left"].endswith("/3")
    await broker.aclose()


async def test_sync_stores_net_positions_and_reported_trades_exactly_once(
    fake: FakeSaxo,
    make_broker: BrokerMaker,
    connection: BrokerConnection,
    repository: RepositoryPort,
    clock: FakeClock,
) -> None:
    broker = make_broker()

    first = await sync_connection(
        repository=repository, broker=broker, connection=connection, clock=clock
    )
    again = await sync_connection(
        repository=repository, broker=broker, connection=connection, clock=clock
    )

    assert (first.positions, first.trades_new) == (2, 30)
    assert again.trades_new == 0
    async with repository.unit_of_work() as uow:
        positions = {p.instrument.symbol: p for p in await uow.positions.list(connection.user_id)}
        trades = await uow.trades.list(connection.user_id)
    assert positions["AAPL:xnas"].quantity == Decimal(150)
    assert positions["AAPL:xnas"].average_price == Decimal("172.3456")
    assert positions["EURUSD"].quantity == Decimal(-100000)
    assert positions["AAPL:xnas"].instrument.broker_key == f"{AAPL}:Stock"
    assert all(trade.executed_at.tzinfo is UTC for trade in trades)
    await broker.aclose()


async def test_a_fill_is_synced_the_day_after_it_happened(
    fake: FakeSaxo,
    make_broker: BrokerMaker,
    connection: BrokerConnection,
    repository: RepositoryPort,
    clock: FakeClock,
) -> None:
    """The trade report is updated once a day; today's fills appear tomorrow."""
    broker = make_broker()
    await sync_connection(repository=repository, broker=broker, connection=connection, clock=clock)
    request = OrderRequest(
        connection_id=connection.id,
        account_id=ACCOUNT_KEY,
        client_order_id=client_order_id_for("day-after"),
        instrument=Instrument(symbol="AAPL:xnas", asset_type="stock"),
        side="buy",
        order_type=OrderType.MARKET,
        quantity=Decimal(7),
    )
    placed = await broker.place_order(request)

    same_day = await sync_connection(
        repository=repository, broker=broker, connection=connection, clock=clock
    )
    for _ in range(28):  # the next morning, the login kept alive as every cycle would
        clock.advance(timedelta(minutes=30))
        await broker.authenticate()
    fake.end_of_day()
    next_day = await sync_connection(
        repository=repository, broker=broker, connection=connection, clock=clock
    )

    assert same_day.trades_new == 0
    assert next_day.trades_new == 1
    async with repository.unit_of_work() as uow:
        trades = await uow.trades.list(connection.user_id)
    (fill,) = [t for t in trades if t.broker_order_id == placed.broker_order_id]
    assert fill.quantity == Decimal(7)
    assert fill.client_order_id == request.client_order_id
    await broker.aclose()
