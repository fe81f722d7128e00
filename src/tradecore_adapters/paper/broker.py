"""The :class:`PaperBroker`: the :class:`~tradecore.ports.BrokerPort` of the simulated venue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

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
from tradecore.ports import BrokerCapabilities, BrokerContext, BrokerInfo, Clock, RateLimits
from tradecore_adapters.paper import _mapping as mapping
from tradecore_adapters.paper._client import PaperVenue, VenueOrder
from tradecore_adapters.paper._errors import BROKER, venue_errors
from tradecore_adapters.paper.config import PaperConfig

__all__ = ["INFO", "PAGE_SIZE", "PaperBroker"]

PAGE_SIZE = 500
"""The most fills one ``get_trades`` call returns."""

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
    * a duplicate ``client_order_id`` places nothing: ``place_order`` returns the existing order
      unchanged (a duplicate means the order exists);
    * orders live in the venue's memory: brokers built by one :class:`PaperExchange` (one per
      loaded plugin registry, so one per application) share it across cycles; a new process no
      longer knows them, and a cursor from another venue yields only history fills.

    After :meth:`aclose` every call raises :class:`RuntimeError`.

    :param connection: the ``paper`` connection; its ``created_at`` anchors the history.
    :param clock: the only source of time.
    :param config: the settings; parsed from ``connection.settings`` when omitted.
    :param venue: the simulated account to trade on; a new one when omitted (see
        :class:`PaperExchange`, which keeps one per connection across cycles).
    :raises ConfigurationError: the connection's settings are unusable.
    """

    def __init__(
        self,
        connection: BrokerConnection,
        *,
        clock: Clock,
        config: PaperConfig | None = None,
        venue: PaperVenue | None = None,
    ) -> None:
        self._config = (
            config if config is not None else PaperConfig.from_settings(connection.settings)
        )
        self._connection_id = connection.id
        self._clock = clock
        self._venue = venue if venue is not None else open_venue(connection, self._config, clock)
        self._instruments = {item.symbol: item for item in self._venue.instruments()}
        self._requests = 0
        self._closed = False

    @classmethod
    def create(cls, connection: BrokerConnection, context: BrokerContext) -> PaperBroker:
        """The factory tradecore calls: no I/O, time from ``context.clock``.

        :raises ConfigurationError: the connection's settings are unusable.
        """
        return cls(connection, clock=context.clock)

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
        with venue_errors():
            cash, holdings = self._venue.holdings(self._account_id(account))
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
        with venue_errors():
            page = self._venue.fills(self._account_id(account), cursor, PAGE_SIZE)
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

        :raises InstrumentNotFound: the symbol is not listed.
        """
        self._enter()
        with venue_errors():
            quote = self._venue.quote(instrument.symbol)
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
        with venue_errors(placing=True):
            order = self._venue.submit(request.account_id, mapping.to_ticket(request))
        return self._order(order)

    async def cancel_order(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Cancel an open order; a filled, cancelled or expired one is returned unchanged.

        The venue finds orders by client id alone, so ``instrument`` is not needed.

        :raises OrderNotFound: no order with that client id on this broker.
        """
        self._enter()
        with venue_errors():
            order = self._venue.cancel(self._account_id(account), client_order_id)
        return self._order(order)

    async def get_order_status(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Look an order up by client id (settling a resting limit whose price was crossed).

        The venue finds orders by client id alone, so ``instrument`` is not needed.

        :raises OrderNotFound: no order with that client id on this broker.
        """
        self._enter()
        with venue_errors():
            order = self._venue.order(self._account_id(account), client_order_id)
        return self._order(order)

    def api_figures(self) -> Mapping[str, str]:
        """Return ``{"requests": <calls made to the venue>}``."""
        return {"requests": str(self._requests)}

    async def aclose(self) -> None:
        """Close the broker; closing twice is harmless."""
        self._closed = True

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
    """Open a new simulated account for ``connection``: its history starts ``history_days``
    before the connection was created."""
    return PaperVenue(
        seed=config.seed,
        currency=config.currency,
        starting_cash=config.starting_cash,
        history_start=connection.created_at - timedelta(days=config.history_days),
        activity=timedelta(minutes=config.activity_minutes),
        clock=clock,
    )


class PaperExchange:
    """The simulated exchange of one application: one venue per connection, kept across cycles,
    so an order placed in one cycle is still there (open, filled or cancelled) in the next.

    A venue is opened again when the connection's settings change.
    """

    def __init__(self) -> None:
        self._venues: dict[str, tuple[PaperConfig, PaperVenue]] = {}

    def create(self, connection: BrokerConnection, context: BrokerContext) -> PaperBroker:
        """The factory tradecore calls: no I/O, time from ``context.clock``.

        :raises ConfigurationError: the connection's settings are unusable.
        """
        config = PaperConfig.from_settings(connection.settings)
        known = self._venues.get(connection.id)
        if known is None or known[0] != config:
            known = (config, open_venue(connection, config, context.clock))
            self._venues[connection.id] = known
        return PaperBroker(connection, clock=context.clock, config=config, venue=known[1])
