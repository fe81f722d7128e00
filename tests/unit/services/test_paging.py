"""Pages of trades, orders and runs through the use cases: every row once, newest first, an
opaque cursor that is refused in one sentence when damaged, a bounded page size, and never
another user's rows (not even with that user's cursor)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from tradecore.domain import OrderStatus
from tradecore.errors import DomainError, NotFound
from tradecore.ports import PageKey
from tradecore.services import (
    Automation,
    Connections,
    Orders,
    Portfolio,
    ServiceContext,
    Users,
    decode_cursor,
    encode_cursor,
)
from tradecore.testing.builders import DEFAULT_TIME, make_order, make_run, make_trade

REFUSED = r"^the page cursor is not valid \(cut short, edited, or from another listing\): "


async def two_users(context: ServiceContext) -> dict[str, str]:
    """Alice and Bob, each with a connection ``main`` holding 7 trades (two symbols, two at
    the same time), 5 orders and 4 runs; returns the user ids by name."""
    ids = {}
    for name in ("alice", "bob"):
        user = (await Users(context).add(name)).id
        connection = await Connections(context).add(user, broker="fake", name="main")
        ids[name] = user
        trades = [
            make_trade(
                connection_id=connection.id,
                broker_trade_id=f"{name}-t{n}",
                symbol="BTCUSDT" if n % 2 else "ETHUSDT",
                executed_at=DEFAULT_TIME + timedelta(minutes=min(n, 5)),
            )
            for n in range(7)
        ]
        async with context.repository.unit_of_work() as uow:
            await uow.trades.add_new(user, trades)
            for n in range(5):
                await uow.orders.add(
                    user,
                    make_order(
                        connection_id=connection.id,
                        client_order_id=f"{name}-o{n}",
                        status=OrderStatus.FILLED if n % 2 else OrderStatus.OPEN,
                        created_at=DEFAULT_TIME + timedelta(minutes=n),
                    ),
                )
            for n in range(4):
                await uow.runs.add(
                    make_run(
                        user_id=user,
                        id=f"{name}-r{n}",
                        started_at=DEFAULT_TIME + timedelta(minutes=n),
                    )
                )
            await uow.commit()
    return ids


async def test_trade_pages_list_every_trade_once_newest_first(context: ServiceContext) -> None:
    ids = await two_users(context)
    portfolio = Portfolio(context)
    first = await portfolio.trade_page(ids["alice"], limit=3)
    assert first.next_cursor is not None
    assert first.next_cursor.replace("-", "").replace("_", "").isalnum()  # url-safe as it is
    second = await portfolio.trade_page(ids["alice"], cursor=first.next_cursor, limit=3)
    third = await portfolio.trade_page(ids["alice"], cursor=second.next_cursor, limit=3)
    assert third.next_cursor is None
    listed = [t.broker_trade_id for page in (first, second, third) for t in page.items]
    assert listed == [f"alice-t{n}" for n in (6, 5, 4, 3, 2, 1, 0)]
    assert set(first.connection_names.values()) == {"main"}


async def test_trade_pages_filter_in_the_store(context: ServiceContext) -> None:
    ids = await two_users(context)
    portfolio = Portfolio(context)
    page = await portfolio.trade_page(
        ids["alice"],
        connection="main",
        symbol=" btcusdt ",
        since=DEFAULT_TIME + timedelta(minutes=1),
        until=DEFAULT_TIME + timedelta(minutes=5),
        limit=500,
    )
    assert [t.broker_trade_id for t in page.items] == ["alice-t3", "alice-t1"]
    assert page.next_cursor is None
    # The old listing, filtered the same way, is the same rows oldest first.
    listing = await portfolio.trades(ids["alice"], symbol="BTCUSDT", limit=2)
    assert [t.broker_trade_id for t in listing.trades] == ["alice-t3", "alice-t5"]
    with pytest.raises(DomainError, match="since must be earlier than until"):
        await portfolio.trade_page(ids["alice"], since=DEFAULT_TIME, until=DEFAULT_TIME)
    with pytest.raises(NotFound):
        await portfolio.trade_page(ids["alice"], connection="nope")


async def test_no_page_shows_another_users_rows_even_with_their_cursor(
    context: ServiceContext,
) -> None:
    ids = await two_users(context)
    portfolio, orders, automation = Portfolio(context), Orders(context), Automation(context)
    alice, bob = ids["alice"], ids["bob"]
    bobs = await portfolio.trade_page(bob, limit=2)
    pages = [await portfolio.trade_page(alice, cursor=bobs.next_cursor, limit=500)]
    pages.append(await portfolio.trade_page(alice, limit=500))
    assert all(t.broker_trade_id.startswith("alice-") for page in pages for t in page.items)
    assert len(pages[1].items) == 7
    order_page = await orders.page(alice, limit=500)
    assert [o.client_order_id for o in order_page.items] == [
        f"alice-o{n}" for n in range(4, -1, -1)
    ]
    run_page = await automation.run_page(alice, limit=500)
    assert [r.id for r in run_page.items] == ["alice-r3", "alice-r2", "alice-r1", "alice-r0"]


@pytest.mark.parametrize("limit", [0, -1, 501, True])
async def test_a_page_size_out_of_range_is_refused(context: ServiceContext, limit: int) -> None:
    ids = await two_users(context)
    message = r"^a page holds 1 to 500 rows, got "
    with pytest.raises(DomainError, match=message):
        await Portfolio(context).trade_page(ids["alice"], limit=limit)
    with pytest.raises(DomainError, match=message):
        await Orders(context).page(ids["alice"], limit=limit)
    with pytest.raises(DomainError, match=message):
        await Automation(context).run_page(ids["alice"], limit=limit)


async def test_a_damaged_or_foreign_cursor_is_refused_in_one_sentence(
    context: ServiceContext,
) -> None:
    ids = await two_users(context)
    portfolio = Portfolio(context)
    good = (await portfolio.trade_page(ids["alice"], limit=2)).next_cursor
    assert good is not None
    raw = bytearray(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
    raw[-3] ^= 1  # one bit of the position changed: the checksum no longer matches
    edited = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    of_orders = (await Orders(context).page(ids["alice"], limit=1)).next_cursor
    for bad in ("garbage!", "", "abc", good[:-4], edited, of_orders, good + "x" * 400):
        with pytest.raises(DomainError, match=REFUSED):
            await portfolio.trade_page(ids["alice"], cursor=bad)
    with pytest.raises(DomainError, match=REFUSED):
        await Automation(context).run_page(ids["alice"], cursor=good)
    assert (await portfolio.trade_page(ids["alice"], cursor=f" {good} ")).items


def test_a_cursor_round_trips_its_key_and_kind() -> None:
    numbered = PageKey(DEFAULT_TIME, 12345)
    named = PageKey(DEFAULT_TIME + timedelta(microseconds=7), "run-1")
    assert decode_cursor("trades", encode_cursor("trades", numbered)) == numbered
    assert decode_cursor("runs", encode_cursor("runs", named)) == named
    assert encode_cursor("trades", None) is None
    assert decode_cursor("trades", None) is None
    with pytest.raises(DomainError, match=REFUSED):
        decode_cursor("orders", encode_cursor("trades", numbered))
    with pytest.raises(DomainError, match=REFUSED):
        decode_cursor("trades", encode_cursor("trades", named))  # a run id where a row number goes


async def test_order_pages_open_only_and_run_pages_follow_their_cursors(
    context: ServiceContext,
) -> None:
    ids = await two_users(context)
    orders = Orders(context)
    first = await orders.page(ids["alice"], open_only=True, connection="main", limit=2)
    rest = await orders.page(ids["alice"], open_only=True, cursor=first.next_cursor, limit=2)
    assert [o.client_order_id for o in first.items + rest.items] == [
        "alice-o4",
        "alice-o2",
        "alice-o0",
    ]
    assert rest.next_cursor is None
    assert {c.name for c in first.connections} == {"main"}
    automation = Automation(context)
    runs = await automation.run_page(ids["alice"], limit=3)
    older = await automation.run_page(ids["alice"], cursor=runs.next_cursor, limit=3)
    assert [r.id for r in runs.items + older.items] == [f"alice-r{n}" for n in (3, 2, 1, 0)]
    with pytest.raises(NotFound):
        await automation.run_page("no-such-user")
