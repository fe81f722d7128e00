"""The order checks of the broker contract: placing, looking up, cancelling, searching."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tradecore.domain import Instrument, Order, OrderStatus, OrderType, client_order_id_for, new_id
from tradecore.errors import OrderNotFound
from tradecore.ports.broker import BrokerPort, OrderSearch
from tradecore.testing.contracts.broker._base import ContractBase
from tradecore.testing.contracts.broker._helpers import (
    _all_trades,
    _belongs_to,
    _request,
    _resting_limit,
)

NOT_FILLED = (
    "the market order was {status}, not filled, when looked up, so its fill could not be "
    "checked: the fixture must provide a fillable order (a liquid tradable_instrument, an "
    "order_quantity the first account can afford)"
)


class OrderChecks(ContractBase):
    """Orders are acknowledged, found by client id, filled into trades, cancelled."""

    @pytest.mark.asyncio
    async def test_market_order_is_acknowledged_and_found_by_client_id(
        self, broker: BrokerPort, tradable_instrument: Instrument, order_quantity: Decimal
    ) -> None:
        self._require_orders()
        account, request = await self._market_buy(broker, tradable_instrument, order_quantity)
        order = await broker.place_order(request)
        assert isinstance(order, Order)
        assert order.client_order_id == request.client_order_id
        assert order.request.instrument.symbol == tradable_instrument.symbol
        assert order.status is not OrderStatus.PENDING_SUBMIT
        found = await broker.get_order_status(
            account, request.client_order_id, instrument=request.instrument
        )
        assert found.client_order_id == request.client_order_id
        assert found.status is not OrderStatus.PENDING_SUBMIT

    @pytest.mark.asyncio
    async def test_unknown_client_order_id_raises_order_not_found(
        self, broker: BrokerPort, tradable_instrument: Instrument
    ) -> None:
        self._require_orders()
        account = (await broker.get_accounts())[0]
        missing = client_order_id_for(f"contract-missing-{new_id()}")
        with pytest.raises(OrderNotFound):
            await broker.get_order_status(account, missing, instrument=tradable_instrument)
        with pytest.raises(OrderNotFound):
            await broker.cancel_order(account, missing, instrument=tradable_instrument)

    @pytest.mark.asyncio
    async def test_filled_market_order_shows_in_trades_after_the_earlier_cursor(
        self, broker: BrokerPort, tradable_instrument: Instrument, order_quantity: Decimal
    ) -> None:
        self._require_orders()
        account, request = await self._market_buy(broker, tradable_instrument, order_quantity)
        before, cursor = await _all_trades(broker, account, None)
        order = await broker.place_order(request)
        if order.status is not OrderStatus.FILLED:
            order = await broker.get_order_status(
                account, request.client_order_id, instrument=request.instrument
            )
        assert order.status is OrderStatus.FILLED, NOT_FILLED.format(status=order.status.value)
        after, _ = await _all_trades(broker, account, cursor)
        fills = [trade for trade in after if _belongs_to(trade, order)]
        assert fills, "the fill of the market order is not in get_trades after the cursor"
        assert sum(trade.quantity for trade in fills) == request.quantity
        assert not {trade.key for trade in fills} & {trade.key for trade in before}

    @pytest.mark.asyncio
    async def test_resting_limit_order_far_from_the_market_can_be_cancelled(
        self, broker: BrokerPort, tradable_instrument: Instrument, order_quantity: Decimal
    ) -> None:
        self._require_orders()
        if OrderType.LIMIT not in broker.info.capabilities.order_types:
            pytest.skip("the broker does not declare limit orders in its capabilities")
        account = (await broker.get_accounts())[0]
        request = await _resting_limit(broker, account, tradable_instrument, order_quantity)
        placed = await broker.place_order(request)
        assert placed.status in {OrderStatus.OPEN, OrderStatus.PENDING_SUBMIT}, placed.reason
        cancelled = await broker.cancel_order(
            account, request.client_order_id, instrument=request.instrument
        )
        assert cancelled.client_order_id == request.client_order_id
        assert cancelled.status is OrderStatus.CANCELED
        found = await broker.get_order_status(
            account, request.client_order_id, instrument=request.instrument
        )
        assert found.status is OrderStatus.CANCELED
        again = await broker.cancel_order(
            account, request.client_order_id, instrument=request.instrument
        )
        assert again.status is OrderStatus.CANCELED, "cancelling a terminal order changes nothing"

    # -- the order search (only for brokers declaring capabilities.order_search) -------------------

    @pytest.mark.asyncio
    async def test_a_broker_declaring_order_search_implements_it(self, broker: BrokerPort) -> None:
        if not broker.info.capabilities.order_search:
            pytest.skip("the broker does not declare order_search: looked up by client id only")
        assert isinstance(broker, OrderSearch), "order_search declared, search_order missing"

    @pytest.mark.asyncio
    async def test_order_search_finds_a_placed_order_and_not_an_unknown_one(
        self, broker: BrokerPort, tradable_instrument: Instrument, order_quantity: Decimal
    ) -> None:
        self._require_orders()
        if not broker.info.capabilities.order_search or not isinstance(broker, OrderSearch):
            pytest.skip("the broker does not declare order_search")
        account, request = await self._market_buy(broker, tradable_instrument, order_quantity)
        placed = await broker.place_order(request)
        since = placed.created_at - timedelta(minutes=1)
        found = await broker.search_order(request, since=since)
        assert found.client_order_id == request.client_order_id
        assert found.status is not OrderStatus.PENDING_SUBMIT
        if placed.broker_order_id is not None and found.broker_order_id is not None:
            assert found.broker_order_id == placed.broker_order_id
        never = _request(account, tradable_instrument, order_quantity)
        with pytest.raises(OrderNotFound):
            await broker.search_order(never, since=since)
