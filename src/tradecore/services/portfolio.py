"""Use cases on what a user holds: sync positions and trades from the brokers, then read them.

Every use case acts as one user; a connection named is looked up within that user only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from attrs import frozen

from tradecore.domain import BrokerConnection, Position, Trade
from tradecore.errors import DomainError, NotFound
from tradecore.services.brokers import describe_broker_failure
from tradecore.services.connections import connection_by_name
from tradecore.services.context import ServiceContext
from tradecore.services.equity import (
    MAX_EQUITY_POINTS,
    EquityHistory,
    checked_equity_query,
    read_equity,
)
from tradecore.services.listings import (
    STREAM_PAGE_SIZE,
    TradeStream,
    check_window,
    open_trade_stream,
    user_scope,
)
from tradecore.services.paging import (
    MAX_PAGE_SIZE,
    TradesPage,
    check_page_size,
    decode_cursor,
    encode_cursor,
)
from tradecore.services.sync import SyncResult, sync_connection

__all__ = ["Holdings", "Portfolio", "SyncOutcome", "SyncProgress", "TradeList"]


class SyncProgress(Protocol):
    """What a front end learns while a sync runs (to show progress); no method may raise."""

    def started(self, connection: BrokerConnection) -> None:
        """The sync of ``connection`` begins."""

    def fetched(self, connection: BrokerConnection, trades: int) -> None:
        """A page of ``trades`` trades of ``connection`` arrived."""

    def finished(self, outcome: SyncOutcome) -> None:
        """The sync of one connection ended (stored, or failed)."""


@frozen(kw_only=True)
class SyncOutcome:
    """What became of one connection's sync: its result, or why it failed (secrets masked).

    :param error: the error itself, for a front end asked for a traceback.
    """

    connection: BrokerConnection
    result: SyncResult | None = None
    problem: str | None = None
    error: BaseException | None = None


@frozen(kw_only=True)
class Holdings:
    """The user's positions as of their last sync, with each connection's name by id."""

    positions: tuple[Position, ...]
    connection_names: Mapping[str, str]


@frozen(kw_only=True)
class TradeList:
    """The user's stored trades, oldest first, with each connection's name by id."""

    trades: tuple[Trade, ...]
    connection_names: Mapping[str, str]


class Portfolio:
    """Sync a user's brokers and read what was stored."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    async def sync(
        self,
        user_id: str,
        *,
        connection: str | None = None,
        progress: SyncProgress | None = None,
    ) -> list[SyncOutcome]:
        """Fetch positions and new trades from the user's active connections (or only the
        connection named) and store them; a trade is never stored twice. Connections sync
        concurrently (``max_concurrent_connections`` at a time); one failing never stops the
        others: its outcome says why.

        :raises NotFound: no such user, or the user has no connection by that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.get(user_id)
            if connection is not None:
                connections = [await connection_by_name(uow, user_id, connection)]
            else:
                connections = list(await uow.connections.list(user_id, active_only=True))
        limit = asyncio.Semaphore(self._context.max_concurrent_connections)

        async def one(each: BrokerConnection) -> SyncOutcome:
            async with limit:
                if progress is not None:
                    progress.started(each)
                outcome = await self._sync_one(each, progress)
                if progress is not None:
                    progress.finished(outcome)
                return outcome

        return list(await asyncio.gather(*(one(each) for each in connections)))

    async def reset_cursor(self, user_id: str, connection: str, account: str) -> None:
        """Forget where the trade sync of one account of the connection ``connection`` stands,
        so its next sync reads the account's trades from the beginning again. The trades already
        stored stay, and none is stored twice (a fill's natural key is unique); positions,
        orders and the connection are untouched. This is the way out of a corrupt cursor
        without removing the connection (and its history).

        Cursors are kept per account (``account`` is its id, as ``tradecore positions`` shows
        it): Binance keeps one per account (``spot``, ``usdm-futures``) holding the next trade
        id of every symbol of that account, so a reset reads every symbol of the account again;
        Saxo keeps one per ``AccountKey``.

        :raises NotFound: no such user, the user has no connection by that name, or it has no
            sync cursor for ``account`` (the message lists the accounts that have one).
        """
        account = account.strip()
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.get(user_id)
            found = await connection_by_name(uow, user_id, connection)
            if not await uow.cursors.reset(user_id, found.id, account):
                stored = await uow.cursors.keys(user_id, found.id)
                listed = ", ".join(repr(key) for key in stored) if stored else "none yet"
                raise NotFound(
                    f"connection {found.name!r} has no sync cursor for the account {account!r}; "
                    f"cursors are kept per account, and its accounts with one are: {listed}"
                )
            await uow.commit()

    async def positions(
        self, user_id: str, *, connection: str | None = None, symbol: str | None = None
    ) -> Holdings:
        """The user's stored positions, optionally of one connection or one symbol (symbols
        compare without regard to case).

        :raises NotFound: no such user, or the user has no connection by that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            connection_id, names = await user_scope(uow, user_id, connection)
            found = await uow.positions.list(user_id, connection_id=connection_id)
        shown = tuple(each for each in found if _same_symbol(symbol, each.instrument.symbol))
        return Holdings(positions=shown, connection_names=names)

    async def trades(
        self,
        user_id: str,
        *,
        connection: str | None = None,
        symbol: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> TradeList:
        """The user's stored trades, oldest first: executed at or after ``since`` and before
        ``until`` (UTC), of one connection or symbol, the newest ``limit`` of them.

        :raises DomainError: ``since`` is not earlier than ``until``, or ``limit`` is below 1.
        :raises NotFound: no such user, or the user has no connection by that name.
        """
        check_window(since, until)
        if limit is not None and limit < 1:
            raise DomainError(f"limit must be 1 or more, got {limit}")
        async with self._context.repository.unit_of_work() as uow:
            connection_id, names = await user_scope(uow, user_id, connection)
            if symbol is None and until is None:
                found = await uow.trades.list(
                    user_id, connection_id=connection_id, since=since, limit=limit
                )
                return TradeList(trades=tuple(found), connection_names=names)
            # Filtered in the database, a page at a time, newest first, up to ``limit``.
            shown: list[Trade] = []
            before = None
            while limit is None or len(shown) < limit:
                size = MAX_PAGE_SIZE if limit is None else min(MAX_PAGE_SIZE, limit - len(shown))
                page = await uow.trades.page(
                    user_id,
                    connection_id=connection_id,
                    symbol=symbol,
                    since=since,
                    until=until,
                    before=before,
                    limit=size,
                )
                shown.extend(page.items)
                if page.next is None:
                    break
                before = page.next
        return TradeList(trades=tuple(reversed(shown)), connection_names=names)

    async def stream_trades(
        self,
        user_id: str,
        *,
        connection: str | None = None,
        symbol: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        page_size: int = STREAM_PAGE_SIZE,
    ) -> TradeStream:
        """The trades :meth:`trades` lists (same filters, oldest first; ties in time in the
        order they were stored), read a page of ``page_size`` at a time as they are iterated,
        so memory does not grow with the user's history. The scope is checked here, before
        any page is read. See :func:`tradecore.services.listings.open_trade_stream`.

        :raises DomainError: ``since`` is not earlier than ``until``, ``limit`` is below 1, or
            ``page_size`` is outside 1 to 500.
        :raises NotFound: no such user, or the user has no connection by that name.
        """
        return await open_trade_stream(
            self._context.repository,
            user_id,
            connection=connection,
            symbol=symbol,
            since=since,
            until=until,
            limit=limit,
            page_size=page_size,
        )

    async def trade_page(
        self,
        user_id: str,
        *,
        connection: str | None = None,
        symbol: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> TradesPage:
        """One page of the user's stored trades, newest first: executed at or after ``since``
        and before ``until`` (UTC), of one connection or symbol (symbols compare regardless of
        the case of ASCII letters). Only the page is read, however many trades the user has.

        :param cursor: the ``next_cursor`` of the previous page; ``None`` for the first page.
        :param limit: how many trades a page holds, 1 to 500.
        :raises DomainError: ``since`` is not earlier than ``until``, ``limit`` is out of
            range, or the cursor is not one a page of trades gave out.
        :raises NotFound: no such user, or the user has no connection by that name.
        """
        check_window(since, until)
        check_page_size(limit)
        before = decode_cursor("trades", cursor)
        async with self._context.repository.unit_of_work() as uow:
            connection_id, names = await user_scope(uow, user_id, connection)
            page = await uow.trades.page(
                user_id,
                connection_id=connection_id,
                symbol=symbol,
                since=since,
                until=until,
                before=before,
                limit=limit,
            )
        return TradesPage(
            items=page.items,
            next_cursor=encode_cursor("trades", page.next),
            connection_names=names,
        )

    async def equity(
        self,
        user_id: str,
        *,
        connection: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        max_points: int = MAX_EQUITY_POINTS,
    ) -> EquityHistory:
        """The user's equity history: each connection's market value at each sync taken at or
        after ``since`` and before ``until`` (UTC), one series per connection and currency (of
        the connection named, or of all the user's connections), by connection name.

        A value is the sum of the market values the broker reported for the connection's
        positions in that currency when the sync stored them; positions without one are
        counted in each point's ``unpriced``. No series holds more than ``max_points`` points
        (at most 2,000): a longer history is thinned by the store to the last point of equal
        time buckets (:attr:`EquityHistory.every`), so years of syncs are never loaded whole.

        :raises DomainError: ``since`` is not earlier than ``until``, a time is naive, or
            ``max_points`` is outside 1..2,000.
        :raises NotFound: no such user, or the user has no connection by that name.
        """
        checked_equity_query(since, until, max_points)
        async with self._context.repository.unit_of_work() as uow:
            connection_id, names = await user_scope(uow, user_id, connection)
            return await read_equity(
                uow,
                user_id,
                connection_id=connection_id,
                names=names,
                since=since,
                until=until,
                max_points=max_points,
            )

    async def _sync_one(
        self, connection: BrokerConnection, progress: SyncProgress | None
    ) -> SyncOutcome:
        def fetched(count: int) -> None:
            if progress is not None:
                progress.fetched(connection, count)

        try:
            async with self._context.open_broker(connection) as broker:
                result = await sync_connection(
                    repository=self._context.repository,
                    broker=broker,
                    connection=connection,
                    clock=self._context.clock,
                    on_trades=fetched,
                )
        except Exception as exc:  # one connection's failure is its outcome, never the others'
            return SyncOutcome(
                connection=connection,
                problem=describe_broker_failure(exc, connection),
                error=exc,
            )
        return SyncOutcome(connection=connection, result=result)


def _same_symbol(symbol: str | None, candidate: str) -> bool:
    return symbol is None or candidate.casefold() == symbol.strip().casefold()
