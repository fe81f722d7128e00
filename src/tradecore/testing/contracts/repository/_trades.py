"""Contract tests of ``uow.trades``: insert-or-ignore, ordering, decimals, and a property test."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest
from attrs import evolve

from tradecore.domain import Trade, new_id
from tradecore.errors import NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_trade
from tradecore.testing.contracts.repository._helpers import (
    T0,
    ContractBase,
    add_connection,
    add_owner,
    committing,
    keys,
    minutes,
)

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis comes with tradecore's "test" extra
    HAVE_HYPOTHESIS = False
else:
    HAVE_HYPOTHESIS = True


if HAVE_HYPOTHESIS:
    # Amounts as brokers send them: up to 18 decimal places, trailing zeros kept (1.10 != 1.1
    # in digits), from 1e-18 up to 1e22; never in positive-exponent form such as 1E+3.
    _exact_decimals = st.builds(
        lambda digits, places: Decimal(digits).scaleb(-places),
        st.integers(min_value=1, max_value=10**22),
        st.integers(min_value=0, max_value=18),
    )


def _digits(trade: Trade) -> tuple[object, ...]:
    return tuple(
        (value.as_tuple(), str(value)) for value in (trade.quantity, trade.price, trade.fee)
    )


class TradeTests(ContractBase):
    """Trades: each key inserted once (the first kept), listed oldest first, exact decimals."""

    # -- trades ----------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_adding_the_same_trades_twice_inserts_them_once(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        batch = [
            make_trade(connection_id=owner.connection.id, broker_trade_id=str(n)) for n in (1, 2, 3)
        ]
        async with committing(repository) as uow:
            assert await uow.trades.add_new(owner.user.id, batch) == 3
        async with committing(repository) as uow:
            assert await uow.trades.add_new(owner.user.id, batch) == 0
            assert await uow.trades.add_new(owner.user.id, []) == 0
        async with repository.unit_of_work() as uow:
            assert await uow.trades.count(owner.user.id) == 3

    @pytest.mark.asyncio
    async def test_duplicates_within_one_batch_count_once(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        first = make_trade(connection_id=owner.connection.id, broker_trade_id="1")
        again = evolve(first, price=Decimal("1"))  # same key, other values: ignored
        other_symbol = make_trade(
            connection_id=owner.connection.id, broker_trade_id="1", symbol="ETHUSDT"
        )
        other_account = make_trade(
            connection_id=owner.connection.id, broker_trade_id="1", account_id="margin"
        )
        async with committing(repository) as uow:
            added = await uow.trades.add_new(
                owner.user.id, [first, again, other_symbol, first, other_account]
            )
        assert added == 3
        async with repository.unit_of_work() as uow:
            stored = await uow.trades.list(owner.user.id)
        assert sorted(t.key for t in stored) == sorted(
            t.key for t in (first, other_symbol, other_account)
        )
        assert first in stored

    @pytest.mark.asyncio
    async def test_trades_are_counted_per_connection(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        other = await add_connection(repository, owner, "other")
        async with committing(repository) as uow:
            await uow.trades.add_new(
                owner.user.id,
                [
                    make_trade(connection_id=owner.connection.id, broker_trade_id="1"),
                    make_trade(connection_id=owner.connection.id, broker_trade_id="2"),
                    make_trade(connection_id=other.id, broker_trade_id="1"),
                ],
            )
        async with repository.unit_of_work() as uow:
            assert await uow.trades.count(owner.user.id) == 3
            assert await uow.trades.count(owner.user.id, connection_id=owner.connection.id) == 2
            assert await uow.trades.count(owner.user.id, connection_id=other.id) == 1
            listed = await uow.trades.list(owner.user.id, connection_id=other.id)
        assert [(t.connection_id, t.broker_trade_id) for t in listed] == [(other.id, "1")]

    @pytest.mark.asyncio
    async def test_trades_are_listed_oldest_first_since_and_limited(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        at = {"e": 5, "b": 1, "a": 1, "c": 2, "d": 3}

        def trade(trade_id: str) -> Trade:
            return make_trade(
                connection_id=owner.connection.id,
                broker_trade_id=trade_id,
                executed_at=T0 + minutes(at[trade_id]),
            )

        async with committing(repository) as uow:
            await uow.trades.add_new(owner.user.id, [trade(t) for t in at])
        async with repository.unit_of_work() as uow:
            assert keys(await uow.trades.list(owner.user.id)) == ["a", "b", "c", "d", "e"]
            since = await uow.trades.list(owner.user.id, since=T0 + minutes(2))
            newest = await uow.trades.list(owner.user.id, limit=2)
            both = await uow.trades.list(owner.user.id, since=T0 + minutes(1), limit=10)
            none = await uow.trades.list(owner.user.id, since=T0 + minutes(6))
        assert keys(since) == ["c", "d", "e"]
        assert keys(newest) == ["d", "e"]
        assert keys(both) == ["a", "b", "c", "d", "e"]
        assert list(none) == []

    @pytest.mark.asyncio
    async def test_trade_decimals_round_trip_unchanged(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        trade = make_trade(
            connection_id=owner.connection.id,
            quantity=Decimal("0.00000001"),
            price=Decimal("123456789.123456789"),
            fee=Decimal("0.000000000000000001"),
            fee_asset="BNB",
        )
        async with committing(repository) as uow:
            await uow.trades.add_new(owner.user.id, [trade])
        async with repository.unit_of_work() as uow:
            (stored,) = await uow.trades.list(owner.user.id)
        assert stored == trade
        assert str(stored.quantity) == str(Decimal("0.00000001"))
        assert str(stored.price) == "123456789.123456789"
        assert stored.fee == Decimal("1E-18")
        assert stored.notional == Decimal("1.23456789123456789")

    @pytest.mark.asyncio
    async def test_a_negative_fee_a_rebate_round_trips_unchanged(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        trade = make_trade(
            connection_id=owner.connection.id, fee=Decimal("-0.07819010"), fee_asset="USDT"
        )
        async with committing(repository) as uow:
            await uow.trades.add_new(owner.user.id, [trade])
        async with repository.unit_of_work() as uow:
            (stored,) = await uow.trades.list(owner.user.id)
        assert stored == trade
        assert str(stored.fee) == "-0.07819010"

    @pytest.mark.asyncio
    async def test_trade_of_a_missing_connection_raises_not_found(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.trades.add_new(owner.user.id, [make_trade(connection_id=new_id())])

    # -- property --------------------------------------------------------------------------------

    if HAVE_HYPOTHESIS:

        @pytest.mark.asyncio
        @settings(
            max_examples=40,
            deadline=None,
            # One repository serves every example; each example uses a user of its own. The
            # same test runs once per backend (one subclass each), hence differing executors.
            suppress_health_check=[
                HealthCheck.function_scoped_fixture,
                HealthCheck.differing_executors,
            ],
        )
        @given(
            specs=st.lists(
                st.tuples(
                    st.sampled_from(["spot", "margin"]),
                    st.sampled_from(["BTCUSDT", "ETHUSDT"]),
                    st.integers(min_value=1, max_value=6).map(str),
                    st.integers(min_value=1, max_value=1000),
                    _exact_decimals,
                ),
                max_size=30,
            ),
            cuts=st.lists(st.integers(min_value=0, max_value=30), max_size=5),
        )
        async def test_any_batches_of_trades_leave_exactly_the_unique_keys(
            self,
            repository: RepositoryPort,
            specs: list[tuple[str, str, str, int, Decimal]],
            cuts: list[int],
        ) -> None:
            owner = await add_owner(repository, f"user-{new_id()}")
            cid = owner.connection.id
            trades = [
                make_trade(
                    connection_id=cid,
                    account_id=account,
                    symbol=symbol,
                    broker_trade_id=trade_id,
                    quantity=Decimal(units) / 1000,
                    price=amount,
                    fee=amount / 1000 if units % 2 else -amount / 1000,  # rebates too
                    executed_at=T0 + minutes(units),
                )
                for account, symbol, trade_id, units, amount in specs
            ]
            bounds = [0, *sorted(min(cut, len(trades)) for cut in cuts), len(trades)]
            added = 0
            for start, end in pairwise(bounds):
                async with committing(repository) as uow:
                    added += await uow.trades.add_new(owner.user.id, trades[start:end])
            async with committing(repository) as uow:
                assert await uow.trades.add_new(owner.user.id, trades[::-1]) == 0
            first_by_key: dict[tuple[str, str, str, str], Trade] = {}
            for trade in trades:
                first_by_key.setdefault(trade.key, trade)
            async with repository.unit_of_work() as uow:
                stored = await uow.trades.list(owner.user.id)
                assert await uow.trades.count(owner.user.id) == len(first_by_key)
            assert added == len(first_by_key)
            assert {t.key: t for t in stored} == first_by_key
            # Bit for bit: the same digits and exponent, not just an equal value.
            assert {t.key: _digits(t) for t in stored} == {
                key: _digits(t) for key, t in first_by_key.items()
            }

    else:  # pragma: no cover

        @pytest.mark.asyncio
        async def test_trade_property_needs_hypothesis(self) -> None:
            pytest.skip("the property test needs hypothesis")
