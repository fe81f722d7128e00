"""Contract tests of ``uow.strategies`` (with their state) and ``uow.automation``."""

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
    """Strategies (per-user names, update, state, removal) and automation configs."""

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

    @pytest.mark.asyncio
    async def test_strategy_state_round_trips_and_defaults_to_nothing(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        remembering = make_strategy(
            user_id=owner.user.id,
            connection_id=owner.connection.id,
            name="remembering",
            state={"last_buy_at": "2024-01-02T12:00:00+00:00", "bought": "0.00012345", "é": ""},
        )
        fresh = make_strategy(
            user_id=owner.user.id, connection_id=owner.connection.id, name="fresh"
        )
        async with committing(repository) as uow:
            await uow.strategies.add(remembering)
            await uow.strategies.add(fresh)
        async with repository.unit_of_work() as uow:
            stored = await uow.strategies.get(owner.user.id, remembering.id)
            stored_fresh = await uow.strategies.get_by_name(owner.user.id, "fresh")
        assert stored == remembering
        assert dict(stored.state) == {
            "last_buy_at": "2024-01-02T12:00:00+00:00",
            "bought": "0.00012345",
            "é": "",
        }
        assert stored_fresh == fresh
        assert dict(stored_fresh.state) == {}

    @pytest.mark.asyncio
    async def test_save_state_replaces_only_the_state(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        strategy = make_strategy(
            user_id=owner.user.id,
            connection_id=owner.connection.id,
            state={"a": "1", "b": "2"},
        )
        async with committing(repository) as uow:
            await uow.strategies.add(strategy)
        async with committing(repository) as uow:
            await uow.strategies.save_state(owner.user.id, strategy.id, {"b": "3"})
        async with repository.unit_of_work() as uow:
            stored = await uow.strategies.get(owner.user.id, strategy.id)
        assert stored == evolve(strategy, state={"b": "3"})  # replaced, not merged
        async with committing(repository) as uow:
            await uow.strategies.save_state(owner.user.id, strategy.id, {})
        async with repository.unit_of_work() as uow:
            assert dict((await uow.strategies.get(owner.user.id, strategy.id)).state) == {}

    @pytest.mark.asyncio
    async def test_update_leaves_the_stored_state_alone(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        strategy = make_strategy(
            user_id=owner.user.id, connection_id=owner.connection.id, state={"step": "1"}
        )
        async with committing(repository) as uow:
            await uow.strategies.add(strategy)
            await uow.strategies.save_state(owner.user.id, strategy.id, {"step": "2"})
        # The user's edit was read before the cycle saved "2", and carries another state.
        edited = evolve(
            strategy,
            name="renamed",
            parameters={"amount": "50"},
            active=False,
            dry_run=True,
            state={"step": "edited by hand"},
        )
        async with committing(repository) as uow:
            await uow.strategies.update(edited)
        async with repository.unit_of_work() as uow:
            stored = await uow.strategies.get(owner.user.id, strategy.id)
        assert stored == evolve(edited, state={"step": "2"})

    @pytest.mark.asyncio
    async def test_renaming_a_strategy_onto_a_taken_name_raises_already_exists(
        self, repository: RepositoryPort
    ) -> None:
        owner = await add_owner(repository)
        first, second = (
            make_strategy(user_id=owner.user.id, connection_id=owner.connection.id, name=name)
            for name in ("first", "second")
        )
        other = await add_owner(repository, "bob")
        bobs = make_strategy(user_id=other.user.id, connection_id=other.connection.id, name="bobs")
        async with committing(repository) as uow:
            await uow.strategies.add(first)
            await uow.strategies.add(second)
            await uow.strategies.add(bobs)
        async with repository.unit_of_work() as uow:
            with pytest.raises(AlreadyExists):
                await uow.strategies.update(evolve(second, name="first"))
            # Another user's name is free; the failed update left the unit usable.
            await uow.strategies.update(evolve(second, name="bobs"))
            await uow.commit()
        async with repository.unit_of_work() as uow:
            names = [s.name for s in await uow.strategies.list(owner.user.id)]
        assert names == ["bobs", "first"]

    @pytest.mark.asyncio
    async def test_save_state_of_another_users_or_a_missing_strategy_raises_not_found(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        alices = make_strategy(
            user_id=alice.user.id, connection_id=alice.connection.id, state={"k": "alice"}
        )
        async with committing(repository) as uow:
            await uow.strategies.add(alices)
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.strategies.save_state(bob.user.id, alices.id, {"k": "bob"})
            with pytest.raises(NotFound):
                await uow.strategies.save_state(alice.user.id, new_id(), {"k": "ghost"})
            await uow.commit()
        async with repository.unit_of_work() as uow:
            assert await uow.strategies.get(alice.user.id, alices.id) == alices

    @pytest.mark.asyncio
    async def test_an_uncommitted_state_is_not_stored(self, repository: RepositoryPort) -> None:
        owner = await add_owner(repository)
        strategy = make_strategy(
            user_id=owner.user.id, connection_id=owner.connection.id, state={"k": "kept"}
        )
        async with committing(repository) as uow:
            await uow.strategies.add(strategy)
        async with repository.unit_of_work() as uow:
            await uow.strategies.save_state(owner.user.id, strategy.id, {"k": "dropped"})
            assert (await uow.strategies.get(owner.user.id, strategy.id)).state == {"k": "dropped"}
        async with repository.unit_of_work() as uow:
            await uow.strategies.save_state(owner.user.id, strategy.id, {"k": "rolled back"})
            await uow.rollback()
            assert await uow.strategies.get(owner.user.id, strategy.id) == strategy
        async with repository.unit_of_work() as uow:
            assert await uow.strategies.get(owner.user.id, strategy.id) == strategy

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
