"""The contract every :class:`~tradecore.ports.BrokerPort` implementation must pass.

Subclass :class:`BrokerPortContract` in a test module and provide its fixtures::

    from tradecore.testing.contracts.broker import BrokerPortContract

    class TestAcmeBroker(BrokerPortContract):
        @pytest.fixture
        async def broker(self):            # a ready BrokerPort; close it yourself
            broker = AcmeBroker(...)
            yield broker
            await broker.aclose()

        @pytest.fixture
        def tradable_instrument(self):      # something the broker can quote and trade
            return Instrument(symbol="BTCUSDT")

The tests only assume what the :class:`~tradecore.ports.BrokerPort` docstrings promise. They are
marked ``asyncio`` explicitly, so they run under pytest-asyncio in strict mode too (an async
``broker`` fixture then needs ``@pytest_asyncio.fixture``); set pytest-asyncio's
``asyncio_default_fixture_loop_scope = "function"`` (docs/plugins/writing.md shows the settings).
Order tests place real orders on the
first account returned by ``get_accounts``: point the broker at a sandbox, or set
``supports_orders = False`` to skip them. A broker that declares
:attr:`~tradecore.ports.BrokerCapabilities.order_search` must implement
:class:`~tradecore.ports.OrderSearch`, and its search must find an order it placed and raise
:class:`~tradecore.errors.OrderNotFound` for one it never saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from typing import ClassVar

import pytest

from tradecore.domain import (
    Account,
    Asset,
    Instrument,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
    Trade,
    client_order_id_for,
    new_id,
)
from tradecore.errors import InstrumentNotFound, OrderNotFound
from tradecore.ports.broker import BrokerInfo, BrokerPort, OrderSearch

__all__ = ["BrokerPortContract"]

MAX_PAGES = 1000
"""More ``has_more`` pages than this in one test means the cursor does not advance."""


class BrokerPortContract:
    """pytest base class: the behaviour every broker adapter shares.

    Fixtures a subclass provides: ``broker`` (required), ``tradable_instrument`` (required), and
    ``order_quantity`` (optional, default ``Decimal("1")``: a quantity of ``tradable_instrument``
    the first account can afford and the broker accepts).

    :cvar supports_orders: ``False`` skips every test that places or looks up orders.
    """

    supports_orders: ClassVar[bool] = True

    @pytest.fixture
    def broker(self) -> BrokerPort:
        """Override: yield a ready broker and close it afterwards."""
        pytest.fail(f"{type(self).__name__} must provide a 'broker' fixture")

    @pytest.fixture
    def tradable_instrument(self) -> Instrument:
        """Override: return an instrument the broker can quote and trade."""
        pytest.fail(f"{type(self).__name__} must provide a 'tradable_instrument' fixture")

    @pytest.fixture
    def order_quantity(self) -> Decimal:
        """Override when one unit of ``tradable_instrument`` is not a sensible order size."""
        return Decimal(1)

    # -- reads -----------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_info_names_the_broker(self, broker: BrokerPort) -> None:
        info = broker.info
        assert isinstance(info, BrokerInfo)
        assert info.name.strip()
        assert info.display_name.strip()

    @pytest.mark.asyncio
    async def test_lists_at_least_one_account(self, broker: BrokerPort) -> None:
        accounts = await broker.get_accounts()
        assert len(accounts) >= 1
        assert all(isinstance(account, Account) for account in accounts)
        assert len({account.account_id for account in accounts}) == len(accounts)

    @pytest.mark.asyncio
    async def test_positions_belong_to_the_account_asked_for(self, broker: BrokerPort) -> None:
        for account in await broker.get_accounts():
            for position in await broker.get_positions(account):
                assert isinstance(position, Position)
                assert position.connection_id == account.connection_id
                assert position.account_id == account.account_id
                assert position.quantity != 0, "zero holdings must be omitted"

    @pytest.mark.asyncio
    async def test_trade_sync_following_the_cursor_never_repeats_a_fill(
        self, broker: BrokerPort
    ) -> None:
        for account in await broker.get_accounts():
            trades, cursor = await _all_trades(broker, account, None)
            later, _ = await _all_trades(broker, account, cursor)
            keys = [trade.key for trade in [*trades, *later]]
            assert len(keys) == len(set(keys)), "a fill was returned twice"
            for trade in [*trades, *later]:
                assert isinstance(trade, Trade)
                assert trade.connection_id == account.connection_id
                assert trade.account_id == account.account_id

    @pytest.mark.asyncio
    async def test_assets_are_listed_as_assets(self, broker: BrokerPort) -> None:
        assets = await broker.get_assets()
        assert all(isinstance(asset, Asset) for asset in assets)

    @pytest.mark.asyncio
    async def test_tradable_instrument_has_a_positive_price(
        self, broker: BrokerPort, tradable_instrument: Instrument
    ) -> None:
        quote = await broker.get_asset_price(tradable_instrument)
        assert isinstance(quote, Quote)
        assert quote.instrument.symbol == tradable_instrument.symbol
        assert quote.last > 0
        if quote.bid is not None and quote.ask is not None:
            assert quote.bid <= quote.ask

    @pytest.mark.asyncio
    async def test_unknown_instrument_raises_instrument_not_found(
        self, broker: BrokerPort, tradable_instrument: Instrument
    ) -> None:
        unknown = Instrument(
            symbol="NO-SUCH-SYMBOL-4F2A", asset_type=tradable_instrument.asset_type
        )
        with pytest.raises(InstrumentNotFound):
            await broker.get_asset_price(unknown)

    @pytest.mark.asyncio
    async def test_api_figures_are_short_texts(self, broker: BrokerPort) -> None:
        await broker.get_accounts()
        figures = broker.api_figures()
        assert isinstance(figures, Mapping)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in figures.items())

    # -- orders ----------------------------------------------------------------------------------

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
        if order.status is not OrderStatus.FILLED:
            pytest.skip(f"the market order was {order.status.value}, not filled, when looked up")
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
        quote = await broker.get_asset_price(tradable_instrument)
        price = _far_below(quote.bid or quote.last, await _price_step(broker, tradable_instrument))
        request = _request(account, tradable_instrument, order_quantity, limit_price=price)
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

    # -- helpers ---------------------------------------------------------------------------------

    def _require_orders(self) -> None:
        if not self.supports_orders:
            pytest.skip(f"{type(self).__name__}.supports_orders is False")

    async def _market_buy(
        self, broker: BrokerPort, instrument: Instrument, quantity: Decimal
    ) -> tuple[Account, OrderRequest]:
        account = (await broker.get_accounts())[0]
        return account, _request(account, instrument, quantity)


def _request(
    account: Account,
    instrument: Instrument,
    quantity: Decimal,
    *,
    limit_price: Decimal | None = None,
) -> OrderRequest:
    return OrderRequest(
        connection_id=account.connection_id,
        account_id=account.account_id,
        client_order_id=client_order_id_for(f"contract-{new_id()}"),
        instrument=instrument,
        side=Side.BUY,
        order_type=OrderType.MARKET if limit_price is None else OrderType.LIMIT,
        quantity=quantity,
        limit_price=limit_price,
    )


async def _all_trades(
    broker: BrokerPort, account: Account, cursor: str | None
) -> tuple[list[Trade], str | None]:
    # Follow has_more to the end; return every fill and the cursor to store.
    trades: list[Trade] = []
    for _ in range(MAX_PAGES):
        page = await broker.get_trades(account, cursor=cursor)
        trades.extend(page.trades)
        if not page.has_more:
            return trades, page.cursor if page.cursor is not None else cursor
        assert page.cursor is not None, "has_more without a cursor"
        assert page.cursor != cursor, "has_more without a new cursor"
        cursor = page.cursor
    pytest.fail(f"get_trades still had more after {MAX_PAGES} pages")


def _belongs_to(trade: Trade, order: Order) -> bool:
    if trade.client_order_id is not None:
        return trade.client_order_id == order.client_order_id
    return order.broker_order_id is not None and trade.broker_order_id == order.broker_order_id


async def _price_step(broker: BrokerPort, instrument: Instrument) -> Decimal | None:
    for asset in await broker.get_assets():
        if asset.instrument.symbol == instrument.symbol:
            return asset.price_step
    return None


def _far_below(price: Decimal, step: Decimal | None) -> Decimal:
    # 30% under the market: far enough not to fill, near enough for price-band filters.
    target = price * Decimal("0.7")
    if step:
        return max((target / step).to_integral_value(ROUND_DOWN) * step, step)
    return target.quantize(price, rounding=ROUND_DOWN)
