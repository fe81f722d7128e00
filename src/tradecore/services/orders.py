"""The order protocol (docs/orders.md): an order is a durable intent before it is a request, it is
sent once, and an uncertain outcome is resolved by looking it up, never by sending it again.

1. :func:`submit_order` records the order ``PENDING_SUBMIT`` under its deterministic client id and
   commits, then sends it once. A refusal proven by the broker is ``REJECTED``; anything uncertain
   (timeout, reset, 5xx, an unreadable answer) is ``UNKNOWN`` and is looked up by client id at
   once; "duplicate order" means it exists and is adopted as the broker reports it.
2. :func:`reconcile_orders` (every cycle, before strategies run) looks every non-terminal order up
   by client id. An order the broker still does not know once the safe window has passed since it
   was recorded, after :data:`NOT_PLACED_LOOKUPS` lookups, is marked ``NOT_PLACED``: it never
   reached the broker, and only then may a strategy decide again.

The safe window (:data:`SAFE_WINDOW`, 3 minutes) covers Binance's longest ``recvWindow`` (60 s:
a request arriving later than that after it was signed is refused) plus the up to 62 s Binance has
been measured to report a live order as "does not exist", with margin (docs/orders.md,
"not_placed: never placed"; the ``recvWindow`` rule is Binance's "Timing security",
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security).

Two guards make that conclusion sound:

- **Nothing is sent late.** Right before the request leaves, the lease the cycle runs under is
  confirmed in a short transaction of its own (:func:`~tradecore.services.fencing.confirm_lease`;
  a manual order has none), and an order recorded more than :data:`SEND_DEADLINE` (half the safe
  window) ago is not sent at all: it stays ``PENDING_SUBMIT``, unresolved, and reconciliation
  shows it never placed. So a process stalled between the commit and the POST cannot send an
  order that another process has meanwhile concluded ``NOT_PLACED``. The age is measured by the
  same clock that stamped the order (the service clock of the process that recorded and now
  sends it), so no skew between machines enters it; skew between the sender and another
  process that reconciles is what the other half of the safe window absorbs. (Leases use the
  store's clock; both rules hold on their own clock.)
- **"Not found" is asked every way the broker offers.** Before concluding ``NOT_PLACED``, a
  broker that declares :attr:`~tradecore.ports.BrokerCapabilities.order_search` is asked to
  search its listings since the order was recorded (:class:`~tradecore.ports.OrderSearch`:
  Binance's ``allOrders`` and ``myTrades``, Saxo's open orders and activity log); an order found
  there is adopted. Other brokers are looked up by client id only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from attrs import evolve, frozen

from tradecore.domain import (
    Account,
    BrokerConnection,
    Order,
    OrderRequest,
    OrderStatus,
    Wording,
    phrase,
)
from tradecore.errors import OrderExists, OrderNotFound, OrderRejected, PluginError
from tradecore.ports import BrokerPort, Clock, OrderSearch, RepositoryPort
from tradecore.services._steps import describe_error, mask
from tradecore.services.fencing import confirm_lease
from tradecore.services.order_words import describe_order, order_phrase, status_phrase

__all__ = [
    "LOOKUP_INTERVAL",
    "NOT_PLACED_LOOKUPS",
    "SAFE_WINDOW",
    "SEND_DEADLINE",
    "ReconcileResult",
    "adopt_reported",
    "describe_order",
    "order_phrase",
    "pending_order",
    "reconcile_orders",
    "refresh_order",
    "send_recorded",
    "status_phrase",
    "submit_order",
]

SAFE_WINDOW = timedelta(minutes=3)
"""How long after an order was recorded a broker that does not know it proves nothing."""

SEND_DEADLINE = SAFE_WINDOW / 2
"""An order recorded longer ago than this is never sent (left to reconciliation)."""

NOT_PLACED_LOOKUPS = 3
"""How many lookups must find nothing (after the safe window) before an order is ``NOT_PLACED``."""

LOOKUP_INTERVAL = timedelta(seconds=2)
"""The pause between two lookups of the same order within one reconciliation."""

_UNRESOLVED = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.UNKNOWN})


async def submit_order(
    *,
    repository: RepositoryPort,
    broker: BrokerPort,
    user_id: str,
    request: OrderRequest,
    clock: Clock,
    strategy_id: str | None = None,
    secrets: Iterable[str] = (),
) -> Order:
    """Record ``request`` as ``PENDING_SUBMIT``, commit, send it once, and record the outcome.

    A definitive refusal is ``REJECTED``. When the broker says an order with this client id
    already exists (:class:`~tradecore.errors.OrderExists`), or the outcome is uncertain (timeout,
    outage, unexpected error), the order is looked up by client id at once and recorded as the
    broker reports it; when that lookup does not settle it, it is ``UNKNOWN``, to be settled by
    :func:`reconcile_orders`. A request is never sent twice.

    :param strategy_id: the strategy asking, recorded with the order.
    :param secrets: the connection's secret values: masked in the reason recorded with the order
        (adapters never quote secrets; this is the second line of defence).
    :raises AlreadyExists: an order with this client id was already recorded: it may have been
        sent, so it must be reconciled, not submitted again.
    :raises LeaseLost: ``repository`` is a cycle's and its lease was lost: nothing was sent.
    """
    pending = pending_order(request, clock=clock, strategy_id=strategy_id)
    async with repository.unit_of_work() as uow:
        await uow.orders.add(user_id, pending)
        await uow.commit()
    return await send_recorded(
        repository=repository,
        broker=broker,
        user_id=user_id,
        pending=pending,
        clock=clock,
        secrets=secrets,
    )


def pending_order(request: OrderRequest, *, clock: Clock, strategy_id: str | None = None) -> Order:
    """The ``PENDING_SUBMIT`` record of ``request``, to be committed before it is sent."""
    return Order(
        request=request,
        status=OrderStatus.PENDING_SUBMIT,
        created_at=clock.now(),
        strategy_id=strategy_id,
    )


async def send_recorded(
    *,
    repository: RepositoryPort,
    broker: BrokerPort,
    user_id: str,
    pending: Order,
    clock: Clock,
    secrets: Iterable[str] = (),
) -> Order:
    """Send an order whose ``PENDING_SUBMIT`` record is already committed, once, and record the
    outcome (the second half of :func:`submit_order`, for callers that commit several intents,
    or an intent with other state, in one transaction); ``secrets`` are masked in the reason.

    Right before sending, the lease is confirmed and the order's age checked (see the module
    docstring): an order recorded more than :data:`SEND_DEADLINE` ago is not sent and is
    returned (and kept) ``PENDING_SUBMIT``, with a reason that says so.

    :raises LeaseLost: ``repository`` is a cycle's and its lease was lost: nothing was sent or
        written.
    """
    await confirm_lease(repository)
    age = clock.now() - pending.created_at
    if age > SEND_DEADLINE:
        return await _not_sent(repository, user_id, pending, clock, age)
    try:
        acknowledged = await broker.place_order(pending.request)
    except OrderRejected as exc:
        outcome = evolve(pending, status=OrderStatus.REJECTED, reason=describe_error(exc))
    except OrderExists as exc:
        outcome = await _settle_uncertain(
            broker,
            pending,
            f"the broker reported the order as existing ({describe_error(exc)})",
        )
    except Exception as exc:  # anything after the intent is durable leaves the outcome open
        outcome = await _settle_uncertain(broker, pending, describe_error(exc))
    else:
        outcome = adopt_reported(pending, acknowledged)
    reason = None if outcome.reason is None else mask(outcome.reason, tuple(secrets))
    outcome = evolve(outcome, updated_at=clock.now(), reason=reason)
    async with repository.unit_of_work() as uow:
        await uow.orders.update(user_id, outcome)
        await uow.commit()
    return outcome


async def _not_sent(
    repository: RepositoryPort, user_id: str, pending: Order, clock: Clock, age: timedelta
) -> Order:
    # Too late to send: whoever reconciles may already be concluding it was never placed.
    reason = (
        f"not sent: recorded {_minutes(age)} before it could be sent, more than "
        f"{_minutes(SEND_DEADLINE)}; reconciliation shows it never placed once "
        f"{_minutes(SAFE_WINDOW)} have passed"
    )
    kept = evolve(pending, reason=reason, updated_at=clock.now())
    async with repository.unit_of_work() as uow:
        await uow.orders.update(user_id, kept)
        await uow.commit()
    return kept


def adopt_reported(recorded: Order, reported: Order) -> Order:
    """``reported`` (the broker's view of an order) with what only our ledger knows kept from
    ``recorded``: the request as we made it, when we recorded it, the strategy that asked."""
    return evolve(
        reported,
        request=recorded.request,
        created_at=recorded.created_at,
        strategy_id=recorded.strategy_id,
        missing_lookups=0,
    )


async def _look_up(broker: BrokerPort, order: Order) -> Order:
    request = order.request
    account = Account(connection_id=request.connection_id, account_id=request.account_id)
    return await broker.get_order_status(
        account, request.client_order_id, instrument=request.instrument
    )


def _order_search(broker: BrokerPort) -> OrderSearch | None:
    """``broker`` when it declares and implements :class:`OrderSearch`, else ``None``."""
    if not broker.info.capabilities.order_search:
        return None
    if not isinstance(broker, OrderSearch):
        raise PluginError(
            f"broker {broker.info.name!r} declares order_search but has no search_order method; "
            "no order of it is concluded never placed"
        )
    return broker


async def _search(broker: BrokerPort, order: Order) -> Order | None:
    """The order as the broker's listings show it (see :class:`OrderSearch`), or ``None`` when
    they do not hold it or the broker has none."""
    searcher = _order_search(broker)
    if searcher is None:
        return None
    try:
        return await searcher.search_order(order.request, since=order.created_at)
    except OrderNotFound:
        return None


async def _settle_uncertain(broker: BrokerPort, pending: Order, why: str) -> Order:
    """Look ``pending`` up once after an uncertain send: adopt it if found, else ``UNKNOWN``."""
    try:
        found = await _look_up(broker, pending)
    except OrderNotFound:
        reason = f"{why}; not found by client id yet"
        return evolve(pending, status=OrderStatus.UNKNOWN, reason=reason, missing_lookups=1)
    except Exception as exc:  # the lookup failed too: reconcile settles it later
        reason = f"{why}; looking it up failed: {describe_error(exc)}"
        return evolve(pending, status=OrderStatus.UNKNOWN, reason=reason)
    return adopt_reported(pending, found)


@frozen(kw_only=True)
class ReconcileResult:
    """What reconciling a connection's open orders found.

    :param unresolved: orders whose outcome is still unknown (not found at the broker yet, and
        not long enough to conclude); while there are any, no strategy trades the connection.
    :param not_placed: orders concluded ``NOT_PLACED`` by this reconciliation.
    :param notes: one line per order whose state changed.
    """

    checked: int
    updated: int
    unresolved: int
    not_placed: int = 0
    notes: tuple[Wording, ...] = ()


async def reconcile_orders(
    *,
    repository: RepositoryPort,
    broker: BrokerPort,
    connection: BrokerConnection,
    clock: Clock,
    safe_window: timedelta = SAFE_WINDOW,
    lookups: int = NOT_PLACED_LOOKUPS,
    lookup_interval: timedelta = LOOKUP_INTERVAL,
) -> ReconcileResult:
    """Ask the broker, by client id, about every non-terminal order of ``connection``.

    An order found is recorded as the broker reports it. An order not found stays as it is and
    counts as unresolved, unless it is ``PENDING_SUBMIT`` or ``UNKNOWN``, was recorded at least
    ``safe_window`` ago, and ``lookups`` lookups in all (spaced by ``lookup_interval`` within
    this call) found nothing: then it is ``NOT_PLACED``. Nothing is ever resent. An order the
    broker had acknowledged (``OPEN``) and no longer finds is left open and counted unresolved.
    Before an order is concluded ``NOT_PLACED``, a broker with
    :attr:`~tradecore.ports.BrokerCapabilities.order_search` searches its listings for it
    (:class:`~tradecore.ports.OrderSearch`); found there, it is adopted. ``safe_window`` is
    never taken shorter than twice :data:`SEND_DEADLINE` (an order may be sent until then).

    :raises BrokerError: a lookup failed for another reason than "not found" (the caller keeps
        strategies off the connection).
    """
    async with repository.unit_of_work() as uow:
        open_orders = await uow.orders.list(
            connection.user_id, connection_id=connection.id, open_only=True
        )
    safe_window = max(safe_window, 2 * SEND_DEADLINE)
    updated = unresolved = not_placed = 0
    notes: list[Wording] = []
    for order in open_orders:
        current = await _reconcile_one(
            broker, order, clock, safe_window, max(1, lookups), lookup_interval
        )
        if current == order:
            unresolved += order.status in _UNRESOLVED
            continue
        async with repository.unit_of_work() as uow:
            await uow.orders.update(connection.user_id, evolve(current, updated_at=clock.now()))
            await uow.commit()
        if current.status is OrderStatus.NOT_PLACED:
            not_placed += 1
        elif current.missing_lookups > 0:  # not found this time, whatever it was before
            unresolved += 1
            continue  # only the count of lookups changed
        updated += 1
        notes.append(
            phrase(
                "{client_order_id} {order}: {status}",
                client_order_id=order.client_order_id,
                order=order_phrase(order),
                status=status_phrase(current.status),
            )
        )
    return ReconcileResult(
        checked=len(open_orders),
        updated=updated,
        unresolved=unresolved,
        not_placed=not_placed,
        notes=tuple(notes),
    )


async def _reconcile_one(
    broker: BrokerPort,
    order: Order,
    clock: Clock,
    safe_window: timedelta,
    lookups: int,
    interval: timedelta,
) -> Order:
    """``order`` as it now stands: the broker's view, more missed lookups, or ``NOT_PLACED``."""
    missing = order.missing_lookups
    while True:
        try:
            found = await _look_up(broker, order)
        except OrderNotFound:
            missing += 1
        else:
            adopted = adopt_reported(order, found)
            unchanged = (adopted.status, adopted.filled_quantity, adopted.broker_order_id) == (
                order.status,
                order.filled_quantity,
                order.broker_order_id,
            )
            return order if unchanged and order.missing_lookups == 0 else adopted
        waited = clock.now() - order.created_at
        if order.status not in _UNRESOLVED or waited < safe_window:
            return evolve(order, missing_lookups=missing)
        if missing >= lookups:
            listed = await _search(broker, order)
            if listed is not None:
                return adopt_reported(order, listed)
            searched = ", nor in the broker's order listings" if _order_search(broker) else ""
            reason = (
                f"never placed: not found by client id in {missing} lookups, the last "
                f"{_minutes(waited)} after it was recorded{searched}"
                + (f" (earlier: {order.reason})" if order.reason else "")
            )
            return evolve(
                order, status=OrderStatus.NOT_PLACED, missing_lookups=missing, reason=reason
            )
        await clock.sleep(interval.total_seconds())


async def refresh_order(
    *,
    repository: RepositoryPort,
    broker: BrokerPort,
    user_id: str,
    order: Order,
    clock: Clock,
    safe_window: timedelta = SAFE_WINDOW,
    lookups: int = NOT_PLACED_LOOKUPS,
    lookup_interval: timedelta = LOOKUP_INTERVAL,
) -> Order:
    """Look one order up by client id and record what the broker says (``tradecore order
    status``), by the rules of :func:`reconcile_orders`. A terminal order is returned as stored.
    """
    if order.is_terminal:
        return order
    safe_window = max(safe_window, 2 * SEND_DEADLINE)
    current = await _reconcile_one(
        broker, order, clock, safe_window, max(1, lookups), lookup_interval
    )
    if current == order:
        return order
    current = evolve(current, updated_at=clock.now())
    async with repository.unit_of_work() as uow:
        await uow.orders.update(user_id, current)
        await uow.commit()
    return current


def _minutes(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
