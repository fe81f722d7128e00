"""What the order use cases (:class:`~tradecore.services.order_desk.Orders`) take and return:
the form a person fills in (:class:`OrderForm`, checked when built), the read models, and the
typed errors.

Checks: amounts by :func:`~tradecore.domain.checked_amount`; sides in any case (``buy``, ``BUY``,
``Buy``), always stored lowercase; symbols trimmed (their case is kept: brokers spell them, see
:class:`~tradecore.services.order_desk.Orders`); an idempotency key not blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from attrs import field, frozen

from tradecore.domain import (
    BrokerConnection,
    Order,
    OrderType,
    Side,
    TimeInForce,
    checked_amount,
)
from tradecore.errors import AlreadyExists, DomainError, TradecoreError
from tradecore.services.manual_orders import ManualOrder

__all__ = [
    "AccountNotChosen",
    "ConnectionInactive",
    "Estimate",
    "KeyUsedElsewhere",
    "OrderForm",
    "OrderListing",
    "OrderLookup",
    "OrderPlacement",
    "OrderStepFailed",
    "OrderTicket",
    "PlacementFailed",
    "checked_side",
]


class AccountNotChosen(DomainError):
    """No account was named and the connection does not have exactly one.

    :param accounts: the connection's accounts, by id (none, or several).
    """

    def __init__(self, connection: BrokerConnection, accounts: tuple[str, ...]) -> None:
        self.connection = connection
        self.accounts = accounts
        if not accounts:
            super().__init__(
                f"connection {connection.name} ({connection.broker}) reports no account to trade"
            )
        else:
            super().__init__(
                f"connection {connection.name} has {len(accounts)} accounts; say which "
                f"({', '.join(accounts)})"
            )


class ConnectionInactive(DomainError):
    """The connection is disabled: no order is sent to it."""


class KeyUsedElsewhere(AlreadyExists):
    """The idempotency key was already used for an order on another connection.

    :param client_order_id: that order's client id.
    """

    def __init__(self, key: str, client_order_id: str) -> None:
        self.key = key
        self.client_order_id = client_order_id
        super().__init__(
            f"the key {key!r} was already used for order {client_order_id} on another "
            "connection; use a new key"
        )


class OrderStepFailed(TradecoreError):
    """Talking to the broker failed before anything was recorded (opening the connection,
    logging in, listing the accounts); the message masks the connection's secrets."""


class PlacementFailed(TradecoreError):
    """Placing the order failed in an unexpected way.

    :param client_order_id: the order's client id.
    :param recorded: the order as recorded, when it was (then it may have been sent: look it up,
        never send it again); ``None`` when nothing was recorded or sent.
    :param reason: what went wrong, secrets masked.
    """

    def __init__(
        self, *, connection: BrokerConnection, client_order_id: str, recorded: Order | None,
        reason: str,
    ) -> None:  # fmt: skip
        self.connection = connection
        self.client_order_id = client_order_id
        self.recorded = recorded
        self.reason = reason
        where = (
            "nothing was recorded or sent"
            if recorded is None
            else f"the order was recorded ({recorded.status.value}) and may have been sent: look "
            "it up by its client id; it is never sent again"
        )
        super().__init__(
            f"placing order {client_order_id} at {connection.name} ({connection.broker}) "
            f"failed: {reason}; {where}"
        )


def checked_side(value: Side | str) -> Side:
    """``value`` as a :class:`Side`, whatever its case (``buy``, ``BUY``, ``Buy``).

    :raises DomainError: it is neither buy nor sell.
    """
    if isinstance(value, Side):
        return value
    try:
        return Side(str(value).strip().lower())
    except ValueError:
        raise DomainError(f"a side is buy or sell, got {value!r}") from None


def _quantity(instance: object, attribute: object, value: Decimal) -> None:
    checked_amount("quantity", value)


def _limit_price(instance: object, attribute: object, value: Decimal | None) -> None:
    if value is not None:
        checked_amount("limit price", value)


def _symbol(value: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise DomainError("a symbol must not be empty")
    return text


def _key(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise DomainError("an idempotency key must not be empty")
    return value


@frozen(kw_only=True)
class OrderForm:
    """An order as a person asks for it, checked when built (see the module).

    :param connection: the name of one of the user's connections.
    :param symbol: the instrument as the broker names it; trimmed.
    :param account: the account id; ``None``: the connection's only account.
    :param key: an idempotency key; the same key never places a second order.
    """

    connection: str
    symbol: str = field(converter=_symbol)
    side: Side = field(converter=checked_side)
    quantity: Decimal = field(validator=_quantity)
    order_type: OrderType = field(default=OrderType.MARKET, converter=OrderType)
    limit_price: Decimal | None = field(default=None, validator=_limit_price)
    time_in_force: TimeInForce = field(default=TimeInForce.GTC, converter=TimeInForce)
    account: str | None = None
    key: str | None = field(default=None, converter=_key)

    def __attrs_post_init__(self) -> None:
        if self.order_type is OrderType.LIMIT and self.limit_price is None:
            raise DomainError("a limit order needs a limit price")
        if self.order_type is OrderType.MARKET and self.limit_price is not None:
            raise DomainError("a market order has no limit price")


@frozen(kw_only=True)
class Estimate:
    """What an order is worth now. ``basis``: ``limit``, ``ask``, ``bid`` or ``last``."""

    notional: Decimal
    currency: str | None
    basis: str


@frozen(kw_only=True)
class OrderTicket:
    """What :meth:`Orders.place` would send, to show before asking.

    :param existing: the order already recorded under the key (then nothing is sent).
    :param notes: what a person should read (a symbol that could not be checked…).
    :param blocked: the risk rule that would block it now (``max_order_notional``…), with
        :attr:`blocked_reason` its sentence; ``None`` when the risk checks pass (placing checks
        them again).
    """

    connection: BrokerConnection
    wanted: ManualOrder
    existing: Order | None
    estimate: Estimate | None
    notes: tuple[str, ...] = ()
    blocked: str | None = None
    blocked_reason: str | None = None


@frozen(kw_only=True)
class OrderPlacement:
    """The order as recorded after :meth:`Orders.place`.

    :param existed: it was recorded before under the same key: looked up, not sent.
    :param differs: it existed and is not the order the form describes (the key wins).
    """

    connection: BrokerConnection
    order: Order
    existed: bool
    differs: bool
    notes: tuple[str, ...] = ()


@frozen(kw_only=True)
class OrderLookup:
    """An order before and after asking its broker; ``after`` is ``None`` when asking failed
    (``error`` says why, secrets masked)."""

    connection: BrokerConnection
    before: Order
    after: Order | None
    error: str | None = None


@frozen(kw_only=True)
class OrderListing:
    """Orders with the user's connections and strategy names (by id) to show them with."""

    orders: tuple[Order, ...]
    connections: tuple[BrokerConnection, ...]
    strategy_names: Mapping[str, str]
