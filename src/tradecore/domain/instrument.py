"""What is traded: :class:`Instrument` and its :class:`AssetType`."""

from __future__ import annotations

import enum

from attrs import field, frozen

from tradecore.domain._checks import non_empty

__all__ = ["AssetType", "Instrument"]


class AssetType(enum.StrEnum):
    """The kind of instrument, as brokers classify them."""

    SPOT = "spot"
    STOCK = "stock"
    ETF = "etf"
    FX = "fx"
    CFD = "cfd"
    FUTURE = "future"
    OPTION = "option"
    BOND = "bond"
    FUND = "fund"
    CASH = "cash"
    OTHER = "other"


@frozen(kw_only=True)
class Instrument:
    """A tradable instrument, named the way its broker names it.

    :param symbol: the broker-native symbol (``BTCUSDT``, ``AAPL:xnas``…).
    :param asset_type: what kind of instrument it is.
    :param broker_key: the broker's own key when the symbol is not enough (Saxo's ``Uic``).
    :param base: the asset bought or sold (``BTC``), when the broker splits pairs.
    :param quote: the currency the price is expressed in (``USDT``), when known.
    """

    symbol: str = field(validator=non_empty)
    asset_type: AssetType = field(default=AssetType.SPOT, converter=AssetType)
    broker_key: str | None = None
    base: str | None = None
    quote: str | None = None

    @property
    def is_balance(self) -> bool:
        """``True`` when it names a held asset rather than a market, so it has no price of its
        own: cash, or a spot balance named after its own asset with no quote currency (the
        ``BTC`` and ``USDT`` balances of a Binance account, whose markets are ``BTCUSDT``…)."""
        if self.asset_type is AssetType.CASH:
            return True
        return self.asset_type is AssetType.SPOT and self.quote is None and self.base == self.symbol
