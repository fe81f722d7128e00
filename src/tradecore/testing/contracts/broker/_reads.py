"""The read checks of the broker contract: accounts, positions, trades, assets, prices."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from tradecore.domain import Account, Asset, Instrument, Position, Quote, Trade
from tradecore.errors import InstrumentNotFound
from tradecore.ports.broker import BrokerInfo, BrokerPort
from tradecore.testing.contracts.broker._helpers import _all_trades

NO_POSITIONS = (
    "the broker returned no position on any account, so nothing was checked: give the "
    "fixture's account a holding (a funded balance counts)"
)
NO_TRADES = (
    "the broker returned no fill on any account, so nothing was checked: give the fixture's "
    "account a trade history (more than one page shows the cursor at work)"
)


class ReadChecks:
    """Reads return domain values that belong to the account asked for."""

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
        seen = 0
        for account in await broker.get_accounts():
            for position in await broker.get_positions(account):
                seen += 1
                assert isinstance(position, Position)
                assert position.connection_id == account.connection_id
                assert position.account_id == account.account_id
                assert position.quantity != 0, "zero holdings must be omitted"
        assert seen, NO_POSITIONS

    @pytest.mark.asyncio
    async def test_trade_sync_following_the_cursor_never_repeats_a_fill(
        self, broker: BrokerPort
    ) -> None:
        seen = 0
        for account in await broker.get_accounts():
            trades, cursor = await _all_trades(broker, account, None)
            later, _ = await _all_trades(broker, account, cursor)
            keys = [trade.key for trade in [*trades, *later]]
            assert len(keys) == len(set(keys)), "a fill was returned twice"
            for trade in [*trades, *later]:
                seen += 1
                assert isinstance(trade, Trade)
                assert trade.connection_id == account.connection_id
                assert trade.account_id == account.account_id
        assert seen, NO_TRADES

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
