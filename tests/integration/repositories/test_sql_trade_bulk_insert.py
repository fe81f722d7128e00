"""The bulk trade insert through the driver (SQLite ``executemany``, PostgreSQL one
``INSERT … SELECT FROM unnest`` in psycopg's binary format), on a page as large as a sync writes:
stored trades skipped, duplicates within the page stored once, only the new rows counted, every
value stored exactly (digits and scale, UTC microseconds, NULLs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from attrs import evolve

from tradecore.domain import Trade
from tradecore.testing.builders import make_connection, make_trade, make_user
from tradecore_adapters.sqlalchemy import SqlRepository

START = datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC)


def _trades(connection_id: str, numbers: range) -> list[Trade]:
    return [
        make_trade(
            connection_id=connection_id,
            broker_trade_id=str(n),
            symbol=("BTCUSDT", "ETHBTC")[n % 2],
            quantity=Decimal("0.00100000") * (n + 1),  # trailing zeros kept
            price=Decimal("43123.10") + n,
            fee=-Decimal("0.00000001") * (n + 1),  # rebates too
            fee_asset=None if n % 3 else "BNB",
            executed_at=START + timedelta(microseconds=n),
        )
        for n in numbers
    ]


async def test_a_large_page_stores_only_what_is_new_once_and_counts_it(
    repository: SqlRepository,
) -> None:
    user = make_user()
    connection = make_connection(user_id=user.id)
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.connections.add(connection)
        await uow.commit()
    stored_before = _trades(connection.id, range(0, 1_000))
    async with repository.unit_of_work() as uow:
        assert await uow.trades.add_new(user.id, stored_before) == 1_000
        await uow.commit()

    page = _trades(connection.id, range(500, 3_000))  # 500 already stored, 2,000 new
    again = evolve(page[-1], price=Decimal("1"))  # the same key again, other values: ignored
    changed = evolve(page[0], price=Decimal("2"))  # a stored key, other values: ignored
    async with repository.unit_of_work() as uow:
        assert await uow.trades.add_new(user.id, [changed, *page, again]) == 2_000
        await uow.commit()

    async with repository.unit_of_work() as uow:
        stored = await uow.trades.list(user.id)
    assert len(stored) == 3_000
    expected = {trade.key: trade for trade in _trades(connection.id, range(3_000))}
    assert {trade.key: trade for trade in stored} == expected  # every value
    assert {t.key: (str(t.quantity), str(t.price), str(t.fee)) for t in stored} == {
        t.key: (str(t.quantity), str(t.price), str(t.fee)) for t in expected.values()
    }, "digits and scale"
