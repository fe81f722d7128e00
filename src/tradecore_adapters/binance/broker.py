"""The :class:`~tradecore.ports.BrokerPort` for Binance: spot balances, trades and orders, and
USD-M futures positions and trades.

Accounts: ``spot`` (when the ``market`` setting includes spot) and ``usdm-futures`` (when it
includes futures). Trades are synced per symbol (``myTrades`` needs one): the configured
symbols, the symbols implied by non-zero balances against the configured quote assets, and
every symbol synced before. See ``docs/brokers/binance.md``.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import evolve

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
    Trade,
    TradePage,
)
from tradecore.errors import (
    BrokerError,
    InstrumentNotFound,
    MalformedResponse,
    OrderNotFound,
    OrderOutcomeUnknown,
    OrderRejected,
)
from tradecore.ports import BrokerCapabilities, BrokerContext, BrokerInfo, Clock, RateLimits
from tradecore_adapters.binance import _mapping as mapping
from tradecore_adapters.binance._client import BinanceClient
from tradecore_adapters.binance._cursor import TradeCursor
from tradecore_adapters.binance._errors import BROKER
from tradecore_adapters.binance._fast_trades import decode_futures_page, decode_spot_page
from tradecore_adapters.binance._limits import BinanceHosts
from tradecore_adapters.binance._search import search_spot_order
from tradecore_adapters.binance._trade_pages import PAGE_LIMIT, SymbolPage, symbol_page
from tradecore_adapters.binance.config import BinanceConfig

__all__ = ["INFO", "PAGES_PER_CALL", "PAGE_LIMIT", "BinanceBroker"]

PAGES_PER_CALL = 8
"""Symbol pages fetched concurrently by one ``get_trades`` call."""

INFO = BrokerInfo(
    name=BROKER,
    display_name="Binance",
    capabilities=BrokerCapabilities(
        order_types={OrderType.MARKET, OrderType.LIMIT},
        asset_types={AssetType.SPOT, AssetType.FUTURE},
        order_search=True,
    ),
    rate_limits=RateLimits(
        requests_per_minute=6000,
        note="6000 request weight per minute per IP (spot), 2400 (USD-M futures); "
        "orders: 50 per 10 s and 160000 per day per account",
    ),
    docs_url="https://developers.binance.com/docs/binance-spot-api-docs/rest-api",
)
"""What every Binance connection declares."""

_log = logging.getLogger("tradecore_adapters.binance")


class _Kind(enum.Enum):
    SPOT = "spot"
    FUTURES = "futures"


_ENDPOINTS = {
    # (trades path, trades weight, price path, price weight), as Binance documents them:
    # https://developers.binance.com/docs/binance-spot-api-docs/ and, for USD-M futures,
    # https://developers.binance.com/docs/derivatives/usds-margined-futures/
    _Kind.SPOT: ("/api/v3/myTrades", 20, "/api/v3/ticker/price", 2),
    _Kind.FUTURES: ("/fapi/v1/userTrades", 5, "/fapi/v1/ticker/price", 1),
}


class BinanceBroker:
    """One Binance connection. Build it with :meth:`create`; close it with :meth:`aclose`."""

    def __init__(
        self,
        *,
        connection: BrokerConnection,
        config: BinanceConfig,
        client: BinanceClient,
        clock: Clock,
    ) -> None:
        self._connection = connection
        self._config = config
        self._client = client
        self._clock = clock
        self._balances: dict[str, Decimal] | None = None
        self._futures_symbols: set[str] | None = None
        self._instruments: dict[tuple[_Kind, str], Instrument] = {}

    @classmethod
    def create(
        cls, connection: BrokerConnection, context: BrokerContext, *, hosts: BinanceHosts
    ) -> BinanceBroker:
        """Build the adapter of ``connection`` (no I/O).

        :raises ConfigurationError: unusable settings or secrets.
        """
        config = BinanceConfig.from_connection(connection)
        client = BinanceClient(
            config=config,
            hosts=hosts,
            clock=context.clock,
            http=context.http_client,
            limits=context.limits,
        )
        return cls(connection=connection, config=config, client=client, clock=context.clock)

    @property
    def info(self) -> BrokerInfo:
        """Static facts about Binance."""
        return INFO

    def __repr__(self) -> str:
        return f"BinanceBroker(connection={self._connection.name!r}, spot_url={self._config.spot_url!r})"

    # -- session ---------------------------------------------------------------------------------

    async def authenticate(self) -> None:
        """Check the key and its signature with a signed read of the first account."""
        if self._config.spot:
            await self._account_payload()
        else:
            await self._futures_positions()

    async def refresh_auth_token(self) -> OAuthTokens | None:
        """Binance uses API keys, not OAuth: nothing to refresh."""
        return None

    async def get_accounts(self) -> Sequence[Account]:
        """``spot`` and/or ``usdm-futures``, as the ``market`` setting says (no request)."""
        accounts = []
        if self._config.spot:
            accounts.append(self._account(_Kind.SPOT))
        if self._config.futures:
            accounts.append(self._account(_Kind.FUTURES))
        return accounts

    # -- positions -------------------------------------------------------------------------------

    async def get_positions(self, account: Account) -> Sequence[Position]:
        """Spot: every non-zero balance (free + locked). Futures: every open position."""
        kind = self._kind(account)
        now = self._clock.now()
        if kind is _Kind.SPOT:
            payload = await self._account_payload()
            return mapping.spot_positions(payload, account=account, as_of=now)
        return await self._futures_positions()

    async def _account_payload(self) -> Any:
        payload = await self._client.signed_get(
            self._config.spot_url, "/api/v3/account", [("omitZeroBalances", "true")], weight=20
        )
        self._balances = mapping.spot_balances(payload)
        return payload

    async def _futures_positions(self) -> list[Position]:
        payload = await self._client.signed_get(
            self._config.futures_url, "/fapi/v3/positionRisk", weight=5
        )
        positions = mapping.futures_positions(
            payload, account=self._account(_Kind.FUTURES), as_of=self._clock.now()
        )
        self._futures_symbols = {position.instrument.symbol.split(":")[0] for position in positions}
        return positions

    # -- trades ----------------------------------------------------------------------------------

    async def get_trades(self, account: Account, *, cursor: str | None = None) -> TradePage:
        """The next fills of ``account``: one page of up to :data:`PAGES_PER_CALL` symbols,
        fetched concurrently; ``has_more`` until every symbol of the round is caught up.

        A symbol whose page holds a value outside its documented range (a trade id past
        :data:`~tradecore_adapters.binance._mapping.MAX_TRADE_ID`…) is refused alone: none of its
        fills are returned, its next id stays where it was (the next sync asks again), it leaves
        the round, and the page names it in :attr:`TradePage.refused`; the other symbols'
        fills are returned.
        """
        kind = self._kind(account)
        state = TradeCursor.parse(cursor)
        if not state.pending:
            state = await self._start_round(kind, state)
        batch = state.pending[:PAGES_PER_CALL]
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(
                        self._symbol_page(kind, account, symbol, state.next_ids[symbol])
                    )
                    for symbol in batch
                ]
        except BaseExceptionGroup as failed:
            # The other pages were cancelled; callers expect one tradecore error, not a group.
            raise _first_error(failed) from None
        trades: list[Trade] = []
        refused: list[str] = []
        next_ids = dict(state.next_ids)
        pending = list(state.pending[len(batch) :])
        for symbol, task in zip(batch, tasks, strict=True):
            page = task.result()
            if page.refused is not None:
                refused.append(page.refused)  # next id kept, out of this round
                continue
            trades.extend(page.trades)
            next_ids[symbol] = page.next_id
            if page.full:
                pending.append(symbol)
        state = evolve(state, next_ids=next_ids, pending=pending)
        return TradePage(
            trades=trades, cursor=state.dump(), has_more=bool(pending), refused=tuple(refused)
        )

    async def _start_round(self, kind: _Kind, state: TradeCursor) -> TradeCursor:
        symbols = set(state.next_ids)
        if kind is _Kind.FUTURES:
            if self._futures_symbols is None:
                await self._futures_positions()
            symbols |= set(self._config.futures_symbols) | (self._futures_symbols or set())
            assets, quotes = state.assets, state.quotes
        else:
            symbols |= set(self._config.symbols)
            assets, quotes, implied = await self._implied_symbols(state)
            symbols |= implied
        return TradeCursor(
            next_ids={symbol: state.next_ids.get(symbol, 0) for symbol in symbols},
            pending=sorted(symbols),
            assets=assets,
            quotes=quotes,
        )

    async def _implied_symbols(
        self, state: TradeCursor
    ) -> tuple[tuple[str, ...], tuple[str, ...], set[str]]:
        # Held assets not matched yet (or all of them when the quote assets changed) are matched
        # against the quote assets with exchangeInfo; matched ones are already in next_ids.
        if self._balances is None:
            await self._account_payload()
        held = set(self._balances or {})
        quotes = self._config.quote_assets
        known = set(state.assets) if tuple(state.quotes) == quotes else set()
        new = held - known
        if not new:
            return tuple(sorted(known)), quotes, set()
        pairs = {
            (rules.base, rules.quote): symbol for symbol, rules in (await self._rules()).items()
        }
        implied = {
            pairs[(asset, quote)] for asset in new for quote in quotes if (asset, quote) in pairs
        }
        return tuple(sorted(known | new)), quotes, implied

    async def _symbol_page(
        self, kind: _Kind, account: Account, symbol: str, from_id: int
    ) -> SymbolPage:
        # One symbol's fills, or its refusal (see _trade_pages).
        rows = await self._trade_rows(kind, symbol, from_id)
        if rows is None:
            return SymbolPage(next_id=from_id)
        instrument = self._instrument(kind, symbol)
        return symbol_page(
            rows,
            futures=kind is _Kind.FUTURES,
            account=account,
            instrument=instrument,
            from_id=from_id,
        )

    async def _trade_rows(self, kind: _Kind, symbol: str, from_id: int) -> object:
        # The payload of one myTrades/userTrades page; None: the symbol is no longer listed.
        path, weight, _, _ = _ENDPOINTS[kind]
        base = self._base(kind)
        params = [("symbol", symbol), ("fromId", str(from_id)), ("limit", str(PAGE_LIMIT))]
        decode = decode_spot_page if kind is _Kind.SPOT else decode_futures_page
        try:
            return await self._client.signed_get(base, path, params, weight=weight, decode=decode)
        except InstrumentNotFound:
            configured = (
                self._config.symbols if kind is _Kind.SPOT else self._config.futures_symbols
            )
            if symbol in configured:
                setting = "symbols" if kind is _Kind.SPOT else "futures_symbols"
                raise InstrumentNotFound(
                    f"the setting {setting!r} names {symbol!r}, which Binance does not list",
                    broker=BROKER,
                    code="-1121",
                ) from None
            _log.warning("binance: %s is no longer listed; its trades are not synced", symbol)
            return None

    # -- market data -----------------------------------------------------------------------------

    async def get_assets(self) -> Sequence[Asset]:
        """Every spot symbol Binance lists, with its lot and tick sizes (``exchangeInfo``)."""
        return mapping.assets((await self._rules()).values())

    async def get_asset_price(self, instrument: Instrument) -> Quote:
        """The last price of ``instrument`` (``ticker/price``).

        :raises InstrumentNotFound: Binance does not list it.
        """
        kind = _Kind.FUTURES if instrument.asset_type is AssetType.FUTURE else _Kind.SPOT
        _, _, path, weight = _ENDPOINTS[kind]
        try:
            payload = await self._client.public(
                self._base(kind), path, [("symbol", instrument.symbol)], weight=weight
            )
        except BrokerError as exc:
            if isinstance(exc, InstrumentNotFound) or exc.code == "-1100":
                raise InstrumentNotFound(
                    f"Binance does not list {instrument.symbol!r}", broker=BROKER, code=exc.code
                ) from None
            raise
        return mapping.quote(payload, instrument=instrument, as_of=self._clock.now())

    async def _rules(self) -> dict[str, mapping.SymbolRules]:
        host = self._client.host(self._config.spot_url)
        cached = host.cached_symbols(self._clock.now())
        if cached is not None:
            return cached
        payload = await self._client.public(
            self._config.spot_url, "/api/v3/exchangeInfo", weight=20
        )
        rules = mapping.exchange_symbols(payload)
        limit = mapping.request_weight_limit(payload)
        if limit is not None:
            self._client.note_weight_limit(self._config.spot_url, limit)
        host.cache_symbols(rules, self._clock.now())
        return rules

    # -- orders ----------------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        """Send ``request`` to the spot account once (``POST /api/v3/order``, FULL response).

        :raises OrderRejected: Binance refused it (code and message kept), or it never left.
        :raises OrderExists: an open order already has this client id.
        :raises OrderOutcomeUnknown: it may have been placed; look it up, never resend.
        """
        if request.account_id != mapping.SPOT_ACCOUNT_ID or not self._config.spot:
            raise OrderRejected(
                f"tradecore places Binance orders on the spot account only; "
                f"{request.account_id!r} was not sent an order",
                broker=BROKER,
            )
        params = mapping.order_params(request)
        payload = await self._client.place(
            self._config.spot_url, "/api/v3/order", params, client_order_id=request.client_order_id
        )
        account = self._account(_Kind.SPOT)
        try:
            return mapping.order_from_payload(
                payload, request=request, account=account, now=self._clock.now()
            )
        except MalformedResponse as exc:
            raise OrderOutcomeUnknown(
                f"Binance accepted the order request but its answer is unreadable ({exc}); the "
                f"order will be looked up by its client id {request.client_order_id}",
                broker=BROKER,
                client_order_id=request.client_order_id,
            ) from exc

    async def cancel_order(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Cancel an open order; an order already terminal is returned as it is.

        :raises OrderNotFound: Binance has no such order.
        """
        self._spot_orders(account)
        params = [("symbol", instrument.symbol), ("origClientOrderId", client_order_id)]
        try:
            payload = await self._client.signed_delete(
                self._config.spot_url, "/api/v3/order", params, weight=1
            )
        except OrderNotFound:
            # -2011 "Unknown order sent.": already filled, cancelled or expired, or no such order.
            return await self.get_order_status(account, client_order_id, instrument=instrument)
        return mapping.order_from_payload(
            payload, request=None, account=account, now=self._clock.now()
        )

    async def get_order_status(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Look an order up by client id (``GET /api/v3/order``).

        :raises OrderNotFound: Binance does not know it (yet, or at all: -2013).
        """
        self._spot_orders(account)
        params = [("symbol", instrument.symbol), ("origClientOrderId", client_order_id)]
        payload = await self._client.signed_get(
            self._config.spot_url, "/api/v3/order", params, weight=4
        )
        return mapping.order_from_payload(
            payload, request=None, account=account, now=self._clock.now()
        )

    async def search_order(self, request: OrderRequest, *, since: datetime) -> Order:
        """Look for a spot order in ``allOrders`` and the account's fills since ``since``
        (:class:`~tradecore.ports.OrderSearch`; see :mod:`._search`).

        :raises OrderNotFound: neither lists it.
        """
        account = Account(connection_id=request.connection_id, account_id=request.account_id)
        self._spot_orders(account)
        return await search_spot_order(
            self._client,
            self._config.spot_url,
            request=request,
            account=self._account(_Kind.SPOT),
            since=since,
            now=self._clock.now(),
        )

    # -- figures and closing ---------------------------------------------------------------------

    def api_figures(self) -> Mapping[str, str]:
        """``requests``, ``used_weight`` (``1234/6000``), ``clock_offset_ms``, retries…"""
        return self._client.figures.as_text()

    async def aclose(self) -> None:
        """Close the connection pool (when the adapter made it)."""
        await self._client.aclose()

    # -- helpers ---------------------------------------------------------------------------------

    def _account(self, kind: _Kind) -> Account:
        if kind is _Kind.SPOT:
            return Account(
                connection_id=self._connection.id, account_id=mapping.SPOT_ACCOUNT_ID, name="Spot"
            )
        return Account(
            connection_id=self._connection.id,
            account_id=mapping.FUTURES_ACCOUNT_ID,
            name="USD-M futures",
        )

    def _kind(self, account: Account) -> _Kind:
        if account.connection_id == self._connection.id:
            if account.account_id == mapping.SPOT_ACCOUNT_ID and self._config.spot:
                return _Kind.SPOT
            if account.account_id == mapping.FUTURES_ACCOUNT_ID and self._config.futures:
                return _Kind.FUTURES
        raise BrokerError(
            f"Binance connection {self._connection.name!r} has no account "
            f"{account.account_id!r} (market setting: {self._config.market.value})",
            broker=BROKER,
        )

    def _spot_orders(self, account: Account) -> None:
        if self._kind(account) is not _Kind.SPOT:
            raise OrderNotFound(
                "tradecore tracks Binance orders on the spot account only", broker=BROKER
            )

    def _base(self, kind: _Kind) -> str:
        return self._config.spot_url if kind is _Kind.SPOT else self._config.futures_url

    def _instrument(self, kind: _Kind, symbol: str) -> Instrument:
        key = (kind, symbol)
        instrument = self._instruments.get(key)
        if instrument is None:
            asset_type = AssetType.SPOT if kind is _Kind.SPOT else AssetType.FUTURE
            instrument = self._instruments[key] = Instrument(symbol=symbol, asset_type=asset_type)
        return instrument


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    errors = list(_leaves(group))
    return next((error for error in errors if isinstance(error, BrokerError)), errors[0])


def _leaves(error: BaseException) -> Iterator[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error
