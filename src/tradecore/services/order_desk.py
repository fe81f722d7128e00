"""Use cases on a user's orders (:class:`Orders`): preview and place one by hand (with an
idempotency key and the choice of account), look one up at its broker, cancel one, list them.

Input is checked once, before anything is recorded or sent: amounts by
:func:`~tradecore.domain.checked_amount`, sides in any case (``buy``, ``BUY``, ``Buy``; stored
lowercase), symbols trimmed and, where the broker lists its instruments, checked against them (a
symbol differing only in case from one listed is taken in the broker's spelling; a broker that
cannot list them gives a note instead). Every lookup is scoped by the acting user: another user's
connection or order is "not found", exactly like one that does not exist. The order protocol
itself is :mod:`tradecore.services.manual_orders` and :mod:`tradecore.services.orders`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tradecore.domain import BrokerConnection, Instrument, Order, Side, new_id
from tradecore.errors import AlreadyExists, DomainError, InstrumentNotFound, NotFound, OrderBlocked
from tradecore.ports import BrokerPort, UnitOfWork
from tradecore.services.brokers import describe_broker_failure
from tradecore.services.connections import connection_by_name
from tradecore.services.context import ServiceContext
from tradecore.services.manual_orders import (
    ManualOrder,
    cancel_recorded_order,
    manual_client_order_id,
    manual_risk_gate,
    place_manual_order,
)
from tradecore.services.order_forms import (
    AccountNotChosen,
    ConnectionInactive,
    Estimate,
    KeyUsedElsewhere,
    OrderForm,
    OrderListing,
    OrderLookup,
    OrderPlacement,
    OrderStepFailed,
    OrderTicket,
    PlacementFailed,
)
from tradecore.services.orders import refresh_order
from tradecore.services.paging import OrdersPage, check_page_size, decode_cursor, encode_cursor
from tradecore.services.risk import notional_of
from tradecore.services.strategy_run import only_account

__all__ = ["Orders"]


def _same_request(recorded: Order, wanted: ManualOrder) -> bool:
    request = recorded.request
    return (
        request.connection_id,
        request.account_id,
        request.instrument.symbol,
        request.side,
        request.quantity,
        request.order_type,
        request.limit_price,
    ) == (
        wanted.connection_id,
        wanted.account_id,
        wanted.instrument.symbol,
        wanted.side,
        wanted.quantity,
        wanted.order_type,
        wanted.limit_price,
    )


async def _recorded(uow: UnitOfWork, user_id: str, client_order_id: str) -> Order | None:
    try:
        return await uow.orders.get(user_id, client_order_id)
    except NotFound:
        return None


class Orders:
    """The use cases on orders. Build it with the application's :class:`ServiceContext`;
    every method acts as the user whose id it is given."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    @asynccontextmanager
    async def _broker(self, connection: BrokerConnection) -> AsyncIterator[BrokerPort]:
        try:
            opened = self._context.open_broker(connection)
            broker = await opened.__aenter__()
        except Exception as exc:  # building the adapter or renewing its login
            raise self._failed(exc, connection, "opening the connection") from exc
        try:
            yield broker
        except BaseException as exc:
            if not await opened.__aexit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            await opened.__aexit__(None, None, None)

    @staticmethod
    def _failed(exc: Exception, connection: BrokerConnection, doing: str) -> OrderStepFailed:
        return OrderStepFailed(
            f"{doing} at {connection.name} ({connection.broker}) failed: "
            f"{describe_broker_failure(exc, connection)}"
        )

    async def _ticket(
        self, user_id: str, form: OrderForm, broker: BrokerPort, connection: BrokerConnection,
        existing: Order | None,
    ) -> tuple[ManualOrder, tuple[str, ...]]:  # fmt: skip
        try:
            await broker.authenticate()
        except Exception as exc:
            raise self._failed(exc, connection, "logging in") from exc
        if existing is not None and form.account is None:
            account_id = existing.request.account_id
        elif form.account is not None:
            account_id = form.account
        else:
            try:
                accounts = await broker.get_accounts()
            except Exception as exc:
                raise self._failed(exc, connection, "listing the accounts") from exc
            chosen = only_account(accounts)
            if chosen is None:
                raise AccountNotChosen(connection, tuple(each.account_id for each in accounts))
            account_id = chosen
        symbol, notes = form.symbol, tuple[str, ...]()
        if existing is None:
            symbol, notes = await self._listed(broker, connection, form.symbol)
        wanted = ManualOrder(
            connection_id=connection.id,
            account_id=account_id,
            instrument=Instrument(symbol=symbol),
            side=form.side,
            quantity=form.quantity,
            order_type=form.order_type,
            limit_price=form.limit_price,
            time_in_force=form.time_in_force,
            key=form.key or new_id(),
        )
        return wanted, notes

    @staticmethod
    async def _listed(
        broker: BrokerPort, connection: BrokerConnection, symbol: str
    ) -> tuple[str, tuple[str, ...]]:
        # The symbol as the broker spells it, when it lists its instruments.
        where = f"{connection.name} ({connection.broker})"
        try:
            listed = {asset.instrument.symbol for asset in await broker.get_assets()}
        except Exception as exc:
            reason = describe_broker_failure(exc, connection)
            return symbol, (f"{symbol} was not checked against {where}'s instruments: {reason}",)
        if not listed:
            return symbol, (f"{symbol} was not checked: {where} lists no instruments",)
        if symbol in listed:
            return symbol, ()
        alike = sorted(each for each in listed if each.casefold() == symbol.casefold())
        if len(alike) == 1:
            return alike[0], (f"{symbol} is spelled {alike[0]} at {where}",)
        raise InstrumentNotFound(
            f"{where} does not list the symbol {symbol!r}; symbols are written as the broker "
            "names them",
            broker=connection.broker,
        )

    async def _start(
        self, user_id: str, form: OrderForm
    ) -> tuple[BrokerConnection, Order | None, str | None]:
        async with self._context.repository.unit_of_work() as uow:
            connection = await connection_by_name(uow, user_id, form.connection)
            existing = None
            client_order_id = None
            if form.key is not None:
                client_order_id = manual_client_order_id(user_id, form.key)
                existing = await _recorded(uow, user_id, client_order_id)
        if not connection.active:
            raise ConnectionInactive(
                f"connection {connection.name} is inactive; orders are not sent to it"
            )
        if existing is not None and existing.request.connection_id != connection.id:
            raise KeyUsedElsewhere(form.key or "", existing.client_order_id)
        return connection, existing, client_order_id

    async def preview(self, user_id: str, form: OrderForm) -> OrderTicket:
        """What :meth:`place` would do with ``form``, to show before asking: the account, the
        symbol as the broker spells it, what it is worth now, the risk rule that would block
        it (:attr:`OrderTicket.blocked`), or the order already recorded under the key. Nothing
        is recorded or sent.

        :raises NotFound: the user has no connection with that name.
        :raises ConnectionInactive: the connection is disabled.
        :raises KeyUsedElsewhere: the key was used on another connection.
        :raises AccountNotChosen: no account given and the connection has not exactly one.
        :raises InstrumentNotFound: the broker lists its instruments and not this symbol.
        :raises OrderStepFailed: opening, logging in or listing the accounts failed.
        """
        connection, existing, _ = await self._start(user_id, form)
        async with self._broker(connection) as broker:
            wanted, notes = await self._ticket(user_id, form, broker, connection, existing)
            estimate = None if existing is not None else await self._estimate(broker, wanted)
        block = None
        if existing is None:
            async with self._context.repository.unit_of_work() as uow:
                gate = await manual_risk_gate(uow, user_id)
            notional = None if estimate is None else estimate.notional
            block = gate.check(wanted.instrument.symbol, notional, consume=False)
        return OrderTicket(
            connection=connection,
            wanted=wanted,
            existing=existing,
            estimate=estimate,
            notes=notes,
            blocked=None if block is None else block.rule.value,
            blocked_reason=None if block is None else str(block),
        )

    @staticmethod
    async def _estimate(broker: BrokerPort, wanted: ManualOrder) -> Estimate | None:
        quote = None
        if wanted.limit_price is None:
            try:
                quote = await broker.get_asset_price(wanted.instrument)
            except Exception:  # only an estimate: the risk check prices the order again
                return None
        notional = notional_of(
            wanted.side, wanted.quantity, limit_price=wanted.limit_price, quote=quote
        )
        if notional is None:
            return None
        if wanted.limit_price is not None:
            basis = "limit"
        elif quote is not None and (quote.ask if wanted.side is Side.BUY else quote.bid):
            basis = "ask" if wanted.side is Side.BUY else "bid"
        else:
            basis = "last"
        currency = quote.currency if quote is not None and quote.currency else None
        return Estimate(notional=notional, currency=currency, basis=basis)

    async def place(self, user_id: str, form: OrderForm) -> OrderPlacement:
        """Check ``form``, then record and send the order once by the order protocol
        (docs/orders.md), after the risk checks. With a key already used, the order recorded
        under it is looked up at the broker instead, never sent again.

        :raises OrderBlocked: a risk rule forbids it; nothing was recorded or sent.
        :raises PlacementFailed: placing it failed unexpectedly (it says whether it was
            recorded).
        :raises AlreadyExists: another caller recorded an order with the same key meanwhile.
        :raises: the errors of :meth:`preview`.
        """
        connection, existing, client_order_id = await self._start(user_id, form)
        async with self._broker(connection) as broker:
            wanted, notes = await self._ticket(user_id, form, broker, connection, existing)
            client_order_id = client_order_id or manual_client_order_id(user_id, wanted.key or "")
            try:
                placed = await place_manual_order(
                    repository=self._context.repository,
                    broker=broker,
                    user_id=user_id,
                    wanted=wanted,
                    clock=self._context.clock,
                    secrets=connection.secret_values(),
                )
            except (OrderBlocked, AlreadyExists, DomainError):
                raise
            except Exception as exc:
                async with self._context.repository.unit_of_work() as uow:
                    recorded = await _recorded(uow, user_id, client_order_id)
                raise PlacementFailed(
                    connection=connection,
                    client_order_id=client_order_id,
                    recorded=recorded,
                    reason=describe_broker_failure(exc, connection),
                ) from exc
        return OrderPlacement(
            connection=connection,
            order=placed.order,
            existed=placed.existed,
            differs=placed.existed and not _same_request(placed.order, wanted),
            notes=notes,
        )

    async def _look_up(self, user_id: str, client_order_id: str, *, cancel: bool) -> OrderLookup:
        async with self._context.repository.unit_of_work() as uow:
            before = await _recorded(uow, user_id, client_order_id.strip())
            if before is None:
                user = await uow.users.get(user_id)
                raise NotFound(f"{user.name} has no order with client id {client_order_id!r}")
            connection = await uow.connections.get(user_id, before.request.connection_id)
        if before.is_terminal:
            return OrderLookup(connection=connection, before=before, after=before)
        try:
            async with self._context.open_broker(connection) as broker:
                await broker.authenticate()
                action = cancel_recorded_order if cancel else refresh_order
                after = await action(
                    repository=self._context.repository,
                    broker=broker,
                    user_id=user_id,
                    order=before,
                    clock=self._context.clock,
                )
        except Exception as exc:
            error = describe_broker_failure(exc, connection)
            return OrderLookup(connection=connection, before=before, after=None, error=error)
        return OrderLookup(connection=connection, before=before, after=after)

    async def recorded(self, user_id: str, client_order_id: str) -> Order:
        """The user's order with that client id as recorded (no broker is asked).

        :raises NotFound: the user has no order with that client id (another user's is not
            found either).
        """
        async with self._context.repository.unit_of_work() as uow:
            found = await _recorded(uow, user_id, client_order_id.strip())
            if found is None:
                user = await uow.users.get(user_id)
                raise NotFound(f"{user.name} has no order with client id {client_order_id!r}")
        return found

    async def status(self, user_id: str, client_order_id: str) -> OrderLookup:
        """Look the user's order up at its broker by client id and record what it says; a
        finished order is returned as recorded, without asking.

        :raises NotFound: the user has no order with that client id.
        """
        return await self._look_up(user_id, client_order_id, cancel=False)

    async def cancel(self, user_id: str, client_order_id: str) -> OrderLookup:
        """Ask the broker to cancel the user's order and record what it says (safe to repeat);
        a finished order is returned as recorded.

        :raises NotFound: the user has no order with that client id.
        """
        return await self._look_up(user_id, client_order_id, cancel=True)

    async def list(
        self,
        user_id: str,
        *,
        connection: str | None = None,
        open_only: bool = False,
        limit: int | None = None,
    ) -> OrderListing:
        """The user's recorded orders, oldest first (the newest ``limit``), as recorded: no
        broker is asked.

        :param connection: only the orders of the user's connection with that name.
        :raises NotFound: the user has no connection with that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            connection_id = None
            if connection is not None:
                connection_id = (await connection_by_name(uow, user_id, connection)).id
            found = await uow.orders.list(
                user_id, connection_id=connection_id, open_only=open_only, limit=limit
            )
            connections = tuple(await uow.connections.list(user_id))
            names = {each.id: each.name for each in await uow.strategies.list(user_id)}
        return OrderListing(orders=tuple(found), connections=connections, strategy_names=names)

    async def page(
        self,
        user_id: str,
        *,
        connection: str | None = None,
        open_only: bool = False,
        cursor: str | None = None,
        limit: int = 50,
    ) -> OrdersPage:
        """One page of the user's recorded orders, newest first (by creation), as recorded: no
        broker is asked. Only the page is read, however many orders the user has.

        :param connection: only the orders of the user's connection with that name.
        :param open_only: only the orders not finished yet.
        :param cursor: the ``next_cursor`` of the previous page; ``None`` for the first page.
        :param limit: how many orders a page holds, 1 to 500.
        :raises DomainError: ``limit`` is out of range, or the cursor is not one a page of
            orders gave out.
        :raises NotFound: no such user, or the user has no connection with that name.
        """
        check_page_size(limit)
        before = decode_cursor("orders", cursor)
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.get(user_id)
            connection_id = None
            if connection is not None:
                connection_id = (await connection_by_name(uow, user_id, connection)).id
            page = await uow.orders.page(
                user_id,
                connection_id=connection_id,
                open_only=open_only,
                before=before,
                limit=limit,
            )
            connections = tuple(await uow.connections.list(user_id))
            names = {each.id: each.name for each in await uow.strategies.list(user_id)}
        return OrdersPage(
            items=page.items,
            next_cursor=encode_cursor("orders", page.next),
            connections=connections,
            strategy_names=names,
        )
