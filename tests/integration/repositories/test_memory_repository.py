"""The memory repository: the shared repository contract, plus what only the memory store promises."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal

import pytest
from attrs import evolve

from tradecore.domain import AutomationState, TaskKind
from tradecore.errors import AlreadyExists, DomainError, NotFound, RepositoryError
from tradecore.ports.repository import RepositoryPort, UnitOfWork
from tradecore.testing.builders import (
    DEFAULT_TIME,
    make_automation_config,
    make_connection,
    make_order,
    make_position,
    make_run,
    make_strategy,
    make_task_result,
    make_trade,
    make_user,
)
from tradecore.testing.contracts.repository import (
    RepositoryPortContract,
    add_connection,
    add_owner,
    committing,
)
from tradecore_adapters.memory import MemoryRepository, MemoryUnitOfWork


class TestMemoryRepository(RepositoryPortContract):
    @pytest.fixture
    async def repository(self) -> AsyncIterator[MemoryRepository]:
        repository = MemoryRepository()
        yield repository
        await repository.aclose()


@pytest.fixture
async def repository() -> AsyncIterator[MemoryRepository]:
    repository = MemoryRepository()
    yield repository
    await repository.aclose()


@pytest.mark.asyncio
async def test_it_implements_the_port(repository: MemoryRepository) -> None:
    assert isinstance(repository, RepositoryPort)
    unit = repository.unit_of_work()
    assert isinstance(unit, MemoryUnitOfWork)
    assert isinstance(unit, UnitOfWork)


# -- copies ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_changing_a_returned_entity_changes_nothing_stored(
    repository: MemoryRepository,
) -> None:
    owner = await add_owner(repository)
    user_id = owner.user.id
    strategy = make_strategy(user_id=user_id, connection_id=owner.connection.id)
    run = make_run(user_id=user_id)
    async with committing(repository) as uow:
        await uow.strategies.add(strategy)
        await uow.automation.save(make_automation_config(user_id=user_id))
        await uow.runs.add(run)
    async with repository.unit_of_work() as uow:
        (await uow.users.get(user_id)).name = "mallory"
        (await uow.connections.get(user_id, owner.connection.id)).active = False
        (await uow.connections.list(user_id))[0].name = "renamed"
        (await uow.strategies.get(user_id, strategy.id)).dry_run = True
        (await uow.automation.get(user_id)).state = AutomationState.STOPPED  # type: ignore[union-attr]
        (await uow.runs.get(user_id, run.id)).add_step(make_task_result())
        (await uow.runs.list(user_id))[0].finished_at = DEFAULT_TIME
    async with repository.unit_of_work() as uow:
        assert await uow.users.get(user_id) == owner.user
        assert await uow.connections.get(user_id, owner.connection.id) == owner.connection
        assert await uow.strategies.get(user_id, strategy.id) == strategy
        automation = await uow.automation.get(user_id)
        assert automation is not None
        assert automation.state is AutomationState.ACTIVE
        assert await uow.runs.get(user_id, run.id) == run


@pytest.mark.asyncio
async def test_changing_an_entity_after_writing_it_changes_nothing_stored(
    repository: MemoryRepository,
) -> None:
    user = make_user()
    connection = make_connection(user_id=user.id)
    run = make_run(user_id=user.id)
    async with committing(repository) as uow:
        await uow.users.add(user)
        await uow.connections.add(connection)
        await uow.runs.add(run)
        user.name = "mallory"
        connection.active = False
        run.add_step(make_task_result(kind=TaskKind.NOTIFY))
    async with repository.unit_of_work() as uow:
        assert (await uow.users.get(user.id)).name == "alice"
        assert (await uow.connections.get(user.id, connection.id)).active is True
        assert (await uow.runs.get(user.id, run.id)).steps == ()


# -- transactions ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_name_taken_meanwhile_fails_the_commit_and_applies_nothing(
    repository: MemoryRepository,
) -> None:
    async with repository.unit_of_work() as late:
        await late.users.add(make_user(name="dave"))
        await late.users.add(make_user(name="carol"))
        async with committing(repository) as early:
            await early.users.add(make_user(name="carol"))
        with pytest.raises(AlreadyExists):
            await late.commit()
        # The failed commit discarded the unit's writes; it can go on afresh.
        assert [u.name for u in await late.users.list()] == ["carol"]
        await late.commit()
    async with repository.unit_of_work() as uow:
        assert [u.name for u in await uow.users.list()] == ["carol"]


@pytest.mark.asyncio
async def test_writes_to_a_connection_removed_meanwhile_fail_the_commit(
    repository: MemoryRepository,
) -> None:
    owner = await add_owner(repository)
    kept = await add_connection(repository, owner, "kept")
    user_id = owner.user.id
    async with repository.unit_of_work() as syncing:
        await syncing.trades.add_new(user_id, [make_trade(connection_id=kept.id)])
        await syncing.trades.add_new(user_id, [make_trade(connection_id=owner.connection.id)])
        async with committing(repository) as removing:
            await removing.connections.remove(user_id, owner.connection.id)
        with pytest.raises(NotFound):
            await syncing.commit()
    async with repository.unit_of_work() as uow:
        assert await uow.trades.count(user_id) == 0


@pytest.mark.asyncio
async def test_a_removal_replayed_at_commit_also_removes_rows_committed_meanwhile(
    repository: MemoryRepository,
) -> None:
    owner = await add_owner(repository)
    user_id, cid = owner.user.id, owner.connection.id
    async with committing(repository) as removing:
        await removing.connections.remove(user_id, cid)
        async with committing(repository) as syncing:
            await syncing.trades.add_new(user_id, [make_trade(connection_id=cid)])
    async with committing(repository) as uow:
        await uow.connections.add(owner.connection)
    async with repository.unit_of_work() as uow:
        assert await uow.trades.count(user_id) == 0


@pytest.mark.asyncio
async def test_a_unit_sees_what_others_committed_while_it_was_open(
    repository: MemoryRepository,
) -> None:
    async with repository.unit_of_work() as reader:
        assert list(await reader.users.list()) == []
        await add_owner(repository)
        assert [u.name for u in await reader.users.list()] == ["alice"]


@pytest.mark.asyncio
async def test_a_failed_statement_leaves_the_unit_as_it_was(
    repository: MemoryRepository,
) -> None:
    owner = await add_owner(repository)
    good = make_trade(connection_id=owner.connection.id)
    async with committing(repository) as uow:
        with pytest.raises(NotFound):
            await uow.trades.add_new(owner.user.id, [good, make_trade(connection_id="nope")])
        assert await uow.trades.count(owner.user.id) == 0
        assert await uow.trades.add_new(owner.user.id, [good]) == 1
    async with repository.unit_of_work() as uow:
        assert await uow.trades.count(owner.user.id) == 1


@pytest.mark.asyncio
async def test_a_unit_can_commit_several_times(repository: MemoryRepository) -> None:
    owner = await add_owner(repository)
    order = make_order(connection_id=owner.connection.id)
    async with repository.unit_of_work() as uow:
        await uow.orders.add(owner.user.id, order)
        await uow.commit()
        await uow.orders.update(owner.user.id, evolve(order, broker_order_id="B-1"))
        await uow.commit()
    async with repository.unit_of_work() as uow:
        assert (await uow.orders.get(owner.user.id, order.client_order_id)).broker_order_id == "B-1"


@pytest.mark.asyncio
async def test_many_concurrent_units_never_lose_each_others_writes(
    repository: MemoryRepository,
) -> None:
    owner = await add_owner(repository)
    connections = [await add_connection(repository, owner, f"c{n:02d}") for n in range(20)]
    shuffle = random.Random(7)

    async def sync(index: int) -> None:
        connection = connections[index]
        async with repository.unit_of_work() as uow:
            for n in range(3):
                await uow.trades.add_new(
                    owner.user.id, [make_trade(connection_id=connection.id, broker_trade_id=str(n))]
                )
                for _ in range(shuffle.randint(0, 3)):
                    await asyncio.sleep(0)
            await uow.cursors.set(owner.user.id, connection.id, "spot", str(index))
            await uow.commit()

    await asyncio.gather(*(sync(index) for index in range(len(connections))))
    async with repository.unit_of_work() as uow:
        assert await uow.trades.count(owner.user.id) == 3 * len(connections)
        for index, connection in enumerate(connections):
            assert await uow.cursors.get(owner.user.id, connection.id, "spot") == str(index)


# -- lifecycle and misuse -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_unit_outside_its_block_refuses_to_work(repository: MemoryRepository) -> None:
    unit = repository.unit_of_work()
    with pytest.raises(RepositoryError):
        await unit.users.add(make_user())
    async with unit:
        with pytest.raises(RepositoryError):
            async with unit:
                pass
    with pytest.raises(RepositoryError):
        await unit.commit()


@pytest.mark.asyncio
async def test_a_closed_repository_hands_out_no_units() -> None:
    repository = MemoryRepository()
    await repository.aclose()
    await repository.aclose()
    with pytest.raises(RepositoryError):
        repository.unit_of_work()


# -- choices the port leaves open -----------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_client_order_id_shared_by_two_connections_is_not_guessed(
    repository: MemoryRepository,
) -> None:
    owner = await add_owner(repository)
    other = await add_connection(repository, owner, "other")
    async with committing(repository) as uow:
        await uow.orders.add(owner.user.id, make_order(connection_id=owner.connection.id))
        await uow.orders.add(owner.user.id, make_order(connection_id=other.id))
    async with repository.unit_of_work() as uow:
        with pytest.raises(RepositoryError) as raised:
            await uow.orders.get(owner.user.id, "tc-order-1")
        assert not isinstance(raised.value, NotFound)


@pytest.mark.asyncio
async def test_a_snapshot_with_a_position_of_another_account_is_refused(
    repository: MemoryRepository,
) -> None:
    owner = await add_owner(repository)
    cid = owner.connection.id
    stray = make_position(connection_id=cid, account_id="margin")
    async with repository.unit_of_work() as uow:
        with pytest.raises(DomainError):
            await uow.positions.sync_snapshot(
                owner.user.id, cid, "spot", [stray], as_of=DEFAULT_TIME
            )


@pytest.mark.asyncio
async def test_naive_times_and_negative_limits_are_refused(repository: MemoryRepository) -> None:
    owner = await add_owner(repository)
    async with repository.unit_of_work() as uow:
        with pytest.raises(DomainError):
            await uow.trades.list(owner.user.id, since=datetime(2024, 1, 1))
        with pytest.raises(DomainError):
            await uow.positions.sync_snapshot(
                owner.user.id,
                owner.connection.id,
                "spot",
                [],
                as_of=datetime(2024, 1, 1),
            )
        with pytest.raises(DomainError):
            await uow.trades.list(owner.user.id, limit=-1)
        with pytest.raises(DomainError):
            await uow.runs.list(owner.user.id, limit=-1)
        assert list(await uow.trades.list(owner.user.id, limit=0)) == []


@pytest.mark.asyncio
async def test_positions_keep_the_exact_decimals_given(repository: MemoryRepository) -> None:
    owner = await add_owner(repository)
    position = make_position(connection_id=owner.connection.id, quantity=Decimal("1.10"))
    async with committing(repository) as uow:
        await uow.positions.sync_snapshot(
            owner.user.id, owner.connection.id, "spot", [position], as_of=DEFAULT_TIME
        )
    async with repository.unit_of_work() as uow:
        (stored,) = await uow.positions.list(owner.user.id)
    assert str(stored.quantity) == "1.10"
