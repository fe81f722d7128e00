"""Use cases on a user's strategies: add (its parameters checked by its type first), list, show,
edit parameters, enable or disable, set the mode (dry run or live), remove, and the installed
types.

Every lookup is scoped by the acting user: another user's strategy or connection is "not found",
exactly like one that does not exist. Names follow :func:`tradecore.domain.checked_name`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from attrs import evolve, frozen

from tradecore.domain import BrokerConnection, Order, StrategyConfig, checked_name
from tradecore.errors import AlreadyExists, ConfigurationError, NotFound, PluginError
from tradecore.ports import Clock, RepositoryPort, StrategyFactory, UnitOfWork
from tradecore.services.connections import connection_by_name
from tradecore.services.context import ServiceContext

__all__ = [
    "SHOWN_ORDERS",
    "Strategies",
    "StrategyChange",
    "StrategyDetails",
    "StrategyFootprint",
    "StrategyView",
    "UnknownStrategyType",
    "add_strategy",
    "strategy_factory",
]

SHOWN_ORDERS = 10
"""How many of a strategy's newest orders :meth:`Strategies.show` returns."""


class UnknownStrategyType(PluginError):
    """No installed plugin provides the strategy type asked for.

    :param strategy_type: the type asked for.
    :param installed: the installed types, by name.
    """

    def __init__(self, strategy_type: str, installed: Iterable[str]) -> None:
        self.strategy_type = strategy_type
        self.installed = tuple(sorted(installed))
        known = ", ".join(self.installed) or "none"
        super().__init__(f"strategy type {strategy_type!r} is not installed; installed: {known}")


def strategy_factory(
    factories: Mapping[str, StrategyFactory], strategy_type: str
) -> StrategyFactory:
    """The installed strategy type ``strategy_type``.

    :raises UnknownStrategyType: it is not installed (the installed ones are listed).
    """
    factory = factories.get(strategy_type)
    if factory is None:
        raise UnknownStrategyType(strategy_type, factories)
    return factory


@frozen(kw_only=True)
class StrategyView:
    """A strategy as a list shows it.

    :param connection: the connection it trades (``None`` if it is gone).
    :param factory: its installed type (``None`` when the plugin is not installed).
    """

    config: StrategyConfig
    connection: BrokerConnection | None
    factory: StrategyFactory | None


@frozen(kw_only=True)
class StrategyDetails:
    """A strategy with its newest orders (at most :data:`SHOWN_ORDERS`, newest last)."""

    config: StrategyConfig
    connection: BrokerConnection
    factory: StrategyFactory | None
    orders: tuple[Order, ...]


@frozen(kw_only=True)
class StrategyChange:
    """A strategy after a change, and whether anything changed (it may already have been so)."""

    config: StrategyConfig
    changed: bool


@frozen(kw_only=True)
class StrategyFootprint:
    """What removing a strategy touches: its orders stay in the ledger, open ones at the broker.

    :param orders: how many orders it placed.
    :param still_open: how many of them are not finished yet.
    """

    config: StrategyConfig
    orders: int
    still_open: int


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
    """Validate and store a new, active strategy on the connection with id ``connection_id``
    (the lower-level form of :meth:`Strategies.add`, which finds the connection by name).

    :raises UnknownStrategyType: the type is not installed.
    :raises DomainError: the name breaks the rule for names.
    :raises ConfigurationError: a parameter is unknown, missing, malformed, out of bounds, or
        the combination is refused by the strategy type; nothing is stored.
    :raises AlreadyExists: the user already has a strategy with that name.
    :raises NotFound: the connection is not the user's.
    """
    factory = strategy_factory(factories, strategy_type)
    config = StrategyConfig(
        user_id=user_id,
        strategy_type=strategy_type,
        name=checked_name("strategy", name),
        connection_id=connection_id,
        parameters=dict(parameters),
        dry_run=dry_run,
        created_at=clock.now(),
    )
    factory.build(config)
    async with repository.unit_of_work() as uow:
        await uow.connections.get(user_id, connection_id)
        try:
            await uow.strategies.add(config)
        except AlreadyExists:
            raise AlreadyExists(f"there is already a strategy named {config.name!r}") from None
        await uow.commit()
    return config


async def _strategy(uow: UnitOfWork, user_id: str, name: str) -> StrategyConfig:
    # The user's strategy; another user's is "not found" exactly like one that does not exist.
    try:
        return await uow.strategies.get_by_name(user_id, name.strip())
    except NotFound:
        user = await uow.users.get(user_id)
        raise NotFound(f"{user.name} has no strategy named {name!r}") from None


class Strategies:
    """The use cases on strategies. Build it with the application's :class:`ServiceContext`;
    every method acts as the user whose id it is given."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    def types(self) -> list[StrategyFactory]:
        """The installed strategy types, by name."""
        factories = self._context.strategies
        return [factories[name] for name in sorted(factories)]

    async def add(
        self,
        user_id: str,
        *,
        strategy_type: str,
        name: str,
        connection: str,
        parameters: Mapping[str, str],
        dry_run: bool = False,
    ) -> StrategyView:
        """Add an active strategy of ``strategy_type`` called ``name`` trading the user's
        connection named ``connection``; its parameters are checked by its type first.

        :param dry_run: record what it would order and place nothing.
        :raises UnknownStrategyType: the type is not installed.
        :raises DomainError: the name breaks the rule for names.
        :raises ConfigurationError: the type refuses the parameters; nothing is stored.
        :raises NotFound: the user has no connection with that name.
        :raises AlreadyExists: the user already has a strategy with that name.
        """
        factory = strategy_factory(self._context.strategies, strategy_type)
        checked = checked_name("strategy", name)
        async with self._context.repository.unit_of_work() as uow:
            found = await connection_by_name(uow, user_id, connection)
        config = await add_strategy(
            repository=self._context.repository,
            factories=self._context.strategies,
            clock=self._context.clock,
            user_id=user_id,
            strategy_type=strategy_type,
            name=checked,
            connection_id=found.id,
            parameters=parameters,
            dry_run=dry_run,
        )
        return StrategyView(config=config, connection=found, factory=factory)

    async def list(self, user_id: str) -> list[StrategyView]:
        """The user's strategies with their connections and types."""
        async with self._context.repository.unit_of_work() as uow:
            found = await uow.strategies.list(user_id)
            connections = {each.id: each for each in await uow.connections.list(user_id)}
        return [
            StrategyView(
                config=config,
                connection=connections.get(config.connection_id),
                factory=self._context.strategies.get(config.strategy_type),
            )
            for config in found
        ]

    async def get(self, user_id: str, strategy_id: str) -> StrategyView:
        """The user's strategy with the id ``strategy_id`` (for front ends that address
        strategies by id); another user's strategy is "not found" like one that does not exist.

        :raises NotFound: the user has no strategy with that id.
        """
        async with self._context.repository.unit_of_work() as uow:
            try:
                config = await uow.strategies.get(user_id, strategy_id.strip())
            except NotFound:
                raise NotFound("no such strategy") from None
            connections = {each.id: each for each in await uow.connections.list(user_id)}
        return StrategyView(
            config=config,
            connection=connections.get(config.connection_id),
            factory=self._context.strategies.get(config.strategy_type),
        )

    async def show(self, user_id: str, name: str) -> StrategyDetails:
        """The user's strategy ``name`` with its connection, type and newest orders.

        :raises NotFound: the user has no strategy with that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            config = await _strategy(uow, user_id, name)
            connection = await uow.connections.get(user_id, config.connection_id)
            orders = await uow.orders.list(user_id, strategy_id=config.id, limit=SHOWN_ORDERS)
        return StrategyDetails(
            config=config,
            connection=connection,
            factory=self._context.strategies.get(config.strategy_type),
            orders=tuple(orders),
        )

    async def edit(
        self,
        user_id: str,
        name: str,
        *,
        parameters: Mapping[str, str] | None = None,
        unset: Sequence[str] = (),
    ) -> StrategyChange:
        """Change some parameters of the user's strategy ``name``: ``parameters`` are set,
        ``unset`` ones go back to their default. The result is checked by the strategy's type
        as when it is added; on any error nothing is stored.

        :raises NotFound: the user has no strategy with that name.
        :raises UnknownStrategyType: its type is not installed, so nothing can be checked.
        :raises ConfigurationError: nothing to change, a parameter to unset is not set, or the
            type refuses the result.
        """
        given = dict(parameters or {})
        if not given and not unset:
            raise ConfigurationError("nothing to change; give a parameter to set or to unset")
        async with self._context.repository.unit_of_work() as uow:
            config = await _strategy(uow, user_id, name)
            factory = strategy_factory(self._context.strategies, config.strategy_type)
            merged = dict(config.parameters)
            for key in unset:
                if key not in merged:
                    raise ConfigurationError(
                        f"strategy {config.name!r} has no parameter {key!r} set to unset"
                    )
                del merged[key]
            merged.update(given)
            changed = evolve(config, parameters=merged)
            factory.build(changed)
            if dict(config.parameters) == merged:
                return StrategyChange(config=config, changed=False)
            await uow.strategies.update(changed)
            await uow.commit()
        return StrategyChange(config=changed, changed=True)

    async def set_active(self, user_id: str, name: str, *, active: bool) -> StrategyChange:
        """Enable (``active``) or disable the user's strategy ``name``; its parameters, state
        and orders are kept.

        :raises NotFound: the user has no strategy with that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            config = await _strategy(uow, user_id, name)
            if config.active == active:
                return StrategyChange(config=config, changed=False)
            changed = evolve(config, active=active)
            await uow.strategies.update(changed)
            await uow.commit()
        return StrategyChange(config=changed, changed=True)

    async def set_mode(self, user_id: str, name: str, *, dry_run: bool) -> StrategyChange:
        """Switch the user's strategy ``name`` to dry run (``dry_run``: place nothing) or live.

        :raises NotFound: the user has no strategy with that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            config = await _strategy(uow, user_id, name)
            if config.dry_run == dry_run:
                return StrategyChange(config=config, changed=False)
            changed = evolve(config, dry_run=dry_run)
            await uow.strategies.update(changed)
            await uow.commit()
        return StrategyChange(config=changed, changed=True)

    async def footprint(self, user_id: str, name: str) -> StrategyFootprint:
        """What removing the user's strategy ``name`` would leave behind (to ask first).

        :raises NotFound: the user has no strategy with that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            return await self._footprint(uow, user_id, name)

    async def remove(self, user_id: str, name: str) -> StrategyFootprint:
        """Delete the user's strategy ``name`` with its parameters and state. Its orders stay in
        the ledger, and open ones stay open at the broker.

        :raises NotFound: the user has no strategy with that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            footprint = await self._footprint(uow, user_id, name)
            await uow.strategies.remove(user_id, footprint.config.id)
            await uow.commit()
        return footprint

    @staticmethod
    async def _footprint(uow: UnitOfWork, user_id: str, name: str) -> StrategyFootprint:
        config = await _strategy(uow, user_id, name)
        orders = await uow.orders.list(user_id, strategy_id=config.id)
        return StrategyFootprint(
            config=config,
            orders=len(orders),
            still_open=sum(not order.is_terminal for order in orders),
        )
