"""Fills: :class:`Side`, :class:`Trade`, and the :class:`TradePage` an incremental sync returns."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from attrs import field, frozen

from tradecore.domain._checks import decimal, non_empty, non_negative, positive, utc
from tradecore.domain.instrument import Instrument

__all__ = ["Side", "Trade", "TradeKey", "TradePage", "unchecked_trade"]

TradeKey = tuple[str, str, str, str]
"""``(connection_id, account_id, symbol, broker_trade_id)``: the natural key of a fill."""


class Side(enum.StrEnum):
    """Buy or sell."""

    BUY = "buy"
    SELL = "sell"


def as_side(value: Side | str) -> Side:
    """``value`` as a :class:`Side` (a Side is returned as it is, without the Enum lookup)."""
    return value if type(value) is Side else Side(value)


@frozen(kw_only=True)
class Trade:
    """An immutable fill reported by a broker.

    :param broker_trade_id: the broker's id for the fill; unique per connection, account and symbol.
    :param quantity: the filled quantity, always positive (``side`` says the direction).
    :param fee: the commission charged, in ``fee_asset``; negative: a rebate (Binance USD-M
        futures report some fills with a negative commission).
    """

    connection_id: str = field(validator=non_empty)
    account_id: str = field(validator=non_empty)
    broker_trade_id: str = field(validator=non_empty)
    broker_order_id: str | None = None
    client_order_id: str | None = None
    instrument: Instrument
    side: Side = field(converter=as_side)
    quantity: Decimal = field(validator=positive)
    price: Decimal = field(validator=non_negative)
    fee: Decimal = field(default=Decimal(0), validator=decimal)
    fee_asset: str | None = None
    executed_at: datetime = field(converter=utc)

    @property
    def key(self) -> TradeKey:
        """``(connection_id, account_id, symbol, broker_trade_id)``."""
        return (self.connection_id, self.account_id, self.instrument.symbol, self.broker_trade_id)

    @property
    def notional(self) -> Decimal:
        """``quantity * price``, in the instrument's quote currency."""
        return self.quantity * self.price


_SLOTS = {name: Trade.__dict__[name].__set__ for name in ("connection_id", "account_id",
    "broker_trade_id", "broker_order_id", "client_order_id", "instrument", "side", "quantity",
    "price", "fee", "fee_asset", "executed_at")}  # fmt: skip
_NEW = object.__new__


def unchecked_trade(
    *,
    connection_id: str,
    account_id: str,
    broker_trade_id: str,
    broker_order_id: str | None,
    instrument: Instrument,
    side: Side,
    quantity: Decimal,
    price: Decimal,
    fee: Decimal,
    fee_asset: str | None,
    executed_at: datetime,
) -> Trade:
    """A :class:`Trade` built **without** its validators and converters (no client order id).

    Only for a broker adapter's trade-sync hot path, from values its decoder has already proved
    to be what ``Trade(...)`` would check: non-empty ids, a :class:`Side`, a finite positive
    ``quantity``, a finite non-negative ``price`` and a finite ``fee``, all exact
    :class:`~decimal.Decimal` (never a float), and ``executed_at`` aware with ``tzinfo`` exactly
    :data:`datetime.UTC`. The result equals the validated ``Trade(...)`` of the same values; given
    anything else it is a broken trade that nothing would catch, so everything else builds trades
    with ``Trade(...)``, which checks every field.
    """
    trade: Trade = _NEW(Trade)
    slots = _SLOTS
    slots["connection_id"](trade, connection_id)
    slots["account_id"](trade, account_id)
    slots["broker_trade_id"](trade, broker_trade_id)
    slots["broker_order_id"](trade, broker_order_id)
    slots["client_order_id"](trade, None)
    slots["instrument"](trade, instrument)
    slots["side"](trade, side)
    slots["quantity"](trade, quantity)
    slots["price"](trade, price)
    slots["fee"](trade, fee)
    slots["fee_asset"](trade, fee_asset)
    slots["executed_at"](trade, executed_at)
    return trade


def _trades(value: Sequence[Trade]) -> tuple[Trade, ...]:
    return tuple(value)


def _texts(value: Sequence[str]) -> tuple[str, ...]:
    return tuple(value)


@frozen(kw_only=True)
class TradePage:
    """What one ``get_trades`` call returns.

    :param trades: the fills after the cursor that was passed in.
    :param cursor: the opaque cursor to store and pass next time (``None``: nothing to remember).
    :param has_more: ``True`` when the broker holds more fills after ``cursor``; ask again.
    :param refused: one sentence per part of the account whose fills the adapter refused (a
        symbol's page with a value outside its documented range): none of its fills are in
        ``trades`` and ``cursor`` has not moved past them. The sync stores the rest and then
        reports the refusals as its failure.
    """

    trades: tuple[Trade, ...] = field(converter=_trades)
    cursor: str | None = None
    has_more: bool = False
    refused: tuple[str, ...] = field(default=(), converter=_texts)
