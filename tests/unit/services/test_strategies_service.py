"""The strategy use cases: add (type, name and parameters checked, connection by name), list,
show, edit, enable/disable, set mode, remove, types; each scoped to the acting user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest

from tradecore.domain import StrategyDecision, User
from tradecore.errors import AlreadyExists, ConfigurationError, DomainError, NotFound
from tradecore.ports import StrategyContext, StrategyFactory, StrategyParameter
from tradecore.services import ServiceContext, Strategies, UnknownStrategyType, Users
from tradecore.testing.builders import make_connection, make_order


class _Idle:
    def instruments(self) -> tuple[()]:
        return ()

    async def evaluate(self, context: StrategyContext) -> StrategyDecision:
        return StrategyDecision()


def _buyer() -> StrategyFactory:
    return StrategyFactory(
        name="buyer",
        description="buys now and then",
        create=lambda config, values: _Idle(),
        parameters=(
            StrategyParameter(name="symbol", description="what to buy", required=True),
            StrategyParameter(
                name="amount", description="how much", kind="decimal", minimum="1", default="10"
            ),
        ),
    )


@pytest.fixture
def strategies_context(context: ServiceContext) -> ServiceContext:
    return attrs.evolve(context, strategies={"buyer": _buyer()})


@pytest.fixture
def strategies(strategies_context: ServiceContext) -> Strategies:
    return Strategies(strategies_context)


async def _user(context: ServiceContext, name: str, connection: str = "main") -> User:
    user = await Users(context).add(name)
    async with context.repository.unit_of_work() as uow:
        await uow.connections.add(make_connection(user_id=user.id, name=connection, broker="fake"))
        await uow.commit()
    return user


async def _add(strategies: Strategies, user: User, name: str = "btc", **extra: Any) -> Any:
    options: dict[str, Any] = {
        "strategy_type": "buyer",
        "name": name,
        "connection": "main",
        "parameters": {"symbol": "BTC-USD"},
    }
    options.update(extra)
    return await strategies.add(user.id, **options)


async def test_add_checks_and_stores_an_active_strategy_on_the_named_connection(
    strategies: Strategies, strategies_context: ServiceContext
) -> None:
    alice = await _user(strategies_context, "alice")

    added = await _add(strategies, alice, "  btc ", dry_run=True)

    assert added.config.name == "btc"
    assert added.config.active
    assert added.config.dry_run
    assert added.connection.name == "main"
    assert added.factory.name == "buyer"
    assert [view.config for view in await strategies.list(alice.id)] == [added.config]


@pytest.mark.parametrize(
    ("extra", "error", "message"),
    [
        ({"strategy_type": "hodl"}, UnknownStrategyType, "'hodl' is not installed; installed: b"),
        ({"name": " "}, DomainError, "a strategy name must not be empty"),
        ({"parameters": {}}, ConfigurationError, "parameter 'symbol' is required"),
        ({"parameters": {"symbol": "X", "amount": "0"}}, ConfigurationError, "amount"),
        ({"parameters": {"symbol": "X", "colour": "red"}}, ConfigurationError, "colour"),
        ({"connection": "other"}, NotFound, "alice has no broker connection named 'other'"),
    ],
)
async def test_add_refuses_bad_input_and_stores_nothing(
    strategies: Strategies,
    strategies_context: ServiceContext,
    extra: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    alice = await _user(strategies_context, "alice")

    with pytest.raises(error, match=message):
        await _add(strategies, alice, **extra)

    assert await strategies.list(alice.id) == []


async def test_add_refuses_a_taken_name(
    strategies: Strategies, strategies_context: ServiceContext
) -> None:
    alice = await _user(strategies_context, "alice")
    await _add(strategies, alice)

    with pytest.raises(AlreadyExists, match="already a strategy named 'btc'"):
        await _add(strategies, alice, " btc")
    assert len(await strategies.list(alice.id)) == 1


async def test_a_user_cannot_add_on_another_users_connection(
    strategies: Strategies, strategies_context: ServiceContext
) -> None:
    alice = await _user(strategies_context, "alice")
    bob = await _user(strategies_context, "bob", connection="bobs")

    with pytest.raises(NotFound) as caught:
        await _add(strategies, alice, connection="bobs")

    assert str(caught.value) == "alice has no broker connection named 'bobs'"
    assert await strategies.list(alice.id) == []
    assert await strategies.list(bob.id) == []


async def test_show_returns_the_connection_type_and_newest_orders(
    strategies: Strategies, strategies_context: ServiceContext
) -> None:
    alice = await _user(strategies_context, "alice")
    added = await _add(strategies, alice)
    async with strategies_context.repository.unit_of_work() as uow:
        for index in range(12):
            await uow.orders.add(
                alice.id,
                make_order(
                    connection_id=added.connection.id,
                    client_order_id=f"tc-{index:02}",
                    strategy_id=added.config.id,
                ),
            )
        await uow.commit()

    shown = await strategies.show(alice.id, "btc")

    assert shown.config == added.config
    assert shown.connection.name == "main"
    assert shown.factory is not None
    assert shown.factory.name == "buyer"
    assert len(shown.orders) == 10
    footprint = await strategies.footprint(alice.id, "btc")
    assert (footprint.orders, footprint.still_open) == (12, 12)


async def test_edit_sets_and_unsets_parameters_checked_by_the_type(
    strategies: Strategies, strategies_context: ServiceContext
) -> None:
    alice = await _user(strategies_context, "alice")
    await _add(strategies, alice, parameters={"symbol": "BTC-USD", "amount": "20"})

    changed = await strategies.edit(alice.id, "btc", parameters={"symbol": "ETH-USD"})
    assert changed.changed
    assert dict(changed.config.parameters) == {"symbol": "ETH-USD", "amount": "20"}
    back = await strategies.edit(alice.id, "btc", unset=["amount"])
    assert dict(back.config.parameters) == {"symbol": "ETH-USD"}
    same = await strategies.edit(alice.id, "btc", parameters={"symbol": "ETH-USD"})
    assert not same.changed
    assert (await strategies.show(alice.id, "btc")).config == back.config


@pytest.mark.parametrize(
    ("parameters", "unset", "message"),
    [
        ({"amount": "0.5"}, (), "amount"),
        ({"colour": "red"}, (), "colour"),
        ({}, ("symbol",), "parameter 'symbol' is required"),
        ({}, ("amount",), "has no parameter 'amount' set to unset"),
        ({}, (), "nothing to change"),
    ],
)
async def test_edit_refuses_a_bad_result_and_changes_nothing(
    strategies: Strategies,
    strategies_context: ServiceContext,
    parameters: dict[str, str],
    unset: tuple[str, ...],
    message: str,
) -> None:
    alice = await _user(strategies_context, "alice")
    added = await _add(strategies, alice)

    with pytest.raises(ConfigurationError, match=message):
        await strategies.edit(alice.id, "btc", parameters=parameters, unset=unset)

    assert (await strategies.show(alice.id, "btc")).config == added.config


async def test_enable_disable_and_mode_say_whether_they_changed_anything(
    strategies: Strategies, strategies_context: ServiceContext
) -> None:
    alice = await _user(strategies_context, "alice")
    await _add(strategies, alice)

    assert (await strategies.set_active(alice.id, "btc", active=False)).changed
    assert not (await strategies.set_active(alice.id, "btc", active=False)).changed
    assert not (await strategies.show(alice.id, "btc")).config.active
    assert (await strategies.set_mode(alice.id, "btc", dry_run=True)).changed
    assert not (await strategies.set_mode(alice.id, "btc", dry_run=True)).changed
    assert (await strategies.show(alice.id, "btc")).config.dry_run
    assert (await strategies.set_active(alice.id, " btc ", active=True)).config.active


async def test_remove_deletes_the_strategy_and_keeps_its_orders(
    strategies: Strategies, strategies_context: ServiceContext
) -> None:
    alice = await _user(strategies_context, "alice")
    added = await _add(strategies, alice)
    async with strategies_context.repository.unit_of_work() as uow:
        await uow.orders.add(
            alice.id, make_order(connection_id=added.connection.id, strategy_id=added.config.id)
        )
        await uow.commit()

    removed = await strategies.remove(alice.id, "btc")

    assert (removed.orders, removed.still_open) == (1, 1)
    assert await strategies.list(alice.id) == []
    async with strategies_context.repository.unit_of_work() as uow:
        assert len(await uow.orders.list(alice.id)) == 1


def test_types_lists_the_installed_types_by_name(strategies: Strategies) -> None:
    assert [factory.name for factory in strategies.types()] == ["buyer"]


_Act = Callable[[Strategies, str], Awaitable[object]]

_ACTS: dict[str, _Act] = {
    "show": lambda s, user_id: s.show(user_id, "btc"),
    "footprint": lambda s, user_id: s.footprint(user_id, "btc"),
    "edit": lambda s, user_id: s.edit(user_id, "btc", parameters={"symbol": "ETH-USD"}),
    "disable": lambda s, user_id: s.set_active(user_id, "btc", active=False),
    "enable": lambda s, user_id: s.set_active(user_id, "btc", active=True),
    "dry-run": lambda s, user_id: s.set_mode(user_id, "btc", dry_run=True),
    "remove": lambda s, user_id: s.remove(user_id, "btc"),
}


@pytest.mark.parametrize("act", sorted(_ACTS))
async def test_a_user_cannot_read_or_change_another_users_strategy_by_naming_it(
    strategies: Strategies, strategies_context: ServiceContext, act: str
) -> None:
    alice = await _user(strategies_context, "alice")
    bob = await _user(strategies_context, "bob")
    bobs = (await _add(strategies, bob)).config

    with pytest.raises(NotFound) as caught:
        await _ACTS[act](strategies, alice.id)

    # the same sentence as for a name nobody uses: no hint that bob has one
    assert str(caught.value) == "alice has no strategy named 'btc'"
    assert (await strategies.show(bob.id, "btc")).config == bobs
    assert [view.config.name for view in await strategies.list(alice.id)] == []


async def test_get_by_id_finds_the_users_own_strategy_and_never_another_users(
    strategies: Strategies, strategies_context: ServiceContext
) -> None:
    alice = await _user(strategies_context, "alice")
    bob = await _user(strategies_context, "bob")
    hers = await _add(strategies, alice)

    found = await strategies.get(alice.id, hers.config.id)

    assert found.config == hers.config
    assert found.connection is not None
    assert found.connection.name == "main"
    with pytest.raises(NotFound, match="no such strategy") as refused:
        await strategies.get(bob.id, hers.config.id)
    assert "btc" not in str(refused.value)
    with pytest.raises(NotFound):
        await strategies.get(alice.id, "no-such-id")
