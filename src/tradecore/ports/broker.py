"""The :class:`BrokerPort`: what tradecore needs from any broker, in domain types only.

A broker adapter is built per connection (see :class:`tradecore.ports.factories.BrokerFactory`)
and closed with :meth:`BrokerPort.aclose` when the cycle is done with it. Errors are the ones in
:mod:`tradecore.errors`; a vendor exception never escapes an adapter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from attrs import field, frozen

from tradecore.domain import (
    Account,
    Asset,
    AssetType,
    Instrument,
    OAuthTokens,
    Order,
    OrderRequest,
    OrderType,
    Position,
    Quote,
    TradePage,
)

__all__ = ["BrokerCapabilities", "BrokerInfo", "BrokerPort", "OrderSearch", "RateLimits"]


def _order_types(value: Iterable[OrderType]) -> frozenset[OrderType]:
    return frozenset(OrderType(item) for item in value)


def _asset_types(value: Iterable[AssetType]) -> frozenset[AssetType]:
    return frozenset(AssetType(item) for item in value)


@frozen(kw_only=True)
class BrokerCapabilities:
    """What a broker can do, as typed facts (no capability dicts).

    :param oauth: the broker uses OAuth tokens that must be refreshed.
    :param order_types: the order types :meth:`BrokerPort.place_order` accepts.
    :param asset_types: the kinds of instrument it trades.
    :param incremental_trades: ``get_trades`` honours its cursor (otherwise it returns a window).
    :param order_search: the adapter also implements :class:`OrderSearch`: an order the lookup by
        client id does not find can be searched for in the broker's listings (orders, fills,
        activity log) before it is concluded never placed. Off by default: then the lookup by
        client id is the only one.
    """

    oauth: bool = False
    order_types: frozenset[OrderType] = field(
        default=frozenset({OrderType.MARKET, OrderType.LIMIT}), converter=_order_types
    )
    asset_types: frozenset[AssetType] = field(
        default=frozenset({AssetType.SPOT}), converter=_asset_types
    )
    incremental_trades: bool = True
    order_search: bool = False


@frozen(kw_only=True)
class RateLimits:
    """The broker's published limits, for operators and the scheduler.

    :param requests_per_minute: the request budget per minute, when published.
    :param orders_per_second: the order budget per second, when published.
    :param note: anything else worth knowing, in words.
    """

    requests_per_minute: int | None = None
    orders_per_second: int | None = None
    note: str = ""


@frozen(kw_only=True)
class BrokerInfo:
    """Who the broker is and what it can do.

    :param name: the plugin name (``paper``), as in :attr:`BrokerConnection.broker`.
    :param display_name: the name shown to people (``Paper (simulated)``).
    """

    name: str
    display_name: str
    capabilities: BrokerCapabilities = field(factory=BrokerCapabilities)
    rate_limits: RateLimits = field(factory=RateLimits)
    docs_url: str | None = None


@runtime_checkable
class BrokerPort(Protocol):
    """One connection to one broker.

    Reads may be retried by the adapter; :meth:`place_order` never is. When the outcome of a
    placement is uncertain it raises :class:`~tradecore.errors.OrderOutcomeUnknown` and the caller
    looks the order up with :meth:`get_order_status`.
    """

    @property
    def info(self) -> BrokerInfo:
        """Static facts about the broker."""
        ...

    async def authenticate(self) -> None:
        """Check the credentials work (and open a session where the broker needs one).

        :raises AuthenticationFailed: the broker refused the credentials.
        """
        ...

    async def refresh_auth_token(self) -> OAuthTokens | None:
        """Refresh the OAuth tokens, persist the rotated ones through the context, and return them.

        Returns ``None`` for brokers without OAuth.

        :raises ReauthorizationRequired: the refresh token is dead; a person must log in again.
        """
        ...

    async def get_accounts(self) -> Sequence[Account]:
        """List the accounts this connection can see."""
        ...

    async def get_positions(self, account: Account) -> Sequence[Position]:
        """Return a snapshot of every open position of ``account`` (zero holdings omitted)."""
        ...

    async def get_trades(self, account: Account, *, cursor: str | None = None) -> TradePage:
        """Return the fills of ``account`` after ``cursor`` (all of them when ``None``).

        Store the returned cursor and pass it next time; ask again while ``has_more``.
        """
        ...

    async def get_assets(self) -> Sequence[Asset]:
        """List the instruments the broker offers, with their trading rules."""
        ...

    async def get_asset_price(self, instrument: Instrument) -> Quote:
        """Return the current price of ``instrument``.

        :raises InstrumentNotFound: the broker does not know it.
        """
        ...

    async def place_order(self, request: OrderRequest) -> Order:
        """Send ``request`` once; return the order as the broker acknowledged it.

        :raises OrderRejected: the broker definitively refused it (it was not placed).
        :raises OrderOutcomeUnknown: it may have been placed; look it up, never resend.
        :raises OrderExists: the broker already holds an order with this client id (a subclass
            of ``OrderOutcomeUnknown``); the caller looks it up at once.
        """
        ...

    async def cancel_order(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Cancel the order with ``client_order_id``; return its final state.

        Cancelling an order that is already terminal returns it unchanged.

        :param instrument: the order's instrument; brokers such as Binance can only find an order
            within its symbol.
        :raises OrderNotFound: no such order.
        """
        ...

    async def get_order_status(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Look an order up by its client id.

        :param instrument: the order's instrument; brokers such as Binance can only find an order
            within its symbol.
        :raises OrderNotFound: the broker does not know it (yet, or at all).
        """
        ...

    def api_figures(self) -> Mapping[str, str]:
        """What the broker's API said during this adapter's life, as short text figures
        (``requests``, ``used_weight``, ``clock_offset_ms``…), for the digest."""
        ...

    async def aclose(self) -> None:
        """Release connections. The adapter is unusable afterwards."""
        ...


@runtime_checkable
class OrderSearch(Protocol):
    """The optional second way to find an order, for brokers whose lookup by client id can miss
    one that exists (Binance reports a live order "does not exist" for a while). A broker that
    implements it declares :attr:`BrokerCapabilities.order_search`.

    The order protocol calls it once, just before it would conclude that an order was never
    placed (docs/orders.md, "not_placed: never placed"); an order it finds is adopted.
    """

    async def search_order(self, request: OrderRequest, *, since: datetime) -> Order:
        """Look for the order of ``request`` by every means other than the lookup by client id
        (:meth:`BrokerPort.get_order_status`): the broker's order listings, its fills, its
        activity log, from ``since`` (when the order was recorded, by the caller's clock; allow
        for clock skew) to now.

        Be conservative: a fill that could be this order's and cannot be told apart from it
        counts as found; the cost of a wrong "not found" is the same order placed twice.

        :raises OrderNotFound: no listing holds it.
        """
        ...
