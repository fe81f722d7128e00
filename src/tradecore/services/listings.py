"""Every stored trade of a user, read a page at a time: the listing behind ``tradecore trades
--json``, in memory that does not grow with the number of trades.

:func:`open_trade_stream` checks the request and the user's scope at once (so a front end can
refuse it before writing anything), then hands out the trades oldest first as an asynchronous
iterator of pages. Each page is one keyset query (``uow.trades.page_oldest_first``, the
mirror of the pages the web API shows newest first) in its own short unit of work: no
transaction stays open while a slow reader (a pipe, a terminal) takes the rows, and nothing
but the current page is held. Trades stored while the listing runs are listed if they fall
after the page being read, never twice. See ``docs/paging.md``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from datetime import datetime
from typing import Final

from attrs import frozen

from tradecore.domain import Trade
from tradecore.errors import DomainError
from tradecore.ports import RepositoryPort, UnitOfWork
from tradecore.ports.paging import PageKey
from tradecore.services.connections import connection_by_name
from tradecore.services.paging import MAX_PAGE_SIZE, check_page_size

__all__ = [
    "STREAM_PAGE_SIZE",
    "TradeFilter",
    "TradeStream",
    "check_window",
    "open_trade_stream",
    "user_scope",
]

STREAM_PAGE_SIZE: Final = MAX_PAGE_SIZE
"""How many trades one page of a streamed listing reads (the largest page)."""


@frozen(kw_only=True)
class TradeFilter:
    """Which trades a listing holds: of one connection (its id) or symbol, executed at or
    after ``since`` and before ``until`` (UTC)."""

    connection_id: str | None = None
    symbol: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@frozen(kw_only=True)
class TradeStream:
    """A user's trades, oldest first, as they are read.

    :param connection_names: each of the user's connections' name, by id.
    :param pages: the trades, one page (a non-empty tuple) at a time; iterate it once, and
        ``aclose()`` it when stopping early.
    """

    connection_names: Mapping[str, str]
    pages: AsyncGenerator[tuple[Trade, ...], None]


async def open_trade_stream(
    repository: RepositoryPort,
    user_id: str,
    *,
    connection: str | None = None,
    symbol: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    page_size: int = STREAM_PAGE_SIZE,
) -> TradeStream:
    """The user's stored trades, oldest first (by execution time, then the order they were
    stored in), executed at or after ``since`` and before ``until`` (UTC), of one connection
    or symbol (compared regardless of the case of ASCII letters); with ``limit``, only the
    newest ``limit`` of them, still oldest first. Nothing is read beyond the scope check until
    the pages are iterated, and then ``page_size`` trades at a time.

    With ``limit``, the start of the newest ``limit`` trades is found first by walking the
    newest-first pages (reading those rows once more, a page at a time).

    :raises DomainError: ``since`` is not earlier than ``until``, ``limit`` is below 1, or
        ``page_size`` is outside 1 to 500.
    :raises NotFound: no such user, or the user has no connection by that name.
    """
    check_window(since, until)
    if limit is not None and (isinstance(limit, bool) or limit < 1):
        raise DomainError(f"limit must be 1 or more, got {limit}")
    check_page_size(page_size)
    async with repository.unit_of_work() as uow:
        connection_id, names = await user_scope(uow, user_id, connection)
    chosen = TradeFilter(connection_id=connection_id, symbol=symbol, since=since, until=until)
    pages = _oldest_first(repository, user_id, chosen, limit=limit, page_size=page_size)
    return TradeStream(connection_names=names, pages=pages)


async def _oldest_first(
    repository: RepositoryPort,
    user_id: str,
    chosen: TradeFilter,
    *,
    limit: int | None,
    page_size: int,
) -> AsyncGenerator[tuple[Trade, ...], None]:
    # One keyset page per unit of work, each continuing after the last row of the one before.
    after, skip = None, 0
    if limit is not None:
        after, skip = await _start_of_newest(repository, user_id, chosen, limit, page_size)
    left = limit
    while left is None or left > 0:
        size = page_size if left is None else min(page_size, left + skip)
        async with repository.unit_of_work() as uow:
            page = await uow.trades.page_oldest_first(
                user_id,
                connection_id=chosen.connection_id,
                symbol=chosen.symbol,
                since=chosen.since,
                until=chosen.until,
                after=after,
                limit=size,
            )
        items = page.items[skip:] if left is None else page.items[skip : skip + left]
        skip = 0
        if left is not None:
            left -= len(items)
        if items:
            yield items
        if page.next is None:
            return
        after = page.next


async def _start_of_newest(
    repository: RepositoryPort,
    user_id: str,
    chosen: TradeFilter,
    limit: int,
    page_size: int,
) -> tuple[PageKey | None, int]:
    # Where the newest ``limit`` trades begin: the key of the trade just older than them (walk
    # newest first over limit + 1 trades, holding a page at a time); or, when there are at
    # most limit + 1 trades in all, no key and how many of the oldest to skip.
    before: PageKey | None = None
    seen = 0
    while seen <= limit:
        async with repository.unit_of_work() as uow:
            page = await uow.trades.page(
                user_id,
                connection_id=chosen.connection_id,
                symbol=chosen.symbol,
                since=chosen.since,
                until=chosen.until,
                before=before,
                limit=min(page_size, limit + 1 - seen),
            )
        seen += len(page.items)
        if page.next is None:
            return None, max(0, seen - limit)
        before = page.next
    return before, 0


async def user_scope(
    uow: UnitOfWork, user_id: str, connection: str | None
) -> tuple[str | None, dict[str, str]]:
    """The id of the connection named (``None`` for all) and every connection's name by id.

    :raises NotFound: no such user, or the user has no connection by that name.
    """
    await uow.users.get(user_id)
    connection_id = None
    if connection is not None:
        connection_id = (await connection_by_name(uow, user_id, connection)).id
    names = {each.id: each.name for each in await uow.connections.list(user_id)}
    return connection_id, names


def check_window(since: datetime | None, until: datetime | None) -> None:
    """Refuse a time window that ends before it starts.

    :raises DomainError: ``since`` is not earlier than ``until``.
    """
    if since is not None and until is not None and since >= until:
        raise DomainError("since must be earlier than until")
