"""The SQL repository's rows for strategy state, orders' strategy and lookups, risk limits and the
kill switch, on SQLite and PostgreSQL: what the raw columns hold (exact decimals, a sorted JSON
list or SQL NULL), and a clear :class:`UnreadableRow` for each value tradecore never writes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Table, text, update

from tradecore.domain import RiskLimits, TradingHalt
from tradecore.errors import RepositoryError
from tradecore.testing.builders import (
    DEFAULT_TIME,
    make_order,
    make_risk_limits,
    make_strategy,
)
from tradecore.testing.contracts.repository import Owner, add_owner, committing
from tradecore_adapters.sqlalchemy import SqlRepository, UnreadableRow
from tradecore_adapters.sqlalchemy.schema import orders, risk_limits, strategies, trading_halt


def is_sqlite(repository: SqlRepository) -> bool:
    return repository.engine.dialect.name == "sqlite"


async def raw(repository: SqlRepository, statement: str) -> Any:
    async with repository.engine.connect() as db:
        return (await db.execute(text(statement))).one()


async def tamper(repository: SqlRepository, table: Table, **values: Any) -> None:
    """Change every row of ``table`` behind the repository's back."""
    async with repository.engine.connect() as db:
        await db.execute(update(table).values(**values))
        if not is_sqlite(repository):
            await db.commit()


async def tamper_sql(repository: SqlRepository, statement: str) -> None:
    async with repository.engine.connect() as db:
        await db.execute(text(statement))
        if not is_sqlite(repository):
            await db.commit()


async def owner_with_limits_and_halt(repository: SqlRepository) -> Owner:
    owner = await add_owner(repository)
    async with committing(repository) as uow:
        await uow.risk.save_limits(make_risk_limits(user_id=owner.user.id))
        await uow.risk.set_halt(TradingHalt(reason="audit", since=DEFAULT_TIME))
    return owner


async def owner_with_strategy_and_order(repository: SqlRepository, name: str = "alice") -> Owner:
    owner = await add_owner(repository, name)
    strategy = make_strategy(
        user_id=owner.user.id, connection_id=owner.connection.id, state={"step": "1"}
    )
    async with committing(repository) as uow:
        await uow.strategies.add(strategy)
        await uow.orders.add(
            owner.user.id,
            make_order(connection_id=owner.connection.id, strategy_id=strategy.id),
        )
    return owner


# -- what the columns hold --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_limits_are_stored_exactly_and_instruments_as_a_sorted_list(
    repository: SqlRepository,
) -> None:
    owner = await add_owner(repository)
    async with committing(repository) as uow:
        await uow.risk.save_limits(
            make_risk_limits(
                user_id=owner.user.id,
                max_order_notional=Decimal("1000.50"),
                allowed_instruments=["ETHUSDT", "BTCUSDT", "AAPL"],
            )
        )
    row = await raw(
        repository,
        "SELECT max_order_notional, max_cycle_notional, allowed_instruments FROM risk_limits",
    )
    assert str(row.max_order_notional) == "1000.50"  # no float on the way
    assert str(row.max_cycle_notional) == "2500.00"
    allowed = row.allowed_instruments
    if is_sqlite(repository):
        assert allowed == '["AAPL", "BTCUSDT", "ETHUSDT"]'
    else:
        assert allowed == ["AAPL", "BTCUSDT", "ETHUSDT"]


@pytest.mark.asyncio
async def test_no_allowed_instruments_is_sql_null_and_none_allowed_an_empty_list(
    repository: SqlRepository,
) -> None:
    alice = await add_owner(repository, "alice")
    bob = await add_owner(repository, "bob")
    async with committing(repository) as uow:
        await uow.risk.save_limits(RiskLimits(user_id=alice.user.id, max_orders_per_cycle=None))
        await uow.risk.save_limits(RiskLimits(user_id=bob.user.id, allowed_instruments=[]))
    unlimited = await raw(
        repository,
        "SELECT allowed_instruments IS NULL AS all_allowed, "
        "max_orders_per_cycle IS NULL AS no_limit FROM risk_limits "
        f"WHERE user_id = '{alice.user.id}'",
    )
    assert bool(unlimited.all_allowed)
    assert bool(unlimited.no_limit)
    nothing = await raw(
        repository,
        "SELECT allowed_instruments, max_orders_per_cycle FROM risk_limits "
        f"WHERE user_id = '{bob.user.id}'",
    )
    assert nothing.allowed_instruments in ("[]", [])
    assert nothing.max_orders_per_cycle == 10


# -- values tradecore never writes ------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"allowed_instruments": "BTCUSDT"}, id="instruments-not-a-list"),
        pytest.param({"allowed_instruments": ["BTCUSDT", 7]}, id="instrument-not-text"),
        pytest.param({"max_orders_per_cycle": -1}, id="negative-count"),
        pytest.param({"max_order_notional": Decimal("-5")}, id="negative-notional"),
    ],
)
async def test_unreadable_limits_are_a_clear_error(
    repository: SqlRepository, values: dict[str, Any]
) -> None:
    owner = await owner_with_limits_and_halt(repository)
    await tamper(repository, risk_limits, **values)
    async with repository.unit_of_work() as uow:
        with pytest.raises(UnreadableRow, match="risk_limits") as raised:
            await uow.risk.get_limits(owner.user.id)
    assert isinstance(raised.value, RepositoryError)
    assert "never writes" in str(raised.value)


@pytest.mark.asyncio
async def test_text_that_is_no_decimal_or_no_json_is_a_clear_error_on_sqlite(
    repository: SqlRepository,
) -> None:
    if not is_sqlite(repository):
        pytest.skip("PostgreSQL's NUMERIC and JSONB refuse such text themselves")
    owner = await owner_with_limits_and_halt(repository)
    await tamper_sql(repository, "UPDATE risk_limits SET max_cycle_notional = 'lots'")
    async with repository.unit_of_work() as uow:
        with pytest.raises(UnreadableRow, match="risk_limits"):
            await uow.risk.get_limits(owner.user.id)
    await tamper_sql(repository, "UPDATE risk_limits SET max_cycle_notional = NULL")
    await tamper_sql(repository, "UPDATE risk_limits SET allowed_instruments = '[\"BTC'")
    async with repository.unit_of_work() as uow:
        with pytest.raises(UnreadableRow, match="risk_limits"):
            await uow.risk.get_limits(owner.user.id)
    other = await owner_with_strategy_and_order(repository, "bob")
    await tamper_sql(repository, "UPDATE strategies SET state = '{not json'")
    async with repository.unit_of_work() as uow:
        with pytest.raises(UnreadableRow, match="strategies"):
            await uow.strategies.list(other.user.id)


@pytest.mark.asyncio
async def test_an_unreadable_halt_is_a_clear_error(repository: SqlRepository) -> None:
    await owner_with_limits_and_halt(repository)
    await tamper(repository, trading_halt, reason="")
    async with repository.unit_of_work() as uow:
        with pytest.raises(UnreadableRow, match="trading_halt"):
            await uow.risk.get_halt()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "state",
    [
        pytest.param(["step", "1"], id="a-list"),
        pytest.param({"step": 1}, id="a-number"),
    ],
)
async def test_an_unreadable_strategy_state_is_a_clear_error(
    repository: SqlRepository, state: Any
) -> None:
    owner = await owner_with_strategy_and_order(repository)
    await tamper(repository, strategies, state=state)
    async with repository.unit_of_work() as uow:
        with pytest.raises(UnreadableRow, match="strategies"):
            await uow.strategies.list(owner.user.id)
        with pytest.raises(UnreadableRow, match="strategies"):
            await uow.strategies.get_by_name(owner.user.id, "dca-btc")


@pytest.mark.asyncio
async def test_a_negative_lookup_count_is_a_clear_error(repository: SqlRepository) -> None:
    owner = await owner_with_strategy_and_order(repository)
    await tamper(repository, orders, missing_lookups=-1)
    async with repository.unit_of_work() as uow:
        with pytest.raises(UnreadableRow, match="orders"):
            await uow.orders.list(owner.user.id)
        with pytest.raises(UnreadableRow, match="orders"):
            await uow.orders.get(owner.user.id, "tc-order-1")
