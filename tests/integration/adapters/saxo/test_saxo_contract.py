"""The Saxo adapter passes the BrokerPortContract against a mocked Saxo (the fake Saxo of
tests/fakes answering through ``httpx.MockTransport``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from tests.fakes.saxo_exchange import FakeSaxo
from tests.integration.adapters.saxo.conftest import BrokerMaker

from tradecore.domain import Instrument, OrderStatus, Side
from tradecore.ports import BrokerPort
from tradecore.testing import FakeClock
from tradecore.testing.contracts.broker import (
    BrokerPortContract,
    _all_trades,
    _belongs_to,
    _request,
)


class TestSaxoBroker(BrokerPortContract):
    @pytest.fixture
    async def broker(self, make_broker: BrokerMaker) -> AsyncIterator[BrokerPort]:
        broker = make_broker()
        yield broker
        await broker.aclose()

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
