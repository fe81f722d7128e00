"""Syncing one connection: the progress callback sees every page of trades as it arrives."""

from __future__ import annotations

import pytest

from tradecore.domain import Account, TradePage
from tradecore.errors import BrokerUnavailable, MalformedResponse
from tradecore.services import sync_connection
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import make_connection, make_position, make_trade, make_user
from tradecore_adapters.memory import MemoryRepository


async def repository_with_alices_connection() -> MemoryRepository:
    repository = MemoryRepository()
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user())
        await uow.connections.add(make_connection())
        await uow.commit()
    return repository


def broker_with_trades(clock: FakeClock, connection_id: str, count: int) -> FakeBroker:
    account = Account(connection_id=connection_id, account_id="spot", currency="USD")
    trades = [
        make_trade(connection_id=connection_id, broker_trade_id=str(number))
        for number in range(count)
    ]
    return FakeBroker(
        clock=clock, connection_id=connection_id, accounts=[account], trades=trades, page_size=2
    )


async def test_on_trades_is_called_after_each_page_with_that_pages_count() -> None:
    clock = FakeClock()
    connection = make_connection()
    repository = await repository_with_alices_connection()
    broker = broker_with_trades(clock, connection.id, 5)
    pages: list[int] = []

    result = await sync_connection(
        repository=repository,
        broker=broker,
        connection=connection,
        clock=clock,
        on_trades=pages.append,
    )

    assert pages == [2, 2, 1]
    assert sum(pages) == result.trades_seen == 5
    assert result.trades_new == 5


async def test_on_trades_sees_an_empty_page_when_nothing_is_new() -> None:
    clock = FakeClock()
    connection = make_connection()
    repository = await repository_with_alices_connection()
    broker = broker_with_trades(clock, connection.id, 2)
    await sync_connection(repository=repository, broker=broker, connection=connection, clock=clock)
    pages: list[int] = []

    result = await sync_connection(
        repository=repository,
        broker=broker,
        connection=connection,
        clock=clock,
        on_trades=pages.append,
    )

    assert pages == [0]
    assert result.trades_new == 0


async def test_a_sync_failing_on_its_first_page_reports_no_pages_and_stores_nothing() -> None:
    clock = FakeClock()
    connection = make_connection()
    repository = await repository_with_alices_connection()
    broker = broker_with_trades(clock, connection.id, 5)
    broker.fail("get_trades", BrokerUnavailable("down", broker="fake"), times=1)
    pages: list[int] = []

    with pytest.raises(BrokerUnavailable):
        await sync_connection(
            repository=repository,
            broker=broker,
            connection=connection,
            clock=clock,
            on_trades=pages.append,
        )

    assert pages == []
    async with repository.unit_of_work() as uow:
        assert await uow.trades.count(connection.user_id) == 0


async def test_without_on_trades_sync_works_as_before() -> None:
    clock = FakeClock()
    connection = make_connection()
    repository = await repository_with_alices_connection()
    broker = broker_with_trades(clock, connection.id, 3)

    result = await sync_connection(
        repository=repository, broker=broker, connection=connection, clock=clock
    )

    assert result.trades_seen == 3


class _RefusingOneAccount(FakeBroker):
    """A fake whose adapter refuses the trades of the ``futures`` account as malformed."""

    async def get_trades(self, account: Account, *, cursor: str | None = None) -> TradePage:
        page = await super().get_trades(account, cursor=cursor)
        if account.account_id == "futures" and page.trades:
            raise MalformedResponse("'id' is -1, outside the range", broker="fake")
        return page


def broker_with_two_accounts(clock: FakeClock, connection_id: str) -> FakeBroker:
    accounts = [
        Account(connection_id=connection_id, account_id=name) for name in ("futures", "spot")
    ]
    trades = [
        make_trade(connection_id=connection_id, account_id=name, broker_trade_id=str(number))
        for name in ("futures", "spot")
        for number in range(3)
    ]
    positions = [
        make_position(connection_id=connection_id, account_id=name) for name in ("futures", "spot")
    ]
    return _RefusingOneAccount(
        clock=clock,
        connection_id=connection_id,
        accounts=accounts,
        trades=trades,
        positions=positions,
        page_size=2,
    )


async def test_an_account_refused_as_malformed_stores_nothing_while_the_others_are_synced() -> None:
    clock = FakeClock()
    connection = make_connection()
    repository = await repository_with_alices_connection()
    broker = broker_with_two_accounts(clock, connection.id)

    with pytest.raises(MalformedResponse) as caught:
        await sync_connection(
            repository=repository, broker=broker, connection=connection, clock=clock
        )

    assert str(caught.value) == (
        "account 'futures': 'id' is -1, outside the range (nothing of that was stored; the rest "
        "was synced, accounts: 'spot')"
    )
    user_id = connection.user_id
    async with repository.unit_of_work() as uow:
        stored = await uow.trades.list(user_id)
        assert sorted((t.account_id, t.broker_trade_id) for t in stored) == [
            ("spot", "0"),
            ("spot", "1"),
            ("spot", "2"),
        ]
        assert [p.account_id for p in await uow.positions.list(user_id)] == ["spot"]
        assert await uow.cursors.get(user_id, connection.id, "futures") is None
        assert await uow.cursors.get(user_id, connection.id, "spot") == "3"


async def test_a_connection_whose_only_account_is_refused_raises_the_refusal_itself() -> None:
    clock = FakeClock()
    connection = make_connection()
    repository = await repository_with_alices_connection()
    account = Account(connection_id=connection.id, account_id="futures")
    trade = make_trade(connection_id=connection.id, account_id="futures")
    broker = _RefusingOneAccount(
        clock=clock, connection_id=connection.id, accounts=[account], trades=[trade]
    )
    with pytest.raises(MalformedResponse, match=r"^'id' is -1, outside the range$"):
        await sync_connection(
            repository=repository, broker=broker, connection=connection, clock=clock
        )
    async with repository.unit_of_work() as uow:
        assert await uow.trades.count(connection.user_id) == 0


class _RefusingOneSymbol(FakeBroker):
    """A fake whose adapter refuses the ETHUSDT page of each call, as an adapter paging by
    symbol reports a symbol whose page held a value outside its range."""

    async def get_trades(self, account: Account, *, cursor: str | None = None) -> TradePage:
        page = await super().get_trades(account, cursor=cursor)
        kept = [trade for trade in page.trades if trade.instrument.symbol != "ETHUSDT"]
        refused = ["ETHUSDT: row 0: 'id' is -1"] if len(kept) < len(page.trades) else []
        return TradePage(trades=kept, cursor=page.cursor, has_more=page.has_more, refused=refused)


async def test_a_refused_symbol_page_stores_nothing_of_it_and_the_other_symbols_are_synced() -> (
    None
):
    clock = FakeClock()
    connection = make_connection()
    repository = await repository_with_alices_connection()
    account = Account(connection_id=connection.id, account_id="spot")
    trades = [
        make_trade(connection_id=connection.id, broker_trade_id=str(number), symbol=symbol)
        for number, symbol in enumerate(["BTCUSDT", "ETHUSDT", "BNBUSDT"])
    ]
    broker = _RefusingOneSymbol(
        clock=clock, connection_id=connection.id, accounts=[account], trades=trades
    )

    with pytest.raises(MalformedResponse) as caught:
        await sync_connection(
            repository=repository, broker=broker, connection=connection, clock=clock
        )

    assert str(caught.value) == (
        "account 'spot': ETHUSDT: row 0: 'id' is -1 (nothing of that was stored; the rest was "
        "synced, accounts: 'spot')"
    )
    async with repository.unit_of_work() as uow:
        stored = await uow.trades.list(connection.user_id)
        assert sorted(t.instrument.symbol for t in stored) == ["BNBUSDT", "BTCUSDT"]


class _AddingAStranger(FakeBroker):
    # The page's second fill belongs to another account of the connection.
    async def get_trades(self, account: Account, *, cursor: str | None = None) -> TradePage:
        page = await super().get_trades(account, cursor=cursor)
        stranger = make_trade(connection_id=account.connection_id, account_id="margin")
        return TradePage(
            trades=[page.trades[0], stranger, *page.trades[1:]],
            cursor=page.cursor,
            has_more=page.has_more,
        )


async def test_a_page_holding_a_fill_of_another_account_stores_nothing() -> None:
    clock = FakeClock()
    connection = make_connection()
    repository = await repository_with_alices_connection()
    account = Account(connection_id=connection.id, account_id="spot")
    trades = [make_trade(connection_id=connection.id, broker_trade_id=str(n)) for n in range(3)]
    broker = _AddingAStranger(
        clock=clock, connection_id=connection.id, accounts=[account], trades=trades, page_size=10
    )

    with pytest.raises(MalformedResponse, match=r"account 'margin' while syncing") as caught:
        await sync_connection(
            repository=repository, broker=broker, connection=connection, clock=clock
        )

    assert f"broker returned data of connection {connection.id!r}" in str(caught.value)
    async with repository.unit_of_work() as uow:
        assert await uow.trades.list(connection.user_id) == []
