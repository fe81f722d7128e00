"""The ``saxo`` :class:`~tradecore.ports.BrokerPort`: Saxo Bank's OpenAPI, SIM or LIVE.

What each port method asks Saxo (paths below the gateway, each documented in Saxo's OpenAPI
reference, https://www.developer.saxo/openapi/referencedocs; the user's guide is
docs/brokers/saxo.md):

- ``authenticate``: ``/port/v1/users/me``, the "is my token valid" probe.
- ``get_accounts``: ``/port/v1/accounts/me``; an account's id is its ``AccountKey``.
- ``get_positions``: ``/port/v1/netpositions`` of the account with the display fields: one row
  per instrument, the holdings truth under both netting modes
  (https://www.developer.saxo/openapi/learn/real-time-vs-eod-netting). The lots
  (``/port/v1/positions``) and closed positions are offered as :meth:`SaxoBroker.position_lots`
  and :meth:`SaxoBroker.closed_positions`.
- ``get_trades``: the trade report ``/cs/v1/reports/trades/{ClientKey}``. Saxo fills it once a
  day (https://www.developer.saxo/openapi/learn/reports): **today's fills appear the next day.**
  See :mod:`._cursor`.
- ``get_assets`` / ``get_asset_price``: ``/ref/v1/instruments`` (cached per process) and
  ``/trade/v1/infoprices``.
- ``place_order``: ``POST /trade/v2/orders`` once, ``ManualOrder: false``, our client id as
  ``ExternalReference`` and an ``X-Request-ID`` derived from it
  (https://www.developer.saxo/openapi/learn/order-placement; the duplicate-order guard:
  https://www.developer.saxo/openapi/learn/rate-limiting).
- ``get_order_status``: the open orders ``/port/v1/orders``, then the order-activity audit
  ``/cs/v1/audit/orderactivities`` for orders no longer open
  (https://www.developer.saxo/openapi/learn/audit-orderactivities).
- ``cancel_order``: ``DELETE /trade/v2/orders/{OrderId}?AccountKey=``.
- ``search_order`` (:class:`~tradecore.ports.OrderSearch`, before an order is concluded never
  placed): the open orders again, then every entry (``EntryType=All``) of the order-activity
  audit since a margin before the order was recorded, matched by ``ExternalReference``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import quote

from attrs import define, evolve, field

from tradecore.domain import (
    Account,
    Asset,
    AssetType,
    BrokerConnection,
    Instrument,
    OAuthTokens,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    TradePage,
)
from tradecore.errors import (
    BrokerError,
    InstrumentNotFound,
    OrderNotFound,
    OrderRejected,
)
from tradecore.ports import (
    BrokerCapabilities,
    BrokerContext,
    BrokerInfo,
    Clock,
    RateLimits,
)
from tradecore_adapters.saxo._client import SaxoClient
from tradecore_adapters.saxo._cursor import TradeCursor
from tradecore_adapters.saxo._errors import BROKER
from tradecore_adapters.saxo._json import items as collection_items
from tradecore_adapters.saxo._mapping import (
    ClosedPosition,
    PositionLot,
    accounts_from,
    activity_order,
    asset_from,
    cancel_results,
    client_from,
    closed_positions_from,
    net_positions_from,
    open_order_from,
    order_body,
    placed_order,
    position_lots_from,
    quote_from,
    saxo_key,
    trades_from,
)
from tradecore_adapters.saxo._mapping import (
    SaxoClient as ClientInfo,
)
from tradecore_adapters.saxo._order_mapping import searched_activity
from tradecore_adapters.saxo.config import SaxoConfig

__all__ = ["INFO", "InstrumentCache", "SaxoBroker"]

INFO = BrokerInfo(
    name="saxo",
    display_name="Saxo Bank",
    capabilities=BrokerCapabilities(
        oauth=True,
        order_types={OrderType.MARKET, OrderType.LIMIT},
        asset_types={
            AssetType.STOCK,
            AssetType.ETF,
            AssetType.FX,
            AssetType.CFD,
            AssetType.FUTURE,
            AssetType.BOND,
            AssetType.FUND,
        },
        incremental_trades=True,
        order_search=True,
    ),
    rate_limits=RateLimits(
        requests_per_minute=120,
        orders_per_second=1,
        note="120 requests a minute per session and service group; trades are reported the "
        "next day (end-of-day trade report)",
    ),
    docs_url="https://www.developer.saxo/openapi/learn",
)

ASSETS_TTL = timedelta(hours=1)
REPORT_SETTLE_DAYS = 2
"""The report's last days may still grow: a sync asks again from this many days back."""
SEEN_MARGIN_DAYS = 5
"""Trade ids kept in the cursor: executed this many days before the next start, or later (a
trade's report date can follow its execution by a weekend)."""
AUDIT_LOOKBACK = timedelta(days=30)
"""How far back the order-activity audit is searched for an order no longer open."""
SEARCH_MARGIN = timedelta(minutes=5)
"""How long before an order was recorded :meth:`SaxoBroker.search_order` reads the audit from
(clock skew between this host, other daemons and Saxo)."""

_REQUEST_IDS = uuid.UUID("6f1c7f64-3b0e-4d55-9a43-5b8f3a1d2c71")
_NET_POSITION_GROUPS = "NetPositionBase,NetPositionView,DisplayAndFormat"
_POSITION_GROUPS = "PositionBase,PositionView,DisplayAndFormat"
_CLOSED_GROUPS = "ClosedPosition,DisplayAndFormat"


@define
class InstrumentCache:
    """What ``/ref/v1/instruments`` said, shared by the connections of one process (per gateway).

    :param keys: ``(gateway, SYMBOL)`` → the instrument with its ``Uic:AssetType`` key.
    :param assets: ``(gateway, asset types)`` → (when fetched, the assets).
    """

    keys: dict[tuple[str, str], Instrument] = field(factory=dict)
    assets: dict[tuple[str, str], tuple[datetime, tuple[Asset, ...]]] = field(factory=dict)


class SaxoBroker:
    """One Saxo connection. Build it with :meth:`create` (no I/O happens until a call)."""

    def __init__(
        self,
        *,
        connection_id: str,
        config: SaxoConfig,
        client: SaxoClient,
        clock: Clock,
        cache: InstrumentCache,
    ) -> None:
        self._connection_id = connection_id
        self._config = config
        self._client = client
        self._clock = clock
        self._cache = cache
        self._client_info: ClientInfo | None = None

    @classmethod
    def create(
        cls,
        connection: BrokerConnection,
        context: BrokerContext,
        *,
        cache: InstrumentCache | None = None,
    ) -> SaxoBroker:
        """The factory tradecore calls (see ``plugin.py``).

        :raises ConfigurationError: the connection's settings are invalid.
        """
        config = SaxoConfig.from_connection(connection)
        client = SaxoClient(
            config=config,
            clock=context.clock,
            tokens=context.tokens,
            http=context.http_client,
            limits=context.limits,
            session=connection.id,
        )
        return cls(
            connection_id=connection.id,
            config=config,
            client=client,
            clock=context.clock,
            cache=cache if cache is not None else InstrumentCache(),
        )

    @property
    def info(self) -> BrokerInfo:
        """Static facts about Saxo."""
        return INFO

    # -- session ---------------------------------------------------------------------------------

    async def authenticate(self) -> None:
        """Check the stored login works: ``GET /port/v1/users/me`` (renewing the token if due)."""
        await self._client.get("/port/v1/users/me")

    async def refresh_auth_token(self) -> OAuthTokens | None:
        """Renew the tokens now (unless another process just did) and return them."""
        return await self._client.refresh(force=True)

    # -- portfolio -------------------------------------------------------------------------------

    async def get_accounts(self) -> Sequence[Account]:
        """The client's accounts (``AccountKey`` as the id, ``AccountId`` as the name)."""
        items = await self._client.get_all("/port/v1/accounts/me")
        return accounts_from(items, connection_id=self._connection_id)

    async def get_positions(self, account: Account) -> Sequence[Position]:
        """The net positions of ``account``, with their display symbol (zero amounts left out)."""
        items = await self._client.get_all(
            "/port/v1/netpositions",
            await self._account_params(account, ("FieldGroups", _NET_POSITION_GROUPS)),
        )
        return net_positions_from(
            items,
            connection_id=self._connection_id,
            account_id=account.account_id,
            as_of=self._clock.now(),
        )

    async def position_lots(self, account: Account) -> list[PositionLot]:
        """The individual positions (lots) of ``account`` (``/port/v1/positions``)."""
        items = await self._client.get_all(
            "/port/v1/positions",
            await self._account_params(account, ("FieldGroups", _POSITION_GROUPS)),
        )
        return position_lots_from(items)

    async def closed_positions(self, account: Account) -> list[ClosedPosition]:
        """The closed positions of ``account`` (``/port/v1/closedpositions``); empty under
        end-of-day netting even when a position was squared
        (https://www.developer.saxo/openapi/learn/real-time-vs-eod-netting)."""
        items = await self._client.get_all(
            "/port/v1/closedpositions",
            await self._account_params(account, ("FieldGroups", _CLOSED_GROUPS)),
        )
        return closed_positions_from(items)

    async def get_trades(self, account: Account, *, cursor: str | None = None) -> TradePage:
        """The report's fills of ``account`` after ``cursor`` (all of ``history_days`` first)."""
        today = self._clock.now().date()
        previous = TradeCursor.from_text(cursor) if cursor else None
        start = previous.start if previous else self._config.history_start(today)
        seen = previous.seen if previous else frozenset()
        client = await self._client_key()
        items = await self._client.get_all(
            f"/cs/v1/reports/trades/{quote(client, safe='')}",
            [
                ("FromDate", start.isoformat()),
                ("ToDate", today.isoformat()),
                ("AccountKey", account.account_id),
                ("$top", "1000"),
            ],
            what="GET /cs/v1/reports/trades",
        )
        trades = trades_from(
            items, connection_id=self._connection_id, account_id=account.account_id
        )
        new = [trade for trade in trades if trade.broker_trade_id not in seen]
        next_start = max(start, today - timedelta(days=REPORT_SETTLE_DAYS))
        keep_from = next_start - timedelta(days=SEEN_MARGIN_DAYS)
        kept = {trade.broker_trade_id for trade in trades if trade.executed_at.date() >= keep_from}
        return TradePage(
            trades=new, cursor=TradeCursor(start=next_start, seen=kept).to_text(), has_more=False
        )

    # -- market ----------------------------------------------------------------------------------

    async def get_assets(self) -> Sequence[Asset]:
        """The instruments of the ``asset_types`` setting (cached per process for an hour)."""
        types = ",".join(self._config.asset_types)
        key = (self._config.api_base_url, types)
        now = self._clock.now()
        cached = self._cache.assets.get(key)
        if cached is not None and now - cached[0] < ASSETS_TTL:
            return cached[1]
        items = await self._client.get_all(
            "/ref/v1/instruments", [("AssetTypes", types), ("$top", "1000")]
        )
        assets = tuple(asset_from(item) for item in items)
        self._cache.assets[key] = (now, assets)
        for asset in assets:
            self._remember(asset.instrument)
        return assets

    async def get_asset_price(self, instrument: Instrument) -> Quote:
        """The current quote of ``instrument`` (its ``Uic:AssetType`` key, or its symbol)."""
        resolved = await self._resolve(instrument)
        uic, asset_type = _key(resolved)
        params = [("Uic", str(uic)), ("AssetType", asset_type), ("FieldGroups", "Quote")]
        default_account = (await self._client_details()).default_account_key
        if default_account:
            params.append(("AccountKey", default_account))
        payload = await self._client.get("/trade/v1/infoprices", params)
        quote_ = quote_from(payload, instrument=resolved, received_at=self._clock.now())
        return evolve(quote_, instrument=evolve(resolved, symbol=instrument.symbol))

    # -- orders ----------------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        """Send ``request`` once (see the module docstring)."""
        try:
            resolved = await self._resolve(request.instrument)
        except InstrumentNotFound as exc:
            raise OrderRejected(f"not sent: {exc}", broker=BROKER, code=exc.code) from None
        uic, asset_type = _key(resolved)
        body = order_body(request, account_key=request.account_id, uic=uic, asset_type=asset_type)
        payload = await self._client.place(
            "/trade/v2/orders",
            body,
            request_id=str(uuid.uuid5(_REQUEST_IDS, request.client_order_id)),
            client_order_id=request.client_order_id,
        )
        return placed_order(payload, request=request, now=self._clock.now())

    async def get_order_status(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Find the order whose ``ExternalReference`` is ``client_order_id``.

        :raises OrderNotFound: neither open nor in the last 30 days of order activity.
        """
        order = await self._find(account, client_order_id)
        if order is None:
            raise OrderNotFound(
                f"Saxo has no order with client id {client_order_id} on this account",
                broker=BROKER,
            )
        return order

    async def search_order(self, request: OrderRequest, *, since: datetime) -> Order:
        """Look for the order of ``request`` in the open orders and in every order-activity
        entry since ``since`` (see the module docstring).

        :raises OrderNotFound: neither holds it.
        """
        account = Account(connection_id=request.connection_id, account_id=request.account_id)
        found = await self._open_order(account, request.client_order_id)
        if found is not None:
            return found
        start = since - SEARCH_MARGIN
        activities = await self._client.get_all(
            "/cs/v1/audit/orderactivities",
            await self._account_params(
                account,
                ("EntryType", "All"),
                ("FieldGroups", "DisplayAndFormat"),
                ("FromDateTime", start.strftime("%Y-%m-%dT%H:%M:%SZ")),
            ),
        )
        found = searched_activity(
            activities,
            client_order_id=request.client_order_id,
            connection_id=self._connection_id,
            account_id=account.account_id,
        )
        if found is None:
            raise OrderNotFound(
                f"Saxo lists no order with ExternalReference {request.client_order_id}, open "
                f"or in the order activity since {start:%Y-%m-%d %H:%M:%S} UTC",
                broker=BROKER,
            )
        return found

    async def cancel_order(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Cancel the order with ``client_order_id``; a terminal order is returned unchanged."""
        order = await self.get_order_status(account, client_order_id, instrument=instrument)
        if order.is_terminal or order.broker_order_id is None:
            return order
        payload = await self._client.delete(
            f"/trade/v2/orders/{quote(order.broker_order_id, safe='')}",
            [("AccountKey", account.account_id)],
            what="DELETE /trade/v2/orders",
        )
        failure = cancel_results(payload).get(order.broker_order_id)
        after = await self._find(account, client_order_id) or order
        if after.is_terminal:
            return after  # cancelled, or it filled or expired first (TooLateToCancelOrder…)
        if failure is not None:
            raise BrokerError(
                f"Saxo did not cancel order {order.broker_order_id}: {failure}",
                broker=BROKER,
                code=failure,
            )
        # Accepted; the audit may not list the Cancelled entry yet.
        return evolve(after, status=OrderStatus.CANCELED, updated_at=self._clock.now())

    # -- the rest --------------------------------------------------------------------------------

    def api_figures(self) -> Mapping[str, str]:
        """``requests``, ``rate_limit_left`` per service group, ``retries``, ``token_refreshes``,
        ``throttled_s``."""
        return self._client.figures.as_text(self._client.limiter)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    # -- helpers ---------------------------------------------------------------------------------

    async def _client_details(self) -> ClientInfo:
        if self._client_info is None:
            self._client_info = client_from(await self._client.get("/port/v1/clients/me"))
        return self._client_info

    async def _client_key(self) -> str:
        return (await self._client_details()).client_key

    async def _account_params(
        self, account: Account, *extra: tuple[str, str]
    ) -> list[tuple[str, str]]:
        return [
            ("ClientKey", await self._client_key()),
            ("AccountKey", account.account_id),
            *extra,
        ]

    async def _open_order(self, account: Account, client_order_id: str) -> Order | None:
        open_items = await self._client.get_all(
            "/port/v1/orders",
            await self._account_params(
                account, ("Status", "All"), ("FieldGroups", "DisplayAndFormat")
            ),
        )
        for item in open_items:
            if isinstance(item, dict) and item.get("ExternalReference") == client_order_id:
                return open_order_from(item, connection_id=self._connection_id)
        return None

    async def _find(self, account: Account, client_order_id: str) -> Order | None:
        open_order = await self._open_order(account, client_order_id)
        if open_order is not None:
            return open_order
        since = self._clock.now() - AUDIT_LOOKBACK
        activities = await self._client.get_all(
            "/cs/v1/audit/orderactivities",
            await self._account_params(
                account,
                ("EntryType", "Last"),
                ("FieldGroups", "DisplayAndFormat"),
                ("FromDateTime", since.strftime("%Y-%m-%dT%H:%M:%SZ")),
            ),
        )
        found = [
            item
            for item in activities
            if isinstance(item, dict) and item.get("ExternalReference") == client_order_id
        ]
        if not found:
            return None
        # EntryType=Last gives one entry per order; the newest wins if Saxo sends several.
        order = partial(
            activity_order, connection_id=self._connection_id, account_id=account.account_id
        )
        return max((order(item) for item in found), key=lambda o: o.updated_at or o.created_at)

    async def _resolve(self, instrument: Instrument) -> Instrument:
        if saxo_key(instrument) is not None:
            return instrument
        cache_key = (self._config.api_base_url, instrument.symbol.upper())
        known = self._cache.keys.get(cache_key)
        if known is not None:
            return known
        keyword = instrument.symbol.split(":", 1)[0]
        payload = await self._client.get(
            "/ref/v1/instruments", [("Keywords", keyword), ("$top", "100")]
        )
        for item in collection_items(payload, what="GET /ref/v1/instruments"):
            try:
                asset = asset_from(item)
            except BrokerError:
                continue
            self._remember(asset.instrument)
        found = self._cache.keys.get(cache_key)
        if found is None:
            raise InstrumentNotFound(
                f"Saxo lists no instrument with the symbol {instrument.symbol!r}", broker=BROKER
            )
        return found

    def _remember(self, instrument: Instrument) -> None:
        self._cache.keys[(self._config.api_base_url, instrument.symbol.upper())] = instrument


def _key(instrument: Instrument) -> tuple[int, str]:
    key = saxo_key(instrument)
    if key is None:  # pragma: no cover - _resolve returns keyed instruments only
        raise InstrumentNotFound(f"no Saxo key for {instrument.symbol}", broker=BROKER)
    return key
