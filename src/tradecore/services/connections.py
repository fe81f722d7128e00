"""Use cases on a user's broker connections: add, list, show, edit settings, enable or disable,
test, and remove.

Every use case acts as one user: a connection is looked up by name *within* that user, so
another user's connection is simply "not found". Settings are checked against what the broker
plugin declares, secrets against the secrets it asks for, and the plugin builds the adapter once
(no I/O) before anything is stored, so a connection that could never work is refused at once.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from contextlib import suppress

from attrs import evolve, frozen

from tradecore.domain import Account, BrokerConnection, Secret, checked_name
from tradecore.domain.secret import check_secret_length
from tradecore.errors import (
    AlreadyExists,
    ConfigurationError,
    DomainError,
    NotFound,
    PluginError,
)
from tradecore.ports import BrokerFactory, UnitOfWork, check_settings
from tradecore.services.brokers import describe_broker_failure, mask_secrets
from tradecore.services.context import ServiceContext, installed
from tradecore.services.unreadable import needs_secrets

__all__ = ["ConnectionCheck", "ConnectionFootprint", "Connections", "connection_by_name"]


async def connection_by_name(uow: UnitOfWork, user_id: str, name: str) -> BrokerConnection:
    """The user's connection called ``name``, in ``uow``.

    :raises NotFound: the user has no connection with that name (whoever else may have one),
        or there is no such user.
    """
    try:
        return await uow.connections.get_by_name(user_id, name.strip())
    except NotFound:
        user = await uow.users.get(user_id)
        raise NotFound(f"{user.name} has no broker connection named {name!r}") from None


@frozen(kw_only=True)
class ConnectionFootprint:
    """What removing a connection deletes: the connection and counts of its data."""

    connection: BrokerConnection
    positions: int
    trades: int


@frozen(kw_only=True)
class ConnectionCheck:
    """What :meth:`Connections.test` found: the accounts, or why the connection does not work.

    :param problem: one line saying what went wrong (secrets masked); ``None`` when it works.
    :param error: the error itself, for a front end asked for a traceback.
    """

    connection: BrokerConnection
    accounts: tuple[Account, ...] = ()
    problem: str | None = None
    error: BaseException | None = None

    @property
    def works(self) -> bool:
        """``True`` when the broker logged in and listed the accounts."""
        return self.problem is None


class Connections:
    """The use cases on a user's broker connections."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    def factory(self, broker: str) -> BrokerFactory:
        """The installed broker plugin called ``broker`` (what settings and secrets it takes).

        :raises PluginError: none is installed; the message lists those that are.
        """
        return installed(self._context.brokers, broker, "broker")

    async def check_new(
        self, user_id: str, *, broker: str, name: str, settings: Mapping[str, str]
    ) -> BrokerFactory:
        """Check what :meth:`add` would be given before its secrets are asked for.

        :returns: the broker's plugin (its :attr:`~BrokerFactory.secrets` say what to ask).
        :raises PluginError: the broker is not installed.
        :raises DomainError: the name breaks the rule for names.
        :raises ConfigurationError: a setting is unknown, missing or not one of its choices.
        :raises AlreadyExists: the user already has a connection with that name.
        :raises NotFound: no such user.
        """
        factory = self.factory(broker)
        name = checked_name("connection", name)
        check_settings(factory.settings, settings, owner=f"broker {broker!r}")
        async with self._context.repository.unit_of_work() as uow:
            user = await uow.users.get(user_id)
            try:
                await uow.connections.get_by_name(user_id, name)
            except NotFound:
                return factory
        raise _taken(user.name, name)

    async def add(
        self,
        user_id: str,
        *,
        broker: str,
        name: str,
        settings: Mapping[str, str] | None = None,
        secrets: Mapping[str, Secret] | None = None,
    ) -> BrokerConnection:
        """Connect the user to ``broker``: check everything, let the plugin build the adapter
        once (no I/O), then store the connection (its secrets encrypted by the repository).

        :param settings: the broker's non-secret settings (see its plugin's ``settings``).
        :param secrets: its secrets (API keys…), each a :class:`Secret`.
        :raises PluginError: the broker is not installed.
        :raises DomainError: the name breaks the rule for names.
        :raises ConfigurationError: a setting or secret is unknown, missing or refused by the
            plugin (secrets masked in the message); nothing is stored.
        :raises AlreadyExists: the user already has a connection with that name.
        :raises NotFound: no such user.
        """
        settings = dict(settings or {})
        secrets = dict(secrets or {})
        factory = await self.check_new(user_id, broker=broker, name=name, settings=settings)
        _check_secrets(factory, secrets)
        connection = BrokerConnection(
            user_id=user_id,
            broker=broker,
            name=checked_name("connection", name),
            settings=settings,
            secrets=secrets,
            created_at=self._context.clock.now(),
        )
        await self._built_once(connection)
        async with self._context.repository.unit_of_work() as uow:
            try:
                await uow.connections.add(connection)
            except AlreadyExists:
                user = await uow.users.get(user_id)
                raise _taken(user.name, connection.name) from None
            await uow.commit()
        return connection

    async def list(self, user_id: str) -> builtins.list[BrokerConnection]:
        """The user's connections, by name. A connection is marked ``secrets_unreadable`` only
        when its broker needs secrets: one that takes none (paper) lost nothing with a key.

        :raises NotFound: no such user.
        """
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.get(user_id)
            found = await uow.connections.list(user_id)
        return [self._as_shown(connection) for connection in found]

    def _as_shown(self, connection: BrokerConnection) -> BrokerConnection:
        factory = self._context.brokers.get(connection.broker)
        if connection.secrets_unreadable and factory is not None and not needs_secrets(factory):
            return evolve(connection, secrets_unreadable=False)
        return connection

    def installed(self) -> builtins.list[BrokerFactory]:
        """The installed broker plugins, by name (what a new connection may use)."""
        return [self._context.brokers[name] for name in sorted(self._context.brokers)]

    async def by_id(self, user_id: str, connection_id: str) -> BrokerConnection:
        """The user's connection with id ``connection_id`` (front ends that address connections
        by id call this, then the use cases by name).

        :raises NotFound: the user has no connection with that id (another user's is not found
            either, exactly like one that does not exist).
        """
        async with self._context.repository.unit_of_work() as uow:
            user = await uow.users.get(user_id)
            try:
                found = await uow.connections.get(user_id, connection_id.strip())
            except NotFound:
                raise NotFound(f"{user.name} has no broker connection with that id") from None
        return self._as_shown(found)

    async def footprints(self, user_id: str) -> builtins.list[ConnectionFootprint]:
        """Every connection of the user with its counts of positions and trades, by name, in
        one read (for a dashboard).

        :raises NotFound: no such user.
        """
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.get(user_id)
            return [
                ConnectionFootprint(
                    connection=self._as_shown(connection),
                    positions=len(await uow.positions.list(user_id, connection_id=connection.id)),
                    trades=await uow.trades.count(user_id, connection_id=connection.id),
                )
                for connection in await uow.connections.list(user_id)
            ]

    async def get(self, user_id: str, name: str) -> BrokerConnection:
        """The user's connection called ``name``.

        :raises NotFound: the user has none by that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            return await connection_by_name(uow, user_id, name)

    async def edit_settings(
        self, user_id: str, name: str, changes: Mapping[str, str | None]
    ) -> BrokerConnection:
        """Change some settings of the connection ``name`` (``None`` removes one); the plugin
        checks the result and builds the adapter once before it is stored.

        :raises NotFound: the user has no connection by that name.
        :raises ConfigurationError: the settings that would result are refused; nothing changes.
        """
        async with self._context.repository.unit_of_work() as uow:
            connection = await connection_by_name(uow, user_id, name)
        settings = {**connection.settings}
        for key, value in changes.items():
            if value is None:
                settings.pop(key, None)
            else:
                settings[key] = value
        factory = self.factory(connection.broker)
        check_settings(factory.settings, settings, owner=f"broker {connection.broker!r}")
        return await self._update(evolve(connection, settings=settings), check=True)

    async def replace_secrets(
        self, user_id: str, name: str, secrets: Mapping[str, Secret]
    ) -> BrokerConnection:
        """Give the connection ``name`` new secrets (API keys…), checked against what its broker
        asks for and by the plugin building the adapter once (no I/O), then stored encrypted
        under the current key. Unreadable secrets are replaced; readable OAuth tokens are kept
        (unreadable ones are gone: log in again).

        :raises NotFound: the user has no connection by that name.
        :raises PluginError: the connection's broker is not installed.
        :raises ConfigurationError: a secret is unknown, missing or refused by the plugin
            (secrets masked in the message); nothing is stored.
        """
        connection = await self.get(user_id, name)
        secrets = dict(secrets)
        _check_secrets(self.factory(connection.broker), secrets)
        await self._built_once(_with_secrets(connection, secrets))
        async with self._context.repository.unit_of_work() as uow:
            # Keep what another process changed meanwhile (settings, tokens rotated by a cycle).
            current = await uow.connections.get_for_update(user_id, connection.id)
            changed = _with_secrets(current, secrets)
            await uow.connections.update(changed)
            await uow.commit()
        return changed

    async def set_active(self, user_id: str, name: str, *, active: bool) -> BrokerConnection:
        """Enable or disable the connection ``name``: a disabled one is kept but never synced
        and its strategies do not run.

        :raises NotFound: the user has no connection by that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            connection = await connection_by_name(uow, user_id, name)
        return await self._update(evolve(connection, active=active), check=False)

    async def test(self, user_id: str, name: str) -> ConnectionCheck:
        """Log in to the broker of connection ``name`` and list its accounts; nothing is stored
        (but a due OAuth token renewal, which is kept as usual).

        :raises NotFound: the user has no connection by that name.
        """
        connection = await self.get(user_id, name)
        try:
            async with self._context.open_broker(connection) as adapter:
                await adapter.authenticate()
                accounts = tuple(await adapter.get_accounts())
        except Exception as exc:
            return ConnectionCheck(
                connection=connection,
                problem=describe_broker_failure(exc, connection),
                error=exc,
            )
        return ConnectionCheck(connection=connection, accounts=accounts)

    async def footprint(self, user_id: str, name: str) -> ConnectionFootprint:
        """What removing the connection ``name`` would delete (to ask before doing it).

        :raises NotFound: the user has no connection by that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            connection = await connection_by_name(uow, user_id, name)
            return ConnectionFootprint(
                connection=connection,
                positions=len(await uow.positions.list(user_id, connection_id=connection.id)),
                trades=await uow.trades.count(user_id, connection_id=connection.id),
            )

    async def remove(self, user_id: str, name: str) -> ConnectionFootprint:
        """Remove the connection ``name`` with its secrets, positions, trades, cursors, orders
        and strategies.

        :returns: what was deleted.
        :raises NotFound: the user has no connection by that name.
        """
        footprint = await self.footprint(user_id, name)
        async with self._context.repository.unit_of_work() as uow:
            await uow.connections.remove(user_id, footprint.connection.id)
            await uow.commit()
        return footprint

    async def _update(self, connection: BrokerConnection, *, check: bool) -> BrokerConnection:
        if check:
            await self._built_once(connection)
        async with self._context.repository.unit_of_work() as uow:
            current = await uow.connections.get_for_update(connection.user_id, connection.id)
            # Keep what another process changed meanwhile (tokens rotated by a cycle).
            changed = evolve(current, settings=connection.settings, active=connection.active)
            await uow.connections.update(changed)
            await uow.commit()
        return changed

    async def _built_once(self, connection: BrokerConnection) -> None:
        # Let the plugin check the whole connection now rather than at the first sync: building
        # an adapter does no I/O. Its message is masked in case a plugin quotes a secret.
        try:
            built = self._context.create_broker(connection)
        except ConfigurationError as exc:
            raise ConfigurationError(mask_secrets(str(exc), connection)) from None
        except PluginError:
            raise
        except Exception as exc:
            raise ConfigurationError(
                f"the {connection.broker} plugin cannot build connection {connection.name}: "
                f"{describe_broker_failure(exc, connection)}"
            ) from None
        with suppress(Exception):  # closing an adapter that did no I/O: nothing to report
            await built.aclose()


def _check_secrets(factory: BrokerFactory, secrets: Mapping[str, Secret]) -> None:
    owner = f"broker {factory.name!r}"
    known = {spec.name for spec in factory.secrets}
    unknown = sorted(set(secrets) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise ConfigurationError(
            f"{owner}: unknown secret(s) {', '.join(unknown)}; allowed: {allowed}"
        )
    for name, value in secrets.items():
        if not isinstance(value, Secret):
            raise ConfigurationError(f"{owner}: secret {name!r} must be given as a Secret")
        try:
            check_secret_length(name, value)
        except DomainError as exc:
            raise ConfigurationError(f"{owner}: {exc}") from None
    missing = [spec.name for spec in factory.secrets if spec.required and spec.name not in secrets]
    if missing:
        raise ConfigurationError(f"{owner}: secret(s) {', '.join(missing)} required")


def _with_secrets(connection: BrokerConnection, secrets: Mapping[str, Secret]) -> BrokerConnection:
    tokens = None if connection.secrets_unreadable else connection.tokens
    return evolve(connection, secrets=secrets, tokens=tokens, secrets_unreadable=False)


def _taken(user_name: str, name: str) -> AlreadyExists:
    return AlreadyExists(f"{user_name} already has a broker connection named {name!r}")
