"""Orders placed by hand (``tradecore order place|cancel|status``), through the same protocol and
risk checks as a strategy's.

A manual order's client id derives from an idempotency key: give the same ``key`` again (say, the
command was interrupted and is run again) and the order already recorded is looked up and shown,
never sent a second time. Without a key, every call is a new order.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from attrs import evolve, frozen

from tradecore.domain import (
    Account,
    Instrument,
    Order,
    OrderRequest,
    OrderType,
    RiskGate,
    Side,
    TimeInForce,
    client_order_id_for,
    new_id,
)
from tradecore.errors import (
    AlreadyExists,
    InstrumentNotFound,
    NotFound,
    OrderBlocked,
    OrderNotFound,
)
from tradecore.ports import BrokerPort, Clock, RepositoryPort, UnitOfWork
from tradecore.services.orders import adopt_reported, refresh_order, submit_order
from tradecore.services.risk import load_risk_gate, notional_of

__all__ = [
    "ManualOrder",
    "PlacedOrder",
    "cancel_recorded_order",
    "manual_client_order_id",
    "manual_risk_gate",
    "place_manual_order",
]


@frozen(kw_only=True)
class ManualOrder:
    """What a person asks for; the connection and account are resolved by the caller.

    :param key: an idempotency key; the same key always means the same order.
    """

    connection_id: str
    account_id: str
    instrument: Instrument
    side: Side
    quantity: Decimal
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    key: str | None = None


@frozen(kw_only=True)
class PlacedOrder:
    """The order as recorded, and whether it was recorded before (same key): then it was looked
    up, not sent."""

    order: Order
    existed: bool


def manual_client_order_id(user_id: str, key: str) -> str:
    """The client id of the manual order with idempotency ``key`` of ``user_id``."""
    return client_order_id_for(f"manual:{user_id}:{key}")


async def manual_risk_gate(uow: UnitOfWork, user_id: str) -> RiskGate:
    """The risk gate a manual order passes: the user's, without the per-cycle limits (they
    count the orders of a strategy cycle)."""
    gate = await load_risk_gate(uow, user_id)
    gate.limits = evolve(gate.limits, max_orders_per_cycle=None, max_cycle_notional=None)
    return gate


async def place_manual_order(
    *,
    repository: RepositoryPort,
    broker: BrokerPort,
    user_id: str,
    wanted: ManualOrder,
    clock: Clock,
    secrets: Iterable[str] = (),
) -> PlacedOrder:
    """Check ``wanted`` against the user's risk limits, then submit it by the order protocol.

    A manual order passes the kill switch, the user's paused automation, the allowed instruments
    and the maximum notional per order; the per-cycle limits count the orders of a strategy
    cycle and do not apply to it.

    :param secrets: the connection's secret values, masked in the reason recorded with the order.
    :raises OrderBlocked: a risk rule forbids it; nothing was recorded or sent.
    :raises AlreadyExists: ``wanted.key`` was used for an order on another connection.
    :raises DomainError: the order itself is malformed (a limit order without a price…).
    """
    client_order_id = manual_client_order_id(user_id, wanted.key or new_id())
    async with repository.unit_of_work() as uow:
        try:
            existing = await uow.orders.get(user_id, client_order_id)
        except NotFound:
            existing = None
        gate = await manual_risk_gate(uow, user_id)
    if existing is not None:
        if existing.request.connection_id != wanted.connection_id:
            raise AlreadyExists(
                f"the key {wanted.key!r} was already used for order {client_order_id} on "
                "another connection; use a new key"
            )
        current = await refresh_order(
            repository=repository, broker=broker, user_id=user_id, order=existing, clock=clock
        )
        return PlacedOrder(order=current, existed=True)
    request = OrderRequest(
        connection_id=wanted.connection_id,
        account_id=wanted.account_id,
        client_order_id=client_order_id,
        instrument=wanted.instrument,
        side=wanted.side,
        order_type=wanted.order_type,
        quantity=wanted.quantity,
        limit_price=wanted.limit_price,
        time_in_force=wanted.time_in_force,
    )
    quote = None
    if request.limit_price is None:
        try:
            quote = await broker.get_asset_price(request.instrument)
        except InstrumentNotFound:
            quote = None  # the risk check says it cannot price it, or the broker refuses it
    notional = notional_of(
        request.side, request.quantity, limit_price=request.limit_price, quote=quote
    )
    block = gate.check(request.instrument.symbol, notional)
    if block is not None:
        raise OrderBlocked(str(block), rule=block.rule.value)
    order = await submit_order(
        repository=repository,
        broker=broker,
        user_id=user_id,
        request=request,
        clock=clock,
        secrets=secrets,
    )
    return PlacedOrder(order=order, existed=False)


async def cancel_recorded_order(
    *, repository: RepositoryPort, broker: BrokerPort, user_id: str, order: Order, clock: Clock
) -> Order:
    """Ask the broker to cancel ``order`` and record what it says.

    A terminal order is returned unchanged. Cancelling is idempotent at every broker; an order
    the broker does not know is looked up by the reconciliation rules instead.
    """
    if order.is_terminal:
        return order
    request = order.request
    account = Account(connection_id=request.connection_id, account_id=request.account_id)
    try:
        reported = await broker.cancel_order(
            account, order.client_order_id, instrument=request.instrument
        )
    except OrderNotFound:
        return await refresh_order(
            repository=repository, broker=broker, user_id=user_id, order=order, clock=clock
        )
    current = evolve(adopt_reported(order, reported), updated_at=clock.now())
    async with repository.unit_of_work() as uow:
        await uow.orders.update(user_id, current)
        await uow.commit()
    return current
