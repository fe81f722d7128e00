"""Contract tests of ``uow.strategies`` and ``uow.automation``."""

from __future__ import annotations

import pytest
from attrs import evolve

from tradecore.domain import AutomationState, new_id
from tradecore.errors import AlreadyExists, NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_automation_config, make_strategy
from tradecore.testing.contracts.repository._helpers import (
    T0,
    ContractBase,
    add_connection,
    add_owner,
    committing,
    minutes,
)


class StrategyAndAutomationTests(ContractBase):
    """Strategies (per-user names, update, removal) and automation configs."""

    # -- strategies ------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_strategy_round_trips_and_is_found_by_name(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        strategy = make_strategy(
            user_id=owner.user.id,
            connection_id=owner.connection.id,
            name="dca-btc",
            parameters={"symbol": "BTCUSDT", "amount": "25.50", "every": "1d"},
            dry_run=True,
        )
        async with committing(repository) as uow:
            await uow.strategies.add(strategy)
        async with repository.unit_of_work() as uow:
            assert await uow.strategies.get(owner.user.id, strategy.id) == strategy
            assert await uow.strategies.get_by_name(owner.user.id, "dca-btc") == strategy

    @pytest.mark.asyncio
    async def test_strategies_are_listed_by_name_and_filtered_by_active(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        async with committing(repository) as uow:
            for name, is_active in (("zeta", True), ("alpha", False), ("mid", True)):
                await uow.strategies.add(
                    make_strategy(
                        user_id=owner.user.id,
                        connection_id=owner.connection.id,
                        name=name,
                        active=is_active,
                    )
                )
        async with repository.unit_of_work() as uow:
            everything = await uow.strategies.list(owner.user.id)
            active = await uow.strategies.list(owner.user.id, active_only=True)
        assert [s.name for s in everything] == ["alpha", "mid", "zeta"]
        assert [s.name for s in active] == ["mid", "zeta"]

    @pytest.mark.asyncio
    async def test_taken_strategy_name_raises_already_exists(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        first = make_strategy(user_id=owner.user.id, connection_id=owner.connection.id)
        async with committing(repository) as uow:
            await uow.strategies.add(first)
        async with repository.unit_of_work() as uow:
            with pytest.raises(AlreadyExists):
                await uow.strategies.add(evolve(first, id=new_id()))

    @pytest.mark.asyncio
    async def test_strategy_is_updated_and_removed(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        other = await add_connection(repository, owner, "other")
        strategy = make_strategy(user_id=owner.user.id, connection_id=owner.connection.id)
        async with committing(repository) as uow:
            await uow.strategies.add(strategy)
        changed = evolve(
            strategy, connection_id=other.id, parameters={"amount": "10"}, active=False
        )
        async with committing(repository) as uow:
            await uow.strategies.update(changed)
        async with repository.unit_of_work() as uow:
            assert await uow.strategies.get(owner.user.id, strategy.id) == changed
        async with committing(repository) as uow:
            await uow.strategies.remove(owner.user.id, strategy.id)
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.strategies.get(owner.user.id, strategy.id)
            with pytest.raises(NotFound):
                await uow.strategies.get_by_name(owner.user.id, strategy.name)
            with pytest.raises(NotFound):
                await uow.strategies.update(changed)
            with pytest.raises(NotFound):
                await uow.strategies.remove(owner.user.id, strategy.id)

    # -- automation configs ----------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_automation_config_is_none_until_saved_then_replaced(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        async with repository.unit_of_work() as uow:
            assert await uow.automation.get(owner.user.id) is None
        first = make_automation_config(user_id=owner.user.id, frequency_minutes=15)
        async with committing(repository) as uow:
            await uow.automation.save(first)
        paused = evolve(first, state=AutomationState.PAUSED, last_run_at=T0 + minutes(15))
        async with committing(repository) as uow:
            await uow.automation.save(paused)
        async with repository.unit_of_work() as uow:
            assert await uow.automation.get(owner.user.id) == paused
            assert list(await uow.automation.list()) == [paused]

    @pytest.mark.asyncio
    async def test_automation_configs_of_every_user_are_listed(
        self, repository: RepositoryPort
    ) -> None:
        configs = []
        for name in ("alice", "bob"):
            owner = await add_owner(repository, name)
            configs.append(make_automation_config(user_id=owner.user.id))
        async with committing(repository) as uow:
            for config in configs:
                await uow.automation.save(config)
        async with repository.unit_of_work() as uow:
            listed = await uow.automation.list()
        assert sorted(listed, key=lambda c: c.user_id) == sorted(configs, key=lambda c: c.user_id)

    @pytest.mark.asyncio
    async def test_automation_config_of_a_missing_user_raises_not_found(
        self, repository: RepositoryPort
    ) -> None:
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.automation.save(make_automation_config(user_id=new_id()))
