"""``Portfolio.stream_trades``: the trades ``Portfolio.trades`` lists, in the same order, read a
keyset page at a time: never more than one page asked of the repository per call, never the
whole listing, and nothing read before the caller asks for the next page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any, Self

import pytest

from tradecore.domain import Trade
from tradecore.errors import DomainError, NotFound
from tradecore.ports import RepositoryPort
from tradecore.ports.paging import Page
from tradecore.services import Connections, Portfolio, ServiceContext, Users
from tradecore.testing.builders import DEFAULT_TIME, make_trade

Call = tuple[str, int | None, int]  # method, rows asked for, rows returned


class CountingTrades:
    """The trade repository of a unit of work, recording every listing call."""

    def __init__(self, inner: Any, calls: list[Call]) -> None:
        self._inner, self._calls = inner, calls

    async def page(self, user_id: str, **options: Any) -> Page[Trade]:
        found: Page[Trade] = await self._inner.page(user_id, **options)
        self._calls.append(("page", options["limit"], len(found.items)))
        return found

    async def page_oldest_first(self, user_id: str, **options: Any) -> Page[Trade]:
        found: Page[Trade] = await self._inner.page_oldest_first(user_id, **options)
        self._calls.append(("page_oldest_first", options["limit"], len(found.items)))
        return found

    async def list(self, user_id: str, **options: Any) -> Sequence[Trade]:
        found: Sequence[Trade] = await self._inner.list(user_id, **options)
        self._calls.append(("list", options.get("limit"), len(found)))
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class CountingUnitOfWork:
    def __init__(self, inner: Any, calls: list[Call]) -> None:
        self._inner = inner
        self.trades = CountingTrades(inner.trades, calls)

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class CountingRepository:
    """The memory repository, with every trade-listing call counted in :attr:`calls`."""

    def __init__(self, inner: RepositoryPort) -> None:
        self._inner = inner
        self.calls: list[Call] = []

    def unit_of_work(self) -> Any:
        return CountingUnitOfWork(self._inner.unit_of_work(), self.calls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def alice_with_trades(context: ServiceContext, count: int, *, ties: bool = False) -> str:
    """Alice with connections ``main`` (``count`` trades, two symbols) and ``other`` (3)."""
    alice = (await Users(context).add("alice")).id
    main = await Connections(context).add(alice, broker="fake", name="main")
    other = await Connections(context).add(alice, broker="fake", name="other")
    trades = [
        make_trade(
            connection_id=main.id,
            broker_trade_id=f"t{n:05}",
            symbol="BTCUSDT" if n % 3 else "ETHUSDT",
            executed_at=DEFAULT_TIME + timedelta(minutes=n // 4 if ties else n),
        )
        for n in range(count)
    ]
    trades += [
        make_trade(
            connection_id=other.id,
            broker_trade_id=f"o{n}",
            executed_at=DEFAULT_TIME + timedelta(minutes=n * 7, seconds=30),
        )
        for n in range(3)
    ]
    async with context.repository.unit_of_work() as uow:
        # Stored in reverse, so that storage order and trade ids disagree.
        for trade in reversed(trades):
            await uow.trades.add_new(alice, [trade])
        await uow.commit()
    return alice


async def streamed(portfolio: Portfolio, user_id: str, **options: Any) -> list[Trade]:
    stream = await portfolio.stream_trades(user_id, **options)
    return [trade for page in [page async for page in stream.pages] for trade in page]


FILTERS: list[dict[str, Any]] = [
    {},
    {"connection": "main"},
    {"symbol": "ethusdt"},
    {"since": DEFAULT_TIME + timedelta(minutes=10)},
    {"until": DEFAULT_TIME + timedelta(minutes=20)},
    {"connection": "main", "symbol": "BTCUSDT", "since": DEFAULT_TIME + timedelta(minutes=3)},
    {"limit": 1},
    {"limit": 7},
    {"limit": 8},
    {"limit": 9},
    {"limit": 60},
    {"limit": 1000},
    {"symbol": "BTCUSDT", "limit": 9},
]


@pytest.mark.parametrize("options", FILTERS, ids=[str(each) for each in FILTERS])
async def test_the_stream_lists_what_the_full_listing_lists(
    context: ServiceContext, options: dict[str, Any]
) -> None:
    alice = await alice_with_trades(context, 57)
    portfolio = Portfolio(context)
    listed = (await portfolio.trades(alice, **options)).trades
    assert listed
    assert await streamed(portfolio, alice, page_size=8, **options) == list(listed)


async def test_ties_in_time_are_listed_in_the_order_they_were_stored(
    context: ServiceContext,
) -> None:
    alice = await alice_with_trades(context, 20, ties=True)
    portfolio = Portfolio(context)
    every = await streamed(portfolio, alice, connection="main", page_size=3)
    # Stored in reverse: within each minute, the higher trade id came first.
    assert [t.broker_trade_id for t in every[:4]] == ["t00003", "t00002", "t00001", "t00000"]
    newest_first = []
    cursor = None
    while True:
        page = await portfolio.trade_page(alice, connection="main", cursor=cursor, limit=3)
        newest_first.extend(page.items)
        if (cursor := page.next_cursor) is None:
            break
    assert every == newest_first[::-1]
    assert await streamed(portfolio, alice, connection="main", limit=6, page_size=4) == every[-6:]


async def test_the_repository_is_asked_for_one_page_at_a_time(
    context: ServiceContext,
) -> None:
    alice = await alice_with_trades(context, 997)
    counting = CountingRepository(context.repository)
    portfolio = Portfolio(ServiceContext(repository=counting, clock=context.clock))  # type: ignore[arg-type]
    stream = await portfolio.stream_trades(alice, page_size=100)
    assert counting.calls == []  # nothing read before the first page is asked for
    first = await anext(stream.pages)
    assert len(first) == 100
    assert counting.calls == [("page_oldest_first", 100, 100)]  # and nothing read ahead
    rest = [page async for page in stream.pages]
    assert sum(len(page) for page in rest) == 1000 - 100
    assert [call[0] for call in counting.calls] == ["page_oldest_first"] * 10
    assert max(returned for _, _, returned in counting.calls) == 100


async def test_the_newest_n_are_found_a_page_at_a_time_too(context: ServiceContext) -> None:
    alice = await alice_with_trades(context, 997)
    counting = CountingRepository(context.repository)
    portfolio = Portfolio(ServiceContext(repository=counting, clock=context.clock))  # type: ignore[arg-type]
    newest = await streamed(portfolio, alice, limit=450, page_size=100)
    assert len(newest) == 450
    assert newest == list((await Portfolio(context).trades(alice, limit=450)).trades)
    assert all(asked is not None and asked <= 100 for _, asked, _ in counting.calls)
    assert {method for method, _, _ in counting.calls} == {"page", "page_oldest_first"}
    # 451 rows walked newest first (5 pages), then 450 read oldest first (5 pages).
    assert len(counting.calls) == 10


async def test_the_scope_is_checked_before_any_page(context: ServiceContext) -> None:
    alice = await alice_with_trades(context, 5)
    portfolio = Portfolio(context)
    with pytest.raises(NotFound):
        await portfolio.stream_trades(alice, connection="nope")
    with pytest.raises(NotFound):
        await portfolio.stream_trades("no-such-user")
    since = DEFAULT_TIME
    bad: list[dict[str, Any]] = [
        {"since": since, "until": since},
        {"limit": 0},
        {"page_size": 0},
        {"page_size": 501},
    ]
    for options in bad:
        with pytest.raises(DomainError):
            await portfolio.stream_trades(alice, **options)


async def test_an_empty_listing_has_no_pages(context: ServiceContext) -> None:
    alice = await alice_with_trades(context, 5)
    empty = await streamed(
        Portfolio(context), alice, since=DEFAULT_TIME + timedelta(days=1), limit=3
    )
    assert empty == []
