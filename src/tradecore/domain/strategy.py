"""A user's strategy: :class:`StrategyConfig`, and what it asks for: :class:`OrderIntent`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from attrs import define, field, frozen
from attrs.validators import optional

from tradecore.domain._checks import freeze_mapping, non_empty, positive, utc
from tradecore.domain.ids import new_id
from tradecore.domain.instrument import Instrument
from tradecore.domain.order import OrderType
from tradecore.domain.trade import Side, as_side
from tradecore.errors import DomainError

__all__ = ["OrderIntent", "StrategyConfig"]


@define(kw_only=True)
class StrategyConfig:
    """One configured strategy of a user.

    :param strategy_type: the strategy plugin's name (``dca``…).
    :param connection_id: the connection whose account it trades.
    :param parameters: the strategy's parameters, as given by the user.
    :param dry_run: record what would be ordered and place nothing.
    """

    id: str = field(factory=new_id, validator=non_empty)
    user_id: str = field(validator=non_empty)
    strategy_type: str = field(validator=non_empty)
    name: str = field(validator=non_empty)
    connection_id: str = field(validator=non_empty)
    parameters: Mapping[str, str] = field(factory=dict, converter=freeze_mapping)
    active: bool = True
    dry_run: bool = False
    created_at: datetime = field(converter=utc)


@frozen(kw_only=True)
class OrderIntent:
    """What a strategy wants done. It becomes an order only after the risk checks.

    :param account_id: the account to trade; ``None`` means the connection's only account.
    :param reason: why the strategy wants it, shown in the digest.
    """

    instrument: Instrument
    side: Side = field(converter=as_side)
    quantity: Decimal = field(validator=positive)
    order_type: OrderType = field(default=OrderType.MARKET, converter=OrderType)
    limit_price: Decimal | None = field(default=None, validator=optional(positive))
    account_id: str | None = None
    reason: str = ""

    def __attrs_post_init__(self) -> None:
        if self.order_type is OrderType.LIMIT and self.limit_price is None:
            raise DomainError("a limit intent needs a limit price")
        if self.order_type is OrderType.MARKET and self.limit_price is not None:
            raise DomainError("a market intent cannot have a limit price")
