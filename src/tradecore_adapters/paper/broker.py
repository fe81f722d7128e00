"""The :class:`PaperBroker`: the :class:`~tradecore.ports.BrokerPort` of the simulated venue."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from tradecore.domain import (
    Account,
    Asset,
    AssetType,
    BrokerConnection,
    Instrument,
    OAuthTokens,
    Order,
    OrderRequest,
    OrderType,
    Position,
    Quote,
    TradePage,
)
from tradecore.errors import BrokerError, OrderRejected
from tradecore.ports import (
    BrokerCapabilities,
    BrokerContext,
    BrokerInfo,
    Clock,
    RateLimits,
    VenueEntry,
    VenueStore,
    VenueTransaction,
)
from tradecore.services.venues import LocalVenueStore
from tradecore_adapters.paper import _mapping as mapping
from tradecore_adapters.paper._client import (
    PaperVenue,
    VenueError,
    VenueOrder,
    quote_at,
)
from tradecore_adapters.paper._errors import BROKER, venue_errors
from tradecore_adapters.paper._fills import PAGE_SIZE, read_page
from tradecore_adapters.paper._state import dump_fill, dump_state, load_state
from tradecore_adapters.paper.config import PaperConfig

__all__ = ["INFO", "PAGE_SIZE", "PaperBroker"]

_T = TypeVar("_T")


INFO = BrokerInfo(
    name=BROKER,
    display_name="Paper (simulated)",
    capabilities=BrokerCapabilities(
        order_types={OrderType.MARKET, OrderType.LIMIT},
        asset_types={AssetType.SPOT, AssetType.STOCK, AssetType.FX},
    ),
    rate_limits=RateLimits(note="simulated in process; no limits"),
)


class PaperBroker:
    """A simulated broker with one account, ``"paper"``, and a handful of instruments.

    Prices are deterministic in the seed and the clock; the account starts with
    ``starting_cash``, has a deterministic fill history from ``history_days`` before the
    connection was created up to now, and trades against the simulated prices:

    * a market order fills at once (buys at the ask, sells at the bid); a limit order fills at
      once when marketable, otherwise rests ``OPEN`` (its cash or holding reserved) and fills at
      its limit price on the first call that sees the price cross it; ``IOC``/``FOK`` limits that
      cannot fill expire, ``DAY`` limits expire at the next midnight UTC;
    * fees are 0.1% of the notional, in the account currency;
    * a buy costing more than the free cash raises :class:`~tradecore.errors.InsufficientFunds`;
      selling more than the free holding, an unknown instrument, or a quantity or price off the
      instrument's lot or tick raise :class:`~tradecore.errors.OrderRejected`;
    * a duplicate ``client_order_id`` places nothing: ``place_order`` raises
      :class:`~tradecore.errors.OrderExists` (the caller looks the existing order up);
    * the venue (orders, balances, fills) lives in ``store``: tradecore gives every broker the
      connection's venue in its database (``BrokerContext.venue``), so an order placed by one
      process is found, filled or cancelled by the next, and its fills reach positions and
      trades. A call that changes the venue is one transaction of the store, under the venue's
      lock: it loads the venue, moves it to the clock's time (history fills due, resting orders
      crossed), does what was asked and saves it; a call that finds nothing to change (a price,
      the positions, an order's status, the trades, with nothing due) reads the committed venue
      without the lock. Changing the connection's settings opens a new venue (its orders and
      fills are forgotten).

    After :meth:`aclose` every call raises :class:`RuntimeError`.

    :param connection: the ``paper`` connection; its ``created_at`` anchors the history.
    :param clock: the only source of time.
    :param config: the settings; parsed from ``connection.settings`` when omitted.
    :param store: where the venue is kept; when omitted, in this broker's memory only (a
        :class:`~tradecore.services.venues.LocalVenueStore`).
    :raises ConfigurationError: the connection's settings are unusable.
    """

    def __init__(
        self,
        connection: BrokerConnection,
        *,
        clock: Clock,
        config: PaperConfig | None = None,
        store: VenueStore | None = None,
    ) -> None:
        self._config = (
            config if config is not None else PaperConfig.from_settings(connection.settings)
        )
        self._connection = connection
        self._connection_id = connection.id
        self._clock = clock
        self._store: VenueStore = store if store is not None else LocalVenueStore()
        venue = open_venue(connection, self._config, clock)
        self._instruments = {item.symbol: item for item in venue.instruments()}
        # What this broker last read or wrote of the venue: until when nothing of it comes due
        # (see get_asset_price), and the last state text with its values (not parsed twice).
        self._calm_until: datetime | None = None
        self._parsed: tuple[str, dict[str, Any]] | None = None
        self._requests = 0
        self._closed = False

    @classmethod
    def create(cls, connection: BrokerConnection, context: BrokerContext) -> PaperBroker:
        """The factory tradecore calls: no I/O, time from ``context.clock``, the venue in
        ``context.venue``. Nothing is kept between calls: each broker reads the venue from the
        store.

        :raises ConfigurationError: the connection's settings are unusable.
        """
        return cls(connection, clock=context.clock, store=context.venue)

    @property
    def config(self) -> PaperConfig:
        """The settings in use."""
        return self._config

    @property
    def info(self) -> BrokerInfo:
        """``paper``, ``Paper (simulated)``: market and limit orders on spot, stock and fx."""
        return INFO

    async def authenticate(self) -> None:
        """Succeed: the paper broker needs no credentials."""
        self._enter()

    async def refresh_auth_token(self) -> OAuthTokens | None:
        """Return ``None``: no OAuth."""
        self._enter()
        return None

    async def get_accounts(self) -> Sequence[Account]:
        """Return the single account ``"paper"``."""
        self._enter()
        return [mapping.to_account(self._connection_id, self._config.currency)]

    async def get_positions(self, account: Account) -> Sequence[Position]:
        """Return every non-zero holding at the current price, then the cash."""
        self._enter()
        account_id = self._account_id(account)
        with venue_errors():
            cash, holdings = await self._look(lambda venue: venue.holdings(account_id))
        return mapping.to_positions(
            cash,
            holdings,
            self._instruments,
            connection_id=self._connection_id,
            currency=self._config.currency,
            as_of=self._clock.now(),
        )

    async def get_trades(self, account: Account, *, cursor: str | None = None) -> TradePage:
        """Return up to :data:`PAGE_SIZE` fills after ``cursor``, oldest first."""
        self._enter()
        account_id = self._account_id(account)
        with venue_errors():
            page = None
            async with self._store.snapshot() as snapshot:  # nothing due: no lock, no write
                venue = self._loaded(snapshot.state)
                if venue is not None:
                    venue.advance(account_id)
                    if not venue.changed:
                        page = await read_page(venue, snapshot, cursor)
            if page is None:
                async with self._venue() as (venue, transaction):
                    venue.advance(account_id)
                    await self._save(venue, transaction)  # the fills just executed are listed
                    page = await read_page(venue, transaction, cursor)
        trades = [
            mapping.to_trade(
                fill, self._instruments[fill.symbol], connection_id=self._connection_id
            )
            for fill in page.fills
        ]
        return TradePage(trades=trades, cursor=page.cursor, has_more=page.has_more)

    async def get_assets(self) -> Sequence[Asset]:
        """Return the listed instruments with their lot and tick sizes."""
        self._enter()
        return [mapping.to_asset(item) for item in self._instruments.values()]

    async def get_asset_price(self, instrument: Instrument) -> Quote:
        """Return the current bid, ask and last price of ``instrument`` (matched by symbol).

        A price is a pure function of the seed, the symbol and the minute. While the venue as
        this broker last read or wrote it has nothing that can come due (no resting order, the
        next history fill later than now), the price is all that is computed; otherwise the
        venue is read (and moved on) as by every other request.

        :raises InstrumentNotFound: the symbol is not listed.
        """
        self._enter()
        item = self._instruments.get(instrument.symbol)
        now = self._clock.now()
        if item is not None and self._calm_until is not None and now < self._calm_until:
            return mapping.to_quote(quote_at(self._config.seed, item, now), item)
        with venue_errors():
            quote = await self._look(lambda venue: venue.quote(instrument.symbol))
        return mapping.to_quote(quote, self._instruments[quote.symbol])

    async def place_order(self, request: OrderRequest) -> Order:
        """Place ``request`` as described in the class docstring.

        :raises OrderRejected: refused and not placed (``InsufficientFunds`` for a lack of cash).
        """
        self._enter()
        if request.connection_id != self._connection_id:
            raise OrderRejected(
                f"paper: order for connection {request.connection_id!r} sent to "
                f"{self._connection_id!r}",
                broker=BROKER,
                code="wrong_connection",
            )
        with venue_errors(placing=True, client_order_id=request.client_order_id):
            async with self._venue() as (venue, _):
                order = venue.submit(request.account_id, mapping.to_ticket(request))
        return self._order(order)

    async def cancel_order(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Cancel an open order; a filled, cancelled or expired one is returned unchanged.

        The venue finds orders by client id alone, so ``instrument`` is not needed.

        :raises OrderNotFound: no order with that client id on this broker.
        """
        self._enter()
        account_id = self._account_id(account)
        with venue_errors():
            async with self._venue() as (venue, _):
                order = venue.cancel(account_id, client_order_id)
        return self._order(order)

    async def get_order_status(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Look an order up by client id (settling a resting limit whose price was crossed).

        The venue finds orders by client id alone, so ``instrument`` is not needed.

        :raises OrderNotFound: no order with that client id on this broker.
        """
        self._enter()
        account_id = self._account_id(account)
        with venue_errors():
            order = await self._look(lambda venue: venue.order(account_id, client_order_id))
        return self._order(order)

    def api_figures(self) -> Mapping[str, str]:
        """Return ``{"requests": <calls made to the venue>}``."""
        return {"requests": str(self._requests)}

    async def aclose(self) -> None:
        """Close the broker; closing twice is harmless."""
        self._closed = True

    async def _look(self, request: Callable[[PaperVenue], _T]) -> _T:
        # A request that usually changes nothing (a price, the positions, an order's status):
        # answered from the committed venue when nothing is due, without the lock; otherwise
        # redone in a transaction, so that what became due is saved.
        async with self._store.snapshot() as snapshot:
            venue = self._loaded(snapshot.state)
            if venue is not None:
                try:
                    answer = request(venue)
                except VenueError:
                    if not venue.changed:
                        raise
                else:
                    if not venue.changed:
                        return answer
        async with self._venue() as (venue, _):
            return request(venue)

    def _loaded(self, state: str | None) -> PaperVenue | None:
        # The saved venue, or None when there is none for these settings.
        if state is None:
            return None
        if self._parsed is not None and self._parsed[0] == state:
            saved = self._parsed[1]  # restore() copies what it keeps: the values stay as read
        else:
            saved = load_state(state)
            self._parsed = (state, saved)
        venue = open_venue(self._connection, self._config, self._clock)
        if saved["venue"] != venue.settings:
            return None
        venue.restore(saved)
        self._calm_until = venue.calm_until()
        return venue

    @asynccontextmanager
    async def _venue(self) -> AsyncIterator[tuple[PaperVenue, VenueTransaction]]:
        # The venue as saved, under its lock; saved again when the block ends, also when the
        # venue refused the request: what it did before refusing (settling resting orders) is
        # committed, and the refusal raised once the transaction is over.
        refused: VenueError | None = None
        async with self._store.transaction() as transaction:
            venue = self._loaded(transaction.state)
            if venue is None:
                if transaction.state is not None:  # other settings: a new venue, nothing old
                    await transaction.clear()
                venue = open_venue(self._connection, self._config, self._clock)
            try:
                yield venue, transaction
            except VenueError as exc:
                refused = exc
            await self._save(venue, transaction)
        if refused is not None:
            raise refused

    async def _save(self, venue: PaperVenue, transaction: VenueTransaction) -> None:
        # Append the new fills to the log and write the state, when anything changed.
        if venue.new_fills:
            await transaction.add_entries(
                [VenueEntry(number, dump_fill(fill)) for number, fill in venue.new_fills]
            )
        if venue.changed or transaction.state is None:
            values = venue.to_state()
            text = dump_state(values)
            await transaction.save(text)
            self._parsed = (text, values)
        venue.new_fills, venue.changed = [], False
        self._calm_until = venue.calm_until()

    def _enter(self) -> None:
        if self._closed:
            raise RuntimeError("the paper broker is closed")
        self._requests += 1

    def _account_id(self, account: Account) -> str:
        if account.connection_id != self._connection_id:
            raise BrokerError(
                f"paper: account of connection {account.connection_id!r} asked of "
                f"{self._connection_id!r}",
                broker=BROKER,
                code="wrong_connection",
            )
        return account.account_id

    def _order(self, order: VenueOrder) -> Order:
        item = self._instruments[order.ticket.symbol]
        return mapping.to_order(order, item, connection_id=self._connection_id)


def open_venue(connection: BrokerConnection, config: PaperConfig, clock: Clock) -> PaperVenue:
    """A new simulated account for ``connection``: its history starts ``history_days`` before
    the connection was created."""
    return PaperVenue(
        seed=config.seed,
        currency=config.currency,
        starting_cash=config.starting_cash,
        history_start=connection.created_at - timedelta(days=config.history_days),
        activity=timedelta(minutes=config.activity_minutes),
        clock=clock,
    )
