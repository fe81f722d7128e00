"""What a user holds: :class:`Account`, :class:`Position`, and market facts :class:`Asset`, :class:`Quote`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from attrs import field, frozen
from attrs.validators import optional

from tradecore.domain._checks import (
    decimal,
    non_empty,
    non_negative,
    optional_decimal,
    utc,
)
from tradecore.domain.instrument import Instrument

__all__ = ["Account", "Asset", "Position", "PositionKey", "Quote"]

PositionKey = tuple[str, str, str]
"""``(connection_id, account_id, symbol)``: the natural key of a position."""


@frozen(kw_only=True)
class Account:
    """One account at a broker connection.

    :param connection_id: the :class:`BrokerConnection` it belongs to.
    :param account_id: the broker's id for the account (Saxo ``AccountKey``, ``"spot"`` on Binance).
    :param name: a display name.
    :param currency: the account's base currency, when the broker has one.
    """

    connection_id: str = field(validator=non_empty)
    account_id: str = field(validator=non_empty)
    name: str = ""
    currency: str | None = None


@frozen(kw_only=True)
class Position:
    """A snapshot of a holding at ``as_of``.

    ``quantity`` is signed: negative is short. Prices and values are in ``currency``.
    The natural key is :attr:`key`; a newer snapshot replaces an older one, never the reverse.
    """

    connection_id: str = field(validator=non_empty)
    account_id: str = field(validator=non_empty)
    instrument: Instrument
    quantity: Decimal = field(validator=decimal)
    average_price: Decimal | None = field(default=None, validator=optional(non_negative))
    currency: str | None = None
    market_value: Decimal | None = field(default=None, validator=optional_decimal)
    unrealized_pnl: Decimal | None = field(default=None, validator=optional_decimal)
    as_of: datetime = field(converter=utc)

    @property
    def key(self) -> PositionKey:
        """``(connection_id, account_id, symbol)``."""
        return (self.connection_id, self.account_id, self.instrument.symbol)


@frozen(kw_only=True)
class Asset:
    """An instrument a broker offers, with its trading rules.

    :param min_quantity: the smallest order quantity, when the broker publishes one.
    :param quantity_step: the lot size quantities must be a multiple of.
    :param price_step: the tick size prices must be a multiple of.
    """

    instrument: Instrument
    description: str = ""
    currency: str | None = None
    tradable: bool = True
    min_quantity: Decimal | None = field(default=None, validator=optional(non_negative))
    quantity_step: Decimal | None = field(default=None, validator=optional(non_negative))
    price_step: Decimal | None = field(default=None, validator=optional(non_negative))


@frozen(kw_only=True)
class Quote:
    """A price for an instrument at ``as_of``. ``last`` is the price to use when only one is needed."""

    instrument: Instrument
    last: Decimal = field(validator=non_negative)
    bid: Decimal | None = field(default=None, validator=optional(non_negative))
    ask: Decimal | None = field(default=None, validator=optional(non_negative))
    currency: str | None = None
    as_of: datetime = field(converter=utc)
