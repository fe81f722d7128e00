"""Memory repositories of who and what is configured: users, connections, notification targets,
strategies, schedules.

Each method builds an operation over :class:`~tradecore_adapters.memory._store.Tables` and hands it
to the unit's :class:`~tradecore_adapters.memory._session.Session`. Entities are copied on the way
in and on the way out, so neither the caller nor the store can change the other's object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

import attrs

from tradecore.domain import (
    AutomationConfig,
    BrokerConnection,
    NotificationTarget,
    StrategyConfig,
    User,
)
from tradecore.domain._checks import frozen_settings
from tradecore.errors import AlreadyExists, NotFound
from tradecore_adapters.memory._session import Session
from tradecore_adapters.memory._store import (
    Tables,
    copy_entity,
    drop_connection,
    drop_user,
    owned_connection,
)

__all__ = [
    "Automation",
    "Connections",
    "NotificationTargets",
    "Strategies",
    "Users",
    "automation_lock",
]

Named = TypeVar("Named", BrokerConnection, NotificationTarget, StrategyConfig)


class Users:
    """:class:`~tradecore.ports.UserRepository` in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, user: User) -> None:
        row = copy_entity(user)

        def add(tables: Tables) -> None:
            taken = tables.users.get(row.id) is not None or any(
                u.name == row.name for u in tables.users.values()
            )
            if taken:
                raise AlreadyExists(f"a user with this id or the name {row.name!r} exists")
            tables.users.put(row.id, row)

        self._session.write(add)

    async def get(self, user_id: str) -> User:
        def get(tables: Tables) -> User:
            user = tables.users.get(user_id)
            if user is None:
                raise NotFound(f"no user {user_id!r}")
            return copy_entity(user)

        return self._session.read(get)

    async def get_by_name(self, name: str) -> User:
        def get_by_name(tables: Tables) -> User:
            for user in tables.users.values():
                if user.name == name:
                    return copy_entity(user)
            raise NotFound(f"no user named {name!r}")

        return self._session.read(get_by_name)

    async def rename(self, user_id: str, name: str) -> None:
        def rename(tables: Tables) -> None:
            user = tables.users.get(user_id)
            if user is None:
                raise NotFound(f"no user {user_id!r}")
            if any(u.name == name and u.id != user_id for u in tables.users.values()):
                raise AlreadyExists(f"a user named {name!r} exists")
            renamed = copy_entity(user)
            renamed.name = name
            tables.users.put(user_id, renamed)

        self._session.write(rename)

    async def list(self) -> Sequence[User]:
        def list_(tables: Tables) -> list[User]:
            return [copy_entity(u) for u in sorted(tables.users.values(), key=_by_name)]

        return self._session.read(list_)

    async def remove(self, user_id: str) -> None:
        def remove(tables: Tables) -> None:
            if tables.users.get(user_id) is None:
                raise NotFound(f"no user {user_id!r}")
            drop_user(tables, user_id)

        self._session.write(remove)

    async def set_admin(self, user_id: str, is_admin: bool) -> None:
        def set_admin(tables: Tables) -> None:
            user = tables.users.get(user_id)
            if user is None:
                raise NotFound(f"no user {user_id!r}")
            changed = copy_entity(user)
            changed.is_admin = bool(is_admin)
            tables.users.put(user_id, changed)

        self._session.write(set_admin)

    async def set_language(self, user_id: str, language: str | None) -> None:
        def set_language(tables: Tables) -> None:
            user = tables.users.get(user_id)
            if user is None:
                raise NotFound(f"no user {user_id!r}")
            changed = copy_entity(user)
            changed.language = language
            tables.users.put(user_id, changed)

        self._session.write(set_language)

    async def set_password_hash(self, user_id: str, password_hash: str | None) -> None:
        def set_hash(tables: Tables) -> None:
            if tables.users.get(user_id) is None:
                raise NotFound(f"no user {user_id!r}")
            if password_hash is None:
                tables.password_hashes.delete(user_id)
            else:
                tables.password_hashes.put(user_id, password_hash)

        self._session.write(set_hash)

    async def password_hash(self, user_id: str) -> str | None:
        def read_hash(tables: Tables) -> str | None:
            if tables.users.get(user_id) is None:
                raise NotFound(f"no user {user_id!r}")
            return tables.password_hashes.get(user_id)

        return self._session.read(read_hash)


class Connections:
    """:class:`~tradecore.ports.ConnectionRepository` in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, connection: BrokerConnection) -> None:
        row = copy_entity(connection)

        def add(tables: Tables) -> None:
            if tables.users.get(row.user_id) is None:
                raise NotFound(f"no user {row.user_id!r}")
            if tables.connections.get(row.id) is not None or _connection_named(
                tables, row.user_id, row.name
            ):
                raise AlreadyExists(f"a connection with this id or the name {row.name!r} exists")
            tables.connections.put(row.id, row)

        self._session.write(add)

    async def get(self, user_id: str, connection_id: str) -> BrokerConnection:
        def get(tables: Tables) -> BrokerConnection:
            return copy_entity(owned_connection(tables, user_id, connection_id))

        return self._session.read(get)

    async def get_by_name(self, user_id: str, name: str) -> BrokerConnection:
        def get_by_name(tables: Tables) -> BrokerConnection:
            connection = _connection_named(tables, user_id, name)
            if connection is None:
                raise NotFound(f"no connection named {name!r} for this user")
            return copy_entity(connection)

        return self._session.read(get_by_name)

    async def get_for_update(self, user_id: str, connection_id: str) -> BrokerConnection:
        await self.get(user_id, connection_id)  # NotFound before waiting for a lock
        await self._session.lock(f"connection:{connection_id}")
        return await self.get(user_id, connection_id)

    async def list(self, user_id: str, *, active_only: bool = False) -> Sequence[BrokerConnection]:
        def list_(tables: Tables) -> list[BrokerConnection]:
            rows = [
                c
                for c in tables.connections.values()
                if c.user_id == user_id and (c.active or not active_only)
            ]
            return [copy_entity(c) for c in sorted(rows, key=_by_name)]

        return self._session.read(list_)

    async def update(self, connection: BrokerConnection) -> None:
        row = copy_entity(connection)

        def update(tables: Tables) -> None:
            owned_connection(tables, row.user_id, row.id)
            namesake = _connection_named(tables, row.user_id, row.name)
            if namesake is not None and namesake.id != row.id:
                raise AlreadyExists(f"another connection is named {row.name!r}")
            tables.connections.put(row.id, row)

        self._session.write(update)

    async def remove(self, user_id: str, connection_id: str) -> None:
        def remove(tables: Tables) -> None:
            owned_connection(tables, user_id, connection_id)
            drop_connection(tables, connection_id)

        self._session.write(remove)


class NotificationTargets:
    """:class:`~tradecore.ports.NotificationTargetRepository` in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, target: NotificationTarget) -> None:
        row = copy_entity(target)

        def add(tables: Tables) -> None:
            if tables.users.get(row.user_id) is None:
                raise NotFound(f"no user {row.user_id!r}")
            rows = tables.notification_targets
            if rows.get(row.id) is not None or _named(rows.values(), row.user_id, row.name):
                raise AlreadyExists(
                    f"a notification target with this id or the name {row.name!r} exists"
                )
            rows.put(row.id, row)

        self._session.write(add)

    async def get(self, user_id: str, target_id: str) -> NotificationTarget:
        def get(tables: Tables) -> NotificationTarget:
            return copy_entity(_owned_target(tables, user_id, target_id))

        return self._session.read(get)

    async def get_by_name(self, user_id: str, name: str) -> NotificationTarget:
        def get_by_name(tables: Tables) -> NotificationTarget:
            target = _named(tables.notification_targets.values(), user_id, name)
            if target is None:
                raise NotFound(f"no notification target named {name!r} for this user")
            return copy_entity(target)

        return self._session.read(get_by_name)

    async def list(
        self, user_id: str, *, active_only: bool = False
    ) -> Sequence[NotificationTarget]:
        def list_(tables: Tables) -> list[NotificationTarget]:
            rows = [
                t
                for t in tables.notification_targets.values()
                if t.user_id == user_id and (t.active or not active_only)
            ]
            return [copy_entity(t) for t in sorted(rows, key=_by_name)]

        return self._session.read(list_)

    async def update(self, target: NotificationTarget) -> None:
        row = copy_entity(target)

        def update(tables: Tables) -> None:
            _owned_target(tables, row.user_id, row.id)
            namesake = _named(tables.notification_targets.values(), row.user_id, row.name)
            if namesake is not None and namesake.id != row.id:
                raise AlreadyExists(f"another notification target is named {row.name!r}")
            tables.notification_targets.put(row.id, row)

        self._session.write(update)

    async def remove(self, user_id: str, target_id: str) -> None:
        def remove(tables: Tables) -> None:
            _owned_target(tables, user_id, target_id)
            tables.notification_targets.delete(target_id)

        self._session.write(remove)


class Strategies:
    """:class:`~tradecore.ports.StrategyRepository` in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, strategy: StrategyConfig) -> None:
        row = copy_entity(strategy)

        def add(tables: Tables) -> None:
            owned_connection(tables, row.user_id, row.connection_id)
            if tables.strategies.get(row.id) is not None or _strategy_named(
                tables, row.user_id, row.name
            ):
                raise AlreadyExists(f"a strategy with this id or the name {row.name!r} exists")
            tables.strategies.put(row.id, row)

        self._session.write(add)

    async def get(self, user_id: str, strategy_id: str) -> StrategyConfig:
        def get(tables: Tables) -> StrategyConfig:
            return copy_entity(_owned_strategy(tables, user_id, strategy_id))

        return self._session.read(get)

    async def get_by_name(self, user_id: str, name: str) -> StrategyConfig:
        def get_by_name(tables: Tables) -> StrategyConfig:
            strategy = _strategy_named(tables, user_id, name)
            if strategy is None:
                raise NotFound(f"no strategy named {name!r} for this user")
            return copy_entity(strategy)

        return self._session.read(get_by_name)

    async def list(self, user_id: str, *, active_only: bool = False) -> Sequence[StrategyConfig]:
        def list_(tables: Tables) -> list[StrategyConfig]:
            rows = [
                s
                for s in tables.strategies.values()
                if s.user_id == user_id and (s.active or not active_only)
            ]
            return [copy_entity(s) for s in sorted(rows, key=_by_name)]

        return self._session.read(list_)

    async def update(self, strategy: StrategyConfig) -> None:
        row = copy_entity(strategy)

        def update(tables: Tables) -> None:
            stored = _owned_strategy(tables, row.user_id, row.id)
            owned_connection(tables, row.user_id, row.connection_id)
            namesake = _strategy_named(tables, row.user_id, row.name)
            if namesake is not None and namesake.id != row.id:
                raise AlreadyExists(f"another strategy is named {row.name!r}")
            # The state stays as stored: only save_state writes it.
            tables.strategies.put(row.id, attrs.evolve(row, state=stored.state))

        self._session.write(update)

    async def save_state(self, user_id: str, strategy_id: str, state: Mapping[str, str]) -> None:
        frozen = frozen_settings(state)

        def save_state(tables: Tables) -> None:
            stored = _owned_strategy(tables, user_id, strategy_id)
            tables.strategies.put(strategy_id, attrs.evolve(stored, state=frozen))

        self._session.write(save_state)

    async def remove(self, user_id: str, strategy_id: str) -> None:
        def remove(tables: Tables) -> None:
            _owned_strategy(tables, user_id, strategy_id)
            tables.strategies.delete(strategy_id)

        self._session.write(remove)


class Automation:
    """:class:`~tradecore.ports.AutomationRepository` in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def get(self, user_id: str) -> AutomationConfig | None:
        def get(tables: Tables) -> AutomationConfig | None:
            config = tables.automation.get(user_id)
            return None if config is None else copy_entity(config)

        return self._session.read(get)

    async def get_for_update(self, user_id: str) -> AutomationConfig | None:
        # Locked even when there is no config yet, so that a first save is serialised too.
        await self._session.lock(automation_lock(user_id))
        return await self.get(user_id)

    async def save(self, config: AutomationConfig) -> None:
        # The lease state lives in its own table (Tables.lease_slots): saving never touches it.
        row = copy_entity(config)

        def save(tables: Tables) -> None:
            if tables.users.get(row.user_id) is None:
                raise NotFound(f"no user {row.user_id!r}")
            tables.automation.put(row.user_id, row)

        self._session.write(save)

    async def list(self) -> Sequence[AutomationConfig]:
        # By user id: the port promises no order, this one is merely deterministic.
        def list_(tables: Tables) -> list[AutomationConfig]:
            rows = sorted(tables.automation.values(), key=lambda c: c.user_id)
            return [copy_entity(c) for c in rows]

        return self._session.read(list_)


def automation_lock(user_id: str) -> str:
    """The row-lock key of a user's automation config and lease slot (one row in SQL): taken
    by :meth:`Automation.get_for_update` and by every lease write."""
    return f"automation:{user_id}"


def _by_name(row: User | BrokerConnection | NotificationTarget | StrategyConfig) -> tuple[str, str]:
    return (row.name, row.id)


def _named(rows: Iterable[Named], user_id: str, name: str) -> Named | None:
    for row in rows:
        if row.user_id == user_id and row.name == name:
            return row
    return None


def _connection_named(tables: Tables, user_id: str, name: str) -> BrokerConnection | None:
    return _named(tables.connections.values(), user_id, name)


def _strategy_named(tables: Tables, user_id: str, name: str) -> StrategyConfig | None:
    return _named(tables.strategies.values(), user_id, name)


def _owned_strategy(tables: Tables, user_id: str, strategy_id: str) -> StrategyConfig:
    strategy = tables.strategies.get(strategy_id)
    if strategy is None or strategy.user_id != user_id:
        raise NotFound(f"no strategy {strategy_id!r} for this user")
    return strategy


def _owned_target(tables: Tables, user_id: str, target_id: str) -> NotificationTarget:
    target = tables.notification_targets.get(target_id)
    if target is None or target.user_id != user_id:
        raise NotFound(f"no notification target {target_id!r} for this user")
    return target
