"""Contract tests of keyset paging: ``uow.trades.page`` (and ``page_oldest_first``),
``uow.orders.page``, ``uow.runs.page``.

Each walks every page of a listing with ties in time and checks that the pages together list
every row once, newest first; that filters, cursors and the user scope hold; and that a bad
page size is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from tradecore.domain import OrderStatus
from tradecore.errors import DomainError
from tradecore.ports.paging import Page, PageKey
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_order, make_run, make_trade
from tradecore.testing.contracts.repository._helpers import (
    T0,
    ContractBase,
    add_connection,
    add_owner,
    committing,
    keys,
    minutes,
)

T = TypeVar("T")


async def _walk(
    fetch: Callable[[PageKey | None], Awaitable[Page[T]]],
) -> list[tuple[T, ...]]:
    # Every page, following the next keys from the first page to the last.
    pages = [await fetch(None)]
    while pages[-1].next is not None:
        pages.append(await fetch(pages[-1].next))
        assert len(pages) < 100, "paging does not end"
    return [page.items for page in pages]


class PagingTests(ContractBase):
    """Pages of trades, orders and runs: newest first, complete, filtered, scoped by user."""

    @pytest.mark.asyncio
    async def test_trade_pages_list_every_trade_once_newest_first(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        # Stored out of time order, three of them at the same time (ties break on storage order).
        times = {"a": 3, "b": 1, "c": 3, "d": 0, "e": 3, "f": 2, "g": 5}
        async with committing(repository) as uow:
            for key, minute in times.items():
                trade = make_trade(
                    connection_id=owner.connection.id,
                    broker_trade_id=key,
                    executed_at=T0 + minutes(minute),
                )
                await uow.trades.add_new(owner.user.id, [trade])

        async with repository.unit_of_work() as uow:
            pages = await _walk(
                lambda before: uow.trades.page(owner.user.id, before=before, limit=2)
            )
        assert [keys(page) for page in pages] == [["g", "e"], ["c", "a"], ["f", "b"], ["d"]]

    @pytest.mark.asyncio
    async def test_oldest_first_pages_mirror_the_newest_first_ones(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        other = await add_connection(repository, owner, "other")
        # Out of time order, with ties (broken by storage order), two symbols, two connections.
        times = {"a": 3, "b": 1, "c": 3, "d": 0, "e": 3, "f": 2, "g": 5, "h": 1}
        async with committing(repository) as uow:
            for key, minute in times.items():
                trade = make_trade(
                    connection_id=other.id if key == "h" else owner.connection.id,
                    broker_trade_id=key,
                    symbol="ETHUSDT" if key in "bf" else "BTCUSDT",
                    executed_at=T0 + minutes(minute),
                )
                await uow.trades.add_new(owner.user.id, [trade])
        user_id = owner.user.id
        async with repository.unit_of_work() as uow:
            pages = await _walk(
                lambda after: uow.trades.page_oldest_first(user_id, after=after, limit=3)
            )
            newest_first = await _walk(
                lambda before: uow.trades.page(user_id, before=before, limit=8)
            )
            assert [keys(page) for page in pages] == [["d", "b", "h"], ["f", "a", "c"], ["e", "g"]]
            assert keys(sum(pages, ())) == keys(newest_first[0])[::-1]
            window = await _walk(
                lambda after: uow.trades.page_oldest_first(
                    user_id,
                    connection_id=owner.connection.id,
                    symbol=" btcusdt ",
                    since=T0 + minutes(1),
                    until=T0 + minutes(5),
                    after=after,
                    limit=1,
                )
            )
            assert [keys(page) for page in window] == [["a"], ["c"], ["e"]]
            full = await uow.trades.page_oldest_first(user_id, limit=8)
            assert full.next is None
            assert len(full.items) == 8
            with pytest.raises(DomainError):
                await uow.trades.page_oldest_first(user_id, limit=0)

    @pytest.mark.asyncio
    async def test_a_full_last_page_has_no_next_key(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        batch = [
            make_trade(connection_id=owner.connection.id, broker_trade_id=str(n)) for n in range(4)
        ]
        async with committing(repository) as uow:
            await uow.trades.add_new(owner.user.id, batch)
        async with repository.unit_of_work() as uow:
            first = await uow.trades.page(owner.user.id, limit=2)
            assert first.next is not None
            second = await uow.trades.page(owner.user.id, before=first.next, limit=2)
            assert len(second.items) == 2
            assert second.next is None
            assert (await uow.trades.page(owner.user.id, limit=4)).next is None

    @pytest.mark.asyncio
    async def test_trade_pages_filter_connection_symbol_and_time(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        other = await add_connection(repository, owner, "other")
        async with committing(repository) as uow:
            await uow.trades.add_new(
                owner.user.id,
                [
                    make_trade(
                        connection_id=owner.connection.id,
                        broker_trade_id=f"btc{n}",
                        symbol="BTCUSDT",
                        executed_at=T0 + minutes(n),
                    )
                    for n in range(6)
                ]
                + [
                    make_trade(
                        connection_id=owner.connection.id,
                        broker_trade_id=f"eth{n}",
                        symbol="ETHUSDT",
                        executed_at=T0 + minutes(n),
                    )
                    for n in range(6)
                ]
                + [
                    make_trade(
                        connection_id=other.id,
                        broker_trade_id=f"o{n}",
                        symbol="btcusdt",
                        executed_at=T0 + minutes(n),
                    )
                    for n in range(3)
                ],
            )
        user_id = owner.user.id
        async with repository.unit_of_work() as uow:
            by_symbol = await _walk(
                lambda before: uow.trades.page(user_id, symbol=" btcUSDT ", before=before, limit=4)
            )
            assert sorted(keys(sum(by_symbol, ()))) == sorted(
                [f"btc{n}" for n in range(6)] + [f"o{n}" for n in range(3)]
            )
            of_other = await uow.trades.page(user_id, connection_id=other.id, limit=10)
            assert keys(of_other.items) == ["o2", "o1", "o0"]
            window = await _walk(
                lambda before: uow.trades.page(
                    user_id,
                    connection_id=owner.connection.id,
                    symbol="ETHUSDT",
                    since=T0 + minutes(1),
                    until=T0 + minutes(4),
                    before=before,
                    limit=2,
                )
            )
            assert [keys(page) for page in window] == [["eth3", "eth2"], ["eth1"]]

    @pytest.mark.asyncio
    async def test_pages_never_show_another_users_rows(self, repository: RepositoryPort) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        async with committing(repository) as uow:
            for owner, name in ((alice, "alice"), (bob, "bob")):
                await uow.trades.add_new(
                    owner.user.id,
                    [
                        make_trade(
                            connection_id=owner.connection.id,
                            broker_trade_id=f"{name}{n}",
                            executed_at=T0 + minutes(n),
                        )
                        for n in range(3)
                    ],
                )
                await uow.orders.add(
                    owner.user.id,
                    make_order(connection_id=owner.connection.id, client_order_id=f"{name}-order"),
                )
                await uow.runs.add(make_run(user_id=owner.user.id, id=f"{name}-run"))
        async with repository.unit_of_work() as uow:
            trades = await uow.trades.page(alice.user.id, limit=50)
            assert sorted(keys(trades.items)) == ["alice0", "alice1", "alice2"]
            assert trades.next is None
            # Bob's connection named by Alice: as if it did not exist.
            assert (
                await uow.trades.page(alice.user.id, connection_id=bob.connection.id, limit=50)
            ).items == ()
            orders = await uow.orders.page(alice.user.id, limit=50)
            assert [o.client_order_id for o in orders.items] == ["alice-order"]
            assert (
                await uow.orders.page(alice.user.id, connection_id=bob.connection.id, limit=50)
            ).items == ()
            runs = await uow.runs.page(alice.user.id, limit=50)
            assert [r.id for r in runs.items] == ["alice-run"]

    @pytest.mark.asyncio
    async def test_a_page_holds_one_row_or_more(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        async with repository.unit_of_work() as uow:
            for limit in (0, -1):
                with pytest.raises(DomainError):
                    await uow.trades.page(owner.user.id, limit=limit)
                with pytest.raises(DomainError):
                    await uow.orders.page(owner.user.id, limit=limit)
                with pytest.raises(DomainError):
                    await uow.runs.page(owner.user.id, limit=limit)

    @pytest.mark.asyncio
    async def test_order_pages_newest_first_open_only_and_by_connection(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        other = await add_connection(repository, owner, "other")
        statuses = [OrderStatus.OPEN, OrderStatus.FILLED, OrderStatus.OPEN, OrderStatus.CANCELED]
        async with committing(repository) as uow:
            for n, status in enumerate(statuses):
                for connection in (owner.connection, other):
                    await uow.orders.add(
                        owner.user.id,
                        make_order(
                            connection_id=connection.id,
                            client_order_id=f"{connection.name}-{n}",
                            status=status,
                            created_at=T0 + minutes(n // 2),  # pairs created at the same time
                        ),
                    )
        user_id = owner.user.id
        async with repository.unit_of_work() as uow:
            pages = await _walk(lambda before: uow.orders.page(user_id, before=before, limit=3))
            assert [[o.client_order_id for o in page] for page in pages] == [
                ["other-3", "main-3", "other-2"],
                ["main-2", "other-1", "main-1"],
                ["other-0", "main-0"],
            ]
            open_main = await _walk(
                lambda before: uow.orders.page(
                    user_id,
                    connection_id=owner.connection.id,
                    open_only=True,
                    before=before,
                    limit=1,
                )
            )
            assert [[o.client_order_id for o in page] for page in open_main] == [
                ["main-2"],
                ["main-0"],
            ]

    @pytest.mark.asyncio
    async def test_run_pages_newest_first_ties_by_id(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        starts = {"r-a": 1, "r-b": 2, "r-c": 1, "r-d": 0, "r-e": 2}
        async with committing(repository) as uow:
            for run_id, minute in starts.items():
                await uow.runs.add(
                    make_run(user_id=owner.user.id, id=run_id, started_at=T0 + minutes(minute))
                )
        async with repository.unit_of_work() as uow:
            pages = await _walk(lambda before: uow.runs.page(owner.user.id, before=before, limit=2))
            listed = await uow.runs.list(owner.user.id, limit=10)
        assert [[r.id for r in page] for page in pages] == [["r-e", "r-b"], ["r-c", "r-a"], ["r-d"]]
        assert [r.id for page in pages for r in page] == [r.id for r in listed]
