"""A user's strategy: :class:`StrategyConfig`, what it asks for (:class:`OrderIntent`) and what one
evaluation decided (:class:`StrategyDecision`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from attrs import define, field, frozen
from attrs.validators import optional

from tradecore.domain._checks import frozen_settings, non_empty, positive, utc
from tradecore.domain.ids import new_id
from tradecore.domain.instrument import Instrument
from tradecore.domain.order import OrderType
from tradecore.domain.phrase import Phrase, Wording
from tradecore.domain.trade import Side, as_side
from tradecore.errors import DomainError

__all__ = ["OrderIntent", "StrategyConfig", "StrategyDecision"]


@define(kw_only=True)
class StrategyConfig:
    """One configured strategy of a user.

    :param strategy_type: the strategy plugin's name (``dca``…).
    :param connection_id: the connection whose account it trades.
    :param parameters: the strategy's parameters, as given by the user.
    :param dry_run: record what would be ordered and place nothing.
    :param state: what the strategy remembers between cycles (its last
        :attr:`StrategyDecision.state`); text values, saved by the cycle, never edited by hand.
    """

    id: str = field(factory=new_id, validator=non_empty)
    user_id: str = field(validator=non_empty)
    strategy_type: str = field(validator=non_empty)
    name: str = field(validator=non_empty)
    connection_id: str = field(validator=non_empty)
    parameters: Mapping[str, str] = field(factory=dict, converter=frozen_settings)
    active: bool = True
    dry_run: bool = False
    created_at: datetime = field(converter=utc)
    state: Mapping[str, str] = field(factory=dict, converter=frozen_settings)


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
    reason: Wording = ""

    def __attrs_post_init__(self) -> None:
        if self.order_type is OrderType.LIMIT and self.limit_price is None:
            raise DomainError("a limit intent needs a limit price")
        if self.order_type is OrderType.MARKET and self.limit_price is not None:
            raise DomainError("a market intent cannot have a limit price")


def _intents(value: Iterable[OrderIntent]) -> tuple[OrderIntent, ...]:
    intents = tuple(value)
    for intent in intents:
        if not isinstance(intent, OrderIntent):
            raise DomainError(f"a strategy must return OrderIntent objects, got {intent!r}")
    return intents


def _texts(value: Iterable[Wording]) -> tuple[Wording, ...]:
    texts = tuple(value)
    for text in texts:
        if not isinstance(text, str | Phrase):
            raise DomainError(f"a strategy note must be text, got {type(text).__name__}")
    return texts


def _state(value: Mapping[str, str] | None) -> Mapping[str, str] | None:
    return None if value is None else frozen_settings(value)


@frozen(kw_only=True)
class StrategyDecision:
    """What one evaluation of a strategy decided.

    :param intents: the orders it wants, in order; none is a normal outcome.
    :param state: what to remember until the next evaluation (replaces the stored state);
        ``None`` keeps the stored state unchanged.
    :param notes: what a person should read in the digest (``next buy due at …``): plain text,
        shown as written, or :func:`~tradecore.domain.phrase` phrases, shown in the reader's
        language when the catalogue has them.
    """

    intents: tuple[OrderIntent, ...] = field(default=(), converter=_intents)
    state: Mapping[str, str] | None = field(default=None, converter=_state)
    notes: tuple[Wording, ...] = field(default=(), converter=_texts)
