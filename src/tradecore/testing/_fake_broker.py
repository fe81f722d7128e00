"""A scriptable in-memory :class:`~tradecore.ports.BrokerPort` for tests of services."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from attrs import evolve

from tradecore.domain import (
    Account,
    Asset,
    Instrument,
    OAuthTokens,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
    Trade,
    TradePage,
)
from tradecore.errors import (
    BrokerError,
    InstrumentNotFound,
    OrderExists,
    OrderNotFound,
    OrderRejected,
)
from tradecore.ports.broker import BrokerCapabilities, BrokerInfo, BrokerPort, OrderSearch

__all__ = ["FakeBroker"]

BROKER_METHODS = frozenset(
    name
    for port in (BrokerPort, OrderSearch)
    for name, member in vars(port).items()
    if inspect.iscoroutinefunction(member)
)
"""The asynchronous :class:`BrokerPort` methods a :class:`FakeBroker` records and can fail."""


class _Now(Protocol):
    def now(self) -> datetime: ...


class FakeBroker:
    """An in-memory broker whose data, failures and timing a test controls.

    Behaviour, kept deliberately simple:

    * ``get_trades`` pages through each account's fills in the order they were added; the cursor
      is the number of fills already returned, as a string.
    * A market order fills at once at the quote's ``last`` price; a limit order fills at once at
      ``last`` when marketable (a buy at or above the ask, a sell at or below the bid, ``last``
      when the quote has no bid/ask) and otherwise rests ``OPEN`` until cancelled. A fill appends
      a :class:`Trade` to the account (visible after the current cursor); positions are only
      what the test gives (:meth:`set_positions`), fills do not move them.
    * A duplicate ``client_order_id`` does not create a second order: ``place_order`` raises
      :class:`~tradecore.errors.OrderExists` (per the order protocol, the caller then looks the
      existing order up).
      An order for an account or an instrument the broker does not know raises
      :class:`OrderRejected` (a definitive refusal, unlike ``InstrumentNotFound``).
    * Like Binance, ``get_order_status`` and ``cancel_order`` find an order only within its
      account and the symbol of the ``instrument`` given; elsewhere it is ``OrderNotFound``.
    * ``search_order`` (:class:`~tradecore.ports.OrderSearch`, used by the order protocol only
      when ``capabilities`` declares ``order_search``) lists every order of the request's
      account and symbol recorded since ``since``, by client id: a test makes the lookup lie
      with ``fail("get_order_status", OrderNotFound(...))`` while the listing tells the truth.
    * After :meth:`aclose`, every method except ``aclose`` raises :class:`RuntimeError`: using a
      closed adapter is a bug in the caller, not a transient broker failure.

    :param clock: anything with ``now()``; stamps orders, fills and positions.
    :param connection_id: the connection the default account and new fills belong to.
    :param name: :attr:`BrokerInfo.name`, also used in errors and generated ids.
    :param accounts: the accounts; by default one account ``"main"`` in USD.
    :param positions: the positions, filed under their ``account_id``.
    :param trades: the fills, filed under their ``account_id`` in the given order.
    :param quotes: the prices; their instruments are also the assets and the tradable set.
    :param page_size: how many fills one ``get_trades`` call returns at most.
    :param capabilities: the capabilities :attr:`info` declares.
    :param tokens: what :meth:`refresh_auth_token` returns (``None``: no OAuth).
    """

    def __init__(
        self,
        *,
        clock: _Now,
        connection_id: str = "fake-connection",
        name: str = "fake",
        accounts: Sequence[Account] | None = None,
        positions: Iterable[Position] = (),
        trades: Iterable[Trade] = (),
        quotes: Iterable[Quote] = (),
        page_size: int = 100,
        capabilities: BrokerCapabilities | None = None,
        tokens: OAuthTokens | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._clock = clock
        self.connection_id = connection_id
        self._info = BrokerInfo(
            name=name,
            display_name=f"Fake ({name})",
            capabilities=capabilities or BrokerCapabilities(),
        )
        main = Account(connection_id=connection_id, account_id="main", name="Main", currency="USD")
        self._accounts = [main] if accounts is None else list(accounts)
        self._positions: dict[str, list[Position]] = {}
        for position in positions:
            self._positions.setdefault(position.account_id, []).append(position)
        self._trades: dict[str, list[Trade]] = {}
        for trade in trades:
            self.add_trade(trade)
        self._quotes = {quote.instrument.symbol: quote for quote in quotes}
        self._page_size = page_size
        self._tokens = tokens
        self._failures: dict[str, tuple[BaseException, int | None]] = {}
        self._sequence = 0
        self.orders: dict[str, Order] = {}
        """Every order placed, by client order id (tests may inspect or replace them)."""
        self.calls: list[str] = []
        """The names of the asynchronous methods called, in call order (failed calls included)."""
        self.before_call: Callable[[str], Awaitable[None]] | None = None
        """Awaited with the method name at the start of every asynchronous method."""
        self.closed = False

    # -- scripting -------------------------------------------------------------------------------

    def fail(self, method: str, exc: BaseException, *, times: int | None = None) -> None:
        """Make ``method`` raise ``exc`` from now on.

        :param method: an asynchronous :class:`BrokerPort` method name (``"get_positions"``…).
        :param exc: the exception to raise (the same instance every time).
        :param times: fail only this many calls, then work again; ``None`` fails until
            :meth:`clear_failures`.
        :raises ValueError: ``method`` is not a broker method, or ``times`` is below 1.
        """
        if method not in BROKER_METHODS:
            raise ValueError(f"{method!r} is not one of {', '.join(sorted(BROKER_METHODS))}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        self._failures[method] = (exc, times)

    def clear_failures(self, method: str | None = None) -> None:
        """Stop failing ``method`` (every method when ``None``)."""
        if method is None:
            self._failures.clear()
        else:
            self._failures.pop(method, None)

    def set_quote(self, quote: Quote) -> None:
        """Add or replace the price of ``quote.instrument`` (resting orders are not re-checked)."""
        self._quotes[quote.instrument.symbol] = quote

    def add_trade(self, trade: Trade) -> None:
        """Append a fill to its account, as if it had just happened at the broker."""
        self._trades.setdefault(trade.account_id, []).append(trade)

    def set_positions(self, account_id: str, positions: Iterable[Position]) -> None:
        """Replace every position of ``account_id``."""
        self._positions[account_id] = list(positions)

    # -- BrokerPort ------------------------------------------------------------------------------

    @property
    def info(self) -> BrokerInfo:
        """The broker's name and capabilities as given to the constructor."""
        return self._info

    async def authenticate(self) -> None:
        """Do nothing (after the scripted checks)."""
        await self._enter("authenticate")

    async def refresh_auth_token(self) -> OAuthTokens | None:
        """Return the ``tokens`` given to the constructor."""
        await self._enter("refresh_auth_token")
        return self._tokens

    async def get_accounts(self) -> Sequence[Account]:
        """Return the accounts."""
        await self._enter("get_accounts")
        return list(self._accounts)

    async def get_positions(self, account: Account) -> Sequence[Position]:
        """Return the positions filed under ``account.account_id``."""
        await self._enter("get_positions")
        return list(self._positions.get(account.account_id, ()))

    async def get_trades(self, account: Account, *, cursor: str | None = None) -> TradePage:
        """Return up to ``page_size`` fills of ``account`` after ``cursor``."""
        await self._enter("get_trades")
        trades = self._trades.get(account.account_id, [])
        start = 0 if cursor is None else int(cursor) if cursor.isdigit() else -1
        if not 0 <= start <= len(trades):
            raise BrokerError(f"invalid trade cursor {cursor!r}", broker=self._name, code="cursor")
        page = trades[start : start + self._page_size]
        end = start + len(page)
        return TradePage(trades=page, cursor=str(end), has_more=end < len(trades))

    async def get_assets(self) -> Sequence[Asset]:
        """Return one tradable asset per quoted instrument."""
        await self._enter("get_assets")
        return [
            Asset(instrument=quote.instrument, currency=quote.currency)
            for quote in self._quotes.values()
        ]

    async def get_asset_price(self, instrument: Instrument) -> Quote:
        """Return the quote of ``instrument``'s symbol."""
        await self._enter("get_asset_price")
        if instrument.symbol not in self._quotes:
            raise InstrumentNotFound(f"unknown instrument {instrument.symbol!r}", broker=self._name)
        return self._quotes[instrument.symbol]

    async def place_order(self, request: OrderRequest) -> Order:
        """Fill or rest the order as described in the class docstring."""
        await self._enter("place_order")
        if request.client_order_id in self.orders:
            raise OrderExists(
                f"an order with client id {request.client_order_id} exists",
                broker=self._name,
                client_order_id=request.client_order_id,
            )
        quote = self._quotes.get(request.instrument.symbol)
        if quote is None or request.account_id not in {a.account_id for a in self._accounts}:
            raise OrderRejected(
                f"unknown account {request.account_id!r} or symbol {request.instrument.symbol!r}",
                broker=self._name,
            )
        self._sequence += 1
        order = Order(
            request=request,
            status=OrderStatus.OPEN,
            broker_order_id=f"{self._name}-order-{self._sequence}",
            created_at=self._clock.now(),
        )
        if request.order_type is OrderType.MARKET or _marketable(request, quote):
            order = self._fill(order, quote)
        self.orders[request.client_order_id] = order
        return order

    async def cancel_order(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Cancel an open order; a terminal one is returned unchanged."""
        await self._enter("cancel_order")
        order = self._order(account, client_order_id, instrument)
        if not order.is_terminal:
            order = evolve(order, status=OrderStatus.CANCELED, updated_at=self._clock.now())
            self.orders[client_order_id] = order
        return order

    async def get_order_status(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Return the order placed with ``client_order_id``."""
        await self._enter("get_order_status")
        return self._order(account, client_order_id, instrument)

    async def search_order(self, request: OrderRequest, *, since: datetime) -> Order:
        """Return the order placed with ``request``'s client id on its account and symbol at
        ``since`` or later."""
        await self._enter("search_order")
        order = self.orders.get(request.client_order_id)
        if order is None or order.created_at < since:
            raise OrderNotFound(
                f"no order {request.client_order_id!r} listed since {since:%Y-%m-%d %H:%M:%S}",
                broker=self._name,
            )
        account = Account(connection_id=request.connection_id, account_id=request.account_id)
        return self._order(account, request.client_order_id, request.instrument)

    def api_figures(self) -> Mapping[str, str]:
        """Return ``{"requests": <number of asynchronous calls>}``."""
        return {"requests": str(len(self.calls))}

    async def aclose(self) -> None:
        """Mark the broker closed; closing twice is harmless."""
        await self._enter("aclose", closing=True)
        self.closed = True

    # -- internals -------------------------------------------------------------------------------

    @property
    def _name(self) -> str:
        return self._info.name

    async def _enter(self, method: str, *, closing: bool = False) -> None:
        self.calls.append(method)
        if self.before_call is not None:
            await self.before_call(method)
        if self.closed and not closing:
            raise RuntimeError(f"FakeBroker {self._name!r} is closed; {method} is not allowed")
        failure = self._failures.get(method)
        if failure is not None:
            exc, times = failure
            if times == 1:
                del self._failures[method]
            elif times is not None:
                self._failures[method] = (exc, times - 1)
            raise exc

    def _order(self, account: Account, client_order_id: str, instrument: Instrument) -> Order:
        order = self.orders.get(client_order_id)
        if (
            order is None
            or order.request.account_id != account.account_id
            or order.request.instrument.symbol != instrument.symbol
        ):
            raise OrderNotFound(f"no order {client_order_id!r}", broker=self._name)
        return order

    def _fill(self, order: Order, quote: Quote) -> Order:
        request, now = order.request, self._clock.now()
        self.add_trade(
            Trade(
                connection_id=request.connection_id,
                account_id=request.account_id,
                broker_trade_id=f"{self._name}-fill-{self._sequence}",
                broker_order_id=order.broker_order_id,
                client_order_id=request.client_order_id,
                instrument=request.instrument,
                side=request.side,
                quantity=request.quantity,
                price=quote.last,
                fee_asset=quote.currency,
                executed_at=now,
            )
        )
        return evolve(
            order,
            status=OrderStatus.FILLED,
            filled_quantity=request.quantity,
            average_fill_price=quote.last,
            updated_at=now,
        )


def _marketable(request: OrderRequest, quote: Quote) -> bool:
    limit = request.limit_price
    assert limit is not None  # OrderRequest guarantees it for limit orders
    if request.side is Side.BUY:
        return limit >= (quote.ask or quote.last)
    return limit <= (quote.bid or quote.last)
