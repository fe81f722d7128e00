"""Managing a user's strategies: add one (its parameters validated by its type first), switch it
on or off, remove it. The command line and any future API go through these."""

from __future__ import annotations

from collections.abc import Mapping

from attrs import evolve

from tradecore.domain import StrategyConfig
from tradecore.errors import PluginError
from tradecore.ports import Clock, RepositoryPort, StrategyFactory

__all__ = ["add_strategy", "remove_strategy", "set_strategy_active", "strategy_factory"]


def strategy_factory(
    factories: Mapping[str, StrategyFactory], strategy_type: str
) -> StrategyFactory:
    """The installed strategy type ``strategy_type``.

    :raises PluginError: it is not installed (the installed ones are listed).
    """
    factory = factories.get(strategy_type)
    if factory is None:
        known = ", ".join(sorted(factories)) or "none"
        raise PluginError(f"strategy type {strategy_type!r} is not installed; installed: {known}")
    return factory


async def add_strategy(
    *,
    repository: RepositoryPort,
    factories: Mapping[str, StrategyFactory],
    clock: Clock,
    user_id: str,
    strategy_type: str,
    name: str,
    connection_id: str,
    parameters: Mapping[str, str],
    dry_run: bool = False,
) -> StrategyConfig:
    """Validate and store a new, active strategy.

    :raises PluginError: the type is not installed.
    :raises ConfigurationError: a parameter is unknown, missing, malformed, out of bounds, or
        the combination is refused by the strategy type; nothing is stored.
    :raises AlreadyExists: the user already has a strategy with that name.
    :raises NotFound: the connection is not the user's.
    """
    factory = strategy_factory(factories, strategy_type)
    config = StrategyConfig(
        user_id=user_id,
        strategy_type=strategy_type,
        name=name,
        connection_id=connection_id,
        parameters=dict(parameters),
        dry_run=dry_run,
        created_at=clock.now(),
    )
    factory.build(config)
    async with repository.unit_of_work() as uow:
        await uow.connections.get(user_id, connection_id)
        await uow.strategies.add(config)
        await uow.commit()
    return config


async def set_strategy_active(
    *, repository: RepositoryPort, user_id: str, name: str, active: bool
) -> StrategyConfig:
    """Enable or disable the strategy ``name``; its state and history are kept.

    :raises NotFound: the user has no strategy with that name.
    """
    async with repository.unit_of_work() as uow:
        config = await uow.strategies.get_by_name(user_id, name)
        changed = evolve(config, active=active)
        await uow.strategies.update(changed)
        await uow.commit()
    return changed


async def remove_strategy(*, repository: RepositoryPort, user_id: str, name: str) -> StrategyConfig:
    """Delete the strategy ``name``. Its orders stay in the ledger.

    :raises NotFound: the user has no strategy with that name.
    """
    async with repository.unit_of_work() as uow:
        config = await uow.strategies.get_by_name(user_id, name)
        await uow.strategies.remove(user_id, config.id)
        await uow.commit()
    return config
