"""Contract tests of ``uow.risk``: each user's limits (defaults, exact decimals, ``None`` against
empty) and the global kill switch."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from attrs import evolve

from tradecore.domain import DEFAULT_MAX_ORDERS_PER_CYCLE, RiskLimits, TradingHalt, new_id
from tradecore.errors import NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_risk_limits, make_strategy
from tradecore.testing.contracts.repository._helpers import (
    T0,
    ContractBase,
    add_owner,
    committing,
    minutes,
)


class RiskTests(ContractBase):
    """Risk limits per user (saved, replaced, isolated, removed with the user) and the kill
    switch (engaged, replaced, released)."""

    # -- limits ----------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_limits_are_the_defaults_until_saved(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        async with repository.unit_of_work() as uow:
            limits = await uow.risk.get_limits(owner.user.id)
        assert limits == RiskLimits(user_id=owner.user.id)
        assert limits.max_orders_per_cycle == DEFAULT_MAX_ORDERS_PER_CYCLE
        assert (limits.max_order_notional, limits.max_cycle_notional) == (None, None)
        assert limits.allowed_instruments is None

    @pytest.mark.asyncio
    async def test_limits_round_trip_exactly(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        limits = make_risk_limits(
            user_id=owner.user.id,
            max_order_notional=Decimal("1000.50"),
            max_cycle_notional=Decimal("0.00012345678901234567890"),
            max_orders_per_cycle=0,
            allowed_instruments=["ETHUSDT", "AAPL", "BTCUSDT"],
        )
        async with committing(repository) as uow:
            await uow.risk.save_limits(limits)
        async with repository.unit_of_work() as uow:
            stored = await uow.risk.get_limits(owner.user.id)
        assert stored == limits
        assert str(stored.max_order_notional) == "1000.50"
        assert str(stored.max_cycle_notional) == "0.00012345678901234567890"
        assert stored.max_orders_per_cycle == 0
        assert stored.allowed_instruments == frozenset({"AAPL", "BTCUSDT", "ETHUSDT"})

    @pytest.mark.asyncio
    async def test_no_limit_and_nothing_allowed_are_kept_apart_from_the_defaults(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        # Alice lifts every limit: None is not the default of 10 orders per cycle.
        unlimited = RiskLimits(user_id=alice.user.id, max_orders_per_cycle=None)
        # Bob allows no instrument at all: an empty set is not None (all allowed).
        nothing = RiskLimits(user_id=bob.user.id, allowed_instruments=frozenset())
        async with committing(repository) as uow:
            await uow.risk.save_limits(unlimited)
            await uow.risk.save_limits(nothing)
        async with repository.unit_of_work() as uow:
            stored_alice = await uow.risk.get_limits(alice.user.id)
            stored_bob = await uow.risk.get_limits(bob.user.id)
        assert stored_alice == unlimited
        assert stored_alice.max_orders_per_cycle is None
        assert stored_alice.allowed_instruments is None
        assert stored_bob == nothing
        assert stored_bob.allowed_instruments == frozenset()
        assert stored_bob.max_orders_per_cycle == DEFAULT_MAX_ORDERS_PER_CYCLE

    @pytest.mark.asyncio
    async def test_saving_limits_again_replaces_them(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        first = make_risk_limits(user_id=owner.user.id)
        async with committing(repository) as uow:
            await uow.risk.save_limits(first)
        second = evolve(
            first,
            max_order_notional=None,
            max_cycle_notional=Decimal("99.90"),
            max_orders_per_cycle=None,
            allowed_instruments=None,
        )
        async with committing(repository) as uow:
            await uow.risk.save_limits(second)
            assert await uow.risk.get_limits(owner.user.id) == second  # read-your-writes
        async with repository.unit_of_work() as uow:
            assert await uow.risk.get_limits(owner.user.id) == second

    @pytest.mark.asyncio
    async def test_limits_are_per_user(self, repository: RepositoryPort) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        carol = await add_owner(repository, "carol")
        alices = make_risk_limits(user_id=alice.user.id, allowed_instruments=["BTCUSDT"])
        bobs = make_risk_limits(
            user_id=bob.user.id, max_order_notional=Decimal("5"), allowed_instruments=["AAPL"]
        )
        async with committing(repository) as uow:
            await uow.risk.save_limits(alices)
            await uow.risk.save_limits(bobs)
        async with repository.unit_of_work() as uow:
            assert await uow.risk.get_limits(alice.user.id) == alices
            assert await uow.risk.get_limits(bob.user.id) == bobs
            assert await uow.risk.get_limits(carol.user.id) == RiskLimits(user_id=carol.user.id)

    @pytest.mark.asyncio
    async def test_limits_of_a_missing_user_raise_not_found(
        self, repository: RepositoryPort
    ) -> None:
        ghost = new_id()
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.risk.save_limits(make_risk_limits(user_id=ghost))
            assert await uow.risk.get_limits(ghost) == RiskLimits(user_id=ghost)

    @pytest.mark.asyncio
    async def test_removing_a_user_removes_its_limits(self, repository: RepositoryPort) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        bobs = make_risk_limits(user_id=bob.user.id)
        async with committing(repository) as uow:
            await uow.risk.save_limits(make_risk_limits(user_id=alice.user.id))
            await uow.risk.save_limits(bobs)
        async with committing(repository) as uow:
            await uow.users.remove(alice.user.id)
        # The same user (same id) again: its old limits do not come back.
        async with committing(repository) as uow:
            await uow.users.add(alice.user)
        async with repository.unit_of_work() as uow:
            assert await uow.risk.get_limits(alice.user.id) == RiskLimits(user_id=alice.user.id)
            assert await uow.risk.get_limits(bob.user.id) == bobs

    @pytest.mark.asyncio
    async def test_a_returned_limits_object_changes_nothing_stored(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        limits = make_risk_limits(user_id=owner.user.id)
        async with committing(repository) as uow:
            await uow.risk.save_limits(limits)
            limits.max_orders_per_cycle = 99  # after writing it
        async with repository.unit_of_work() as uow:
            (await uow.risk.get_limits(owner.user.id)).max_orders_per_cycle = 98
            assert (await uow.risk.get_limits(owner.user.id)).max_orders_per_cycle == 3

    # -- the kill switch -------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_the_kill_switch_is_engaged_replaced_and_released(
        self, repository: RepositoryPort
    ) -> None:
        async with repository.unit_of_work() as uow:
            assert await uow.risk.get_halt() is None
        first = TradingHalt(reason="exchange outage", since=T0)
        async with committing(repository) as uow:
            await uow.risk.set_halt(first)
        async with repository.unit_of_work() as uow:
            assert await uow.risk.get_halt() == first
        since = datetime(2024, 1, 2, 12, 30, 15, 123456, tzinfo=UTC)
        second = TradingHalt(reason="runaway strategy — stop everything", since=since)
        async with committing(repository) as uow:
            await uow.risk.set_halt(second)
        async with repository.unit_of_work() as uow:
            stored = await uow.risk.get_halt()
        assert stored == second
        assert stored is not None
        assert stored.since == since
        assert stored.since.tzinfo is not None
        async with committing(repository) as uow:
            await uow.risk.set_halt(None)
            await uow.risk.set_halt(None)  # releasing a released switch is fine
        async with repository.unit_of_work() as uow:
            assert await uow.risk.get_halt() is None

    @pytest.mark.asyncio
    async def test_the_kill_switch_is_global_and_outlives_users(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        halt = TradingHalt(reason="audit", since=T0 + minutes(1))
        async with committing(repository) as uow:
            await uow.risk.set_halt(halt)
            await uow.users.remove(owner.user.id)
        async with repository.unit_of_work() as uow:
            assert await uow.risk.get_halt() == halt

    # -- transactions ----------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_uncommitted_limits_and_halt_are_not_stored(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        strategy = make_strategy(user_id=owner.user.id, connection_id=owner.connection.id)
        async with committing(repository) as uow:
            await uow.strategies.add(strategy)
        async with repository.unit_of_work() as uow:
            await uow.risk.save_limits(make_risk_limits(user_id=owner.user.id))
            await uow.risk.set_halt(TradingHalt(reason="dropped", since=T0))
            await uow.strategies.save_state(owner.user.id, strategy.id, {"k": "dropped"})
            assert await uow.risk.get_halt() is not None
        async with repository.unit_of_work() as uow:
            await uow.risk.save_limits(make_risk_limits(user_id=owner.user.id))
            await uow.risk.set_halt(TradingHalt(reason="rolled back", since=T0))
            await uow.rollback()
            assert await uow.risk.get_halt() is None
        async with repository.unit_of_work() as uow:
            assert await uow.risk.get_limits(owner.user.id) == RiskLimits(user_id=owner.user.id)
            assert await uow.risk.get_halt() is None
            assert await uow.strategies.get(owner.user.id, strategy.id) == strategy

    @pytest.mark.asyncio
    async def test_releasing_the_kill_switch_is_undone_by_a_rollback(
        self, repository: RepositoryPort
    ) -> None:
        halt = TradingHalt(reason="kept", since=T0)
        async with committing(repository) as uow:
            await uow.risk.set_halt(halt)
        async with repository.unit_of_work() as uow:
            await uow.risk.set_halt(None)
            assert await uow.risk.get_halt() is None
        async with repository.unit_of_work() as uow:
            assert await uow.risk.get_halt() == halt
