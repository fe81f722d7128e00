"""The Saxo adapter passes the BrokerPortContract against a mocked Saxo (the fake Saxo of
tests/fakes answering through ``httpx.MockTransport``), with transport faults injected between
the two and the token store it was given."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from tests.fakes.http_faults import FaultyTransport
from tests.fakes.saxo_exchange import FakeSaxo

from tradecore.domain import BrokerConnection, Instrument, OrderStatus, Side
from tradecore.ports import BrokerContext, BrokerFactory, BrokerPort, RepositoryPort
from tradecore.services.tokens import RepositoryTokenStore
from tradecore.services.unsaved_tokens import UnsavedTokens
from tradecore.testing import FakeClock, ScriptedFaults
from tradecore.testing.contracts.broker import (
    BrokerPortContract,
    _all_trades,
    _belongs_to,
    _request,
)

EXACT = Decimal("123.456789012345678")
"""More digits than a float keeps; Saxo sends numbers, read as Decimal."""


def _is_placement(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/trade/v2/orders")


def _saxo_rate_limit(seconds: int) -> tuple[dict[str, str], bytes]:
    # Saxo names no Retry-After: the exhausted dimension's reset is the wait.
    headers = {
        "X-RateLimit-Session-Limit": "120",
        "X-RateLimit-Session-Remaining": "0",
        "X-RateLimit-Session-Reset": str(seconds),
        "Content-Type": "application/json",
    }
    return headers, b'{"Message":"Rate limit exceeded"}'


class TestSaxoBroker(BrokerPortContract):
    @pytest.fixture
    def venue_faults(self) -> ScriptedFaults:
        return ScriptedFaults()

    @pytest.fixture
    async def mock_http(
        self, fake: FakeSaxo, venue_faults: ScriptedFaults
    ) -> AsyncIterator[httpx.AsyncClient]:
        # Overrides conftest's: the same fake, behind the fault switches.
        transport = FaultyTransport(
            fake.mock_transport(),
            venue_faults,
            is_placement=_is_placement,
            rate_limit_answer=_saxo_rate_limit,
        )
        async with httpx.AsyncClient(transport=transport) as client:
            yield client

    @pytest.fixture
    def caller_http_client(self, mock_http: httpx.AsyncClient) -> httpx.AsyncClient:
        return mock_http

    @pytest.fixture
    def broker_tokens(
        self, repository: RepositoryPort, connection: BrokerConnection, clock: FakeClock
    ) -> RepositoryTokenStore:
        return RepositoryTokenStore(repository, connection, clock, unsaved=UnsavedTokens())

    @pytest.fixture
    async def broker(
        self,
        fake: FakeSaxo,
        connection: BrokerConnection,
        clock: FakeClock,
        mock_http: httpx.AsyncClient,
        broker_tokens: RepositoryTokenStore,
        brokers: dict[str, BrokerFactory],
    ) -> AsyncIterator[BrokerPort]:
        fake.add_instrument(999, "Stock", "XYZ:xnas", "Exact Inc.", "USD", EXACT, EXACT)
        context = BrokerContext(clock=clock, http_client=mock_http, tokens=broker_tokens)
        broker = brokers["saxo"].create(connection, context)
        yield broker
        await broker.aclose()

    @pytest.fixture
    def exact_price(self) -> tuple[Instrument, Decimal]:
        return Instrument(symbol="XYZ:xnas", asset_type="stock"), EXACT

    @pytest.fixture
    def tradable_instrument(self) -> Instrument:
        return Instrument(symbol="AAPL:xnas", asset_type="stock")

    @pytest.fixture
    def order_quantity(self) -> Decimal:
        return Decimal(3)

    @pytest.mark.asyncio
    async def test_filled_market_order_shows_in_trades_after_the_earlier_cursor(
        self,
        broker: BrokerPort,
        tradable_instrument: Instrument,
        order_quantity: Decimal,
        fake: FakeSaxo,
        clock: FakeClock,
    ) -> None:
        """Saxo's trade report is end-of-day (docs/brokers/saxo.md): the fill shows after the day's
        processing, not before, and then exactly once after the earlier cursor."""
        account = (await broker.get_accounts())[0]
        request = _request(account, tradable_instrument, order_quantity)
        before, cursor = await _all_trades(broker, account, None)
        order = await broker.place_order(request)
        found = await broker.get_order_status(
            account, request.client_order_id, instrument=request.instrument
        )
        assert found.status is OrderStatus.FILLED
        same_day, _ = await _all_trades(broker, account, cursor)
        assert not [t for t in same_day if _belongs_to(t, found)], "reported before end of day"

        fake.end_of_day()
        after, _ = await _all_trades(broker, account, cursor)

        fills = [trade for trade in after if _belongs_to(trade, found)]
        assert sum(trade.quantity for trade in fills) == request.quantity
        assert {trade.side for trade in fills} == {Side.BUY}
        assert not {trade.key for trade in fills} & {trade.key for trade in before}
        assert order.broker_order_id == found.broker_order_id


async def test_aclose_closes_the_client_the_adapter_made_and_twice_is_harmless(
    connection: BrokerConnection,
    clock: FakeClock,
    repository: RepositoryPort,
    brokers: dict[str, BrokerFactory],
) -> None:
    # The contract checks a caller's client stays open; the adapter's own must be closed.
    tokens = RepositoryTokenStore(repository, connection, clock, unsaved=UnsavedTokens())
    broker = brokers["saxo"].create(connection, BrokerContext(clock=clock, tokens=tokens))
    own = broker._client._http  # type: ignore[attr-defined]  # no request is made
    assert not own.is_closed
    await broker.aclose()
    await broker.aclose()
    assert own.is_closed
