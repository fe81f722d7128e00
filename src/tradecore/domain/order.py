"""Orders: what we ask a broker for (:class:`OrderRequest`) and what it says became of it (:class:`Order`)."""

from __future__ import annotations

import base64
import enum
import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import field, frozen
from attrs.validators import optional

from tradecore.domain._checks import non_empty, non_negative, optional_utc, positive, utc
from tradecore.domain.instrument import Instrument
from tradecore.domain.trade import Side, as_side
from tradecore.errors import DomainError

__all__ = [
    "CLIENT_ORDER_ID_MAX_LENGTH",
    "Order",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "TimeInForce",
    "client_order_id_for",
]

CLIENT_ORDER_ID_MAX_LENGTH = 36
"""Binance allows ``^[.A-Z:/a-z0-9_-]{1,36}$``; Saxo's ExternalReference allows 50 characters."""


class OrderType(enum.StrEnum):
    """How the order is priced."""

    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(enum.StrEnum):
    """How long a limit order stays working."""

    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    DAY = "day"


class OrderStatus(enum.StrEnum):
    """Where an order stands. ``UNKNOWN`` means "ask the broker by client id", never "resend".

    ``NOT_PLACED`` is our conclusion, not the broker's: the order was recorded but the broker
    never had it (not found by several lookups after the safe window, see
    :func:`tradecore.services.reconcile_orders`). Only then may a strategy decide again.
    """

    PENDING_SUBMIT = "pending_submit"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    NOT_PLACED = "not_placed"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        """``True`` when nothing more can happen to the order."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
        OrderStatus.NOT_PLACED,
    }
)


def client_order_id_for(intent_key: str) -> str:
    """Derive the deterministic client order id of an intent.

    The same intent always gives the same id, so a restarted process finds the order it may already
    have sent instead of sending another. The result is ``tc-`` and 32 base32 characters (35 in all),
    valid for Binance (``^[.A-Z:/a-z0-9_-]{1,36}$``) and Saxo (ExternalReference, 50 at most).
    """
    if not intent_key:
        raise DomainError("an order intent needs a non-empty key")
    digest = hashlib.sha256(intent_key.encode("utf-8")).digest()
    return "tc-" + base64.b32encode(digest).decode("ascii").rstrip("=").lower()[:32]


def _check_client_order_id(instance: object, attribute: Any, value: Any) -> None:
    non_empty(instance, attribute, value)
    if len(value) > CLIENT_ORDER_ID_MAX_LENGTH:
        raise DomainError(
            f"client order id {value!r} is longer than {CLIENT_ORDER_ID_MAX_LENGTH} characters"
        )


def _count(instance: object, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DomainError(f"{attribute.name} must be a whole number >= 0, got {value!r}")


@frozen(kw_only=True)
class OrderRequest:
    """An order we want placed.

    A limit order needs ``limit_price``; a market order must not have one.

    :param client_order_id: our id for the order, sent to the broker; see :func:`client_order_id_for`.
    """

    connection_id: str = field(validator=non_empty)
    account_id: str = field(validator=non_empty)
    client_order_id: str = field(validator=_check_client_order_id)
    instrument: Instrument
    side: Side = field(converter=as_side)
    order_type: OrderType = field(converter=OrderType)
    quantity: Decimal = field(validator=positive)
    limit_price: Decimal | None = field(default=None, validator=optional(positive))
    time_in_force: TimeInForce = field(default=TimeInForce.GTC, converter=TimeInForce)

    def __attrs_post_init__(self) -> None:
        if self.order_type is OrderType.LIMIT and self.limit_price is None:
            raise DomainError("a limit order needs a limit price")
        if self.order_type is OrderType.MARKET and self.limit_price is not None:
            raise DomainError("a market order cannot have a limit price")


@frozen(kw_only=True)
class Order:
    """An order as the broker (or our ledger) last saw it.

    :param request: what was asked for.
    :param broker_order_id: the broker's id, once it gave one.
    :param filled_quantity: how much has been filled so far.
    :param average_fill_price: the volume-weighted fill price, once something filled.
    :param reason: why it was rejected or is unknown, in words.
    :param strategy_id: the strategy that asked for it; ``None`` for an order placed by hand.
    :param missing_lookups: how many lookups by client id found nothing since it was recorded
        (what decides ``NOT_PLACED``).
    """

    request: OrderRequest
    status: OrderStatus = field(converter=OrderStatus)
    broker_order_id: str | None = None
    filled_quantity: Decimal = field(default=Decimal(0), validator=non_negative)
    average_fill_price: Decimal | None = field(default=None, validator=optional(non_negative))
    created_at: datetime = field(converter=utc)
    updated_at: datetime | None = field(default=None, converter=optional_utc)
    reason: str | None = None
    strategy_id: str | None = None
    missing_lookups: int = field(default=0, validator=_count)

    def __attrs_post_init__(self) -> None:
        if self.filled_quantity > self.request.quantity:
            raise DomainError("an order cannot fill more than its quantity")

    @property
    def client_order_id(self) -> str:
        """The client id of :attr:`request`."""
        return self.request.client_order_id

    @property
    def is_terminal(self) -> bool:
        """``True`` when nothing more can happen to the order."""
        return self.status.is_terminal
