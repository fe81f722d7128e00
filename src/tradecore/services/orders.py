"""The order protocol (DESIGN.md §5): an order is a durable intent before it is a request, it is
sent once, and an uncertain outcome is resolved by looking it up, never by sending it again."""

from __future__ import annotations

from attrs import evolve, frozen

from tradecore.domain import Account, BrokerConnection, Order, OrderRequest, OrderStatus
from tradecore.errors import OrderExists, OrderNotFound, OrderRejected
from tradecore.ports import BrokerPort, Clock, RepositoryPort
from tradecore.services._steps import describe_error

__all__ = ["ReconcileResult", "reconcile_orders", "submit_order"]

_UNRESOLVED = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.UNKNOWN})


async def submit_order(
    *,
    repository: RepositoryPort,
    broker: BrokerPort,
    user_id: str,
    request: OrderRequest,
    clock: Clock,
) -> Order:
    """Record ``request`` as ``PENDING_SUBMIT``, commit, send it once, and record the outcome.

    A definitive refusal is ``REJECTED``. When the broker says an order with this client id
    already exists (:class:`~tradecore.errors.OrderExists`), it is looked up at once and recorded
    as the broker reports it. Anything else that goes wrong after the intent was committed
    (timeout, outage, unexpected error, or that lookup failing) is ``UNKNOWN``, to be settled by
    :func:`reconcile_orders`. A request is never retried here.

    :raises AlreadyExists: an order with this client id was already recorded: it may have been
        sent, so it must be reconciled, not submitted again.
    """
    pending = Order(request=request, status=OrderStatus.PENDING_SUBMIT, created_at=clock.now())
    async with repository.unit_of_work() as uow:
        await uow.orders.add(user_id, pending)
        await uow.commit()
    try:
        acknowledged = await broker.place_order(request)
    except OrderRejected as exc:
        outcome = evolve(pending, status=OrderStatus.REJECTED, reason=describe_error(exc))
    except OrderExists as exc:
        outcome = await _look_up_existing(broker, pending, exc)
    except Exception as exc:  # anything after the intent is durable leaves the outcome open
        outcome = evolve(pending, status=OrderStatus.UNKNOWN, reason=describe_error(exc))
    else:
        outcome = evolve(acknowledged, request=request, created_at=pending.created_at)
    outcome = evolve(outcome, updated_at=clock.now())
    async with repository.unit_of_work() as uow:
        await uow.orders.update(user_id, outcome)
        await uow.commit()
    return outcome


async def _look_up_existing(broker: BrokerPort, pending: Order, exists: OrderExists) -> Order:
    """The order the broker already holds under ``pending``'s client id, as it reports it."""
    request = pending.request
    account = Account(connection_id=request.connection_id, account_id=request.account_id)
    try:
        found = await broker.get_order_status(
            account, request.client_order_id, instrument=request.instrument
        )
        return evolve(found, request=request, created_at=pending.created_at)
    except Exception as exc:  # the order exists but its state is unknown: reconcile settles it
        reason = (
            f"the broker reported the order as existing ({describe_error(exists)}) "
            f"but looking it up failed: {describe_error(exc)}"
        )
        return evolve(pending, status=OrderStatus.UNKNOWN, reason=reason)


@frozen(kw_only=True)
class ReconcileResult:
    """What reconciling a connection's open orders found.

    :param unresolved: orders whose outcome is still unknown (not found at the broker yet).
    """

    checked: int
    updated: int
    unresolved: int


async def reconcile_orders(
    *,
    repository: RepositoryPort,
    broker: BrokerPort,
    connection: BrokerConnection,
    clock: Clock,
) -> ReconcileResult:
    """Ask the broker, by client id, about every non-terminal order of ``connection``.

    Orders the broker does not know stay as they are (``UNKNOWN`` or ``PENDING_SUBMIT``) and are
    counted as unresolved: they are never resent.
    """
    async with repository.unit_of_work() as uow:
        open_orders = await uow.orders.list(
            connection.user_id, connection_id=connection.id, open_only=True
        )
    updated = unresolved = 0
    for order in open_orders:
        account = Account(connection_id=connection.id, account_id=order.request.account_id)
        try:
            current = await broker.get_order_status(
                account, order.client_order_id, instrument=order.request.instrument
            )
        except OrderNotFound:
            unresolved += order.status in _UNRESOLVED
            continue
        if (current.status, current.filled_quantity) == (order.status, order.filled_quantity) and (
            current.broker_order_id == order.broker_order_id
        ):
            continue
        refreshed = evolve(
            current, request=order.request, created_at=order.created_at, updated_at=clock.now()
        )
        async with repository.unit_of_work() as uow:
            await uow.orders.update(connection.user_id, refreshed)
            await uow.commit()
        updated += 1
    return ReconcileResult(checked=len(open_orders), updated=updated, unresolved=unresolved)
