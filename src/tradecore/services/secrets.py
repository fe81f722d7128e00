"""Use cases for stored secrets after the secret key was lost: see what cannot be decrypted,
forget it, and give a connection new secrets.

When the key that sealed some secrets is gone, the repository reads their connections and
notification targets with ``secrets_unreadable`` set (see
:mod:`tradecore.services.unreadable`). :meth:`Secrets.forget` replaces those secrets by none,
sealed under the current key, so nothing unreadable is left and every command works again;
:meth:`Secrets.replace_connection_secrets` then gives a connection its secrets back (it also
works directly on an unreadable connection, and on a readable one whose keys changed at the
broker). A plugin that declares no secrets (the paper broker) never lost anything.
"""

from __future__ import annotations

from attrs import evolve, frozen

from tradecore.domain import BrokerConnection, NotificationTarget, User
from tradecore.errors import NotFound
from tradecore.services.context import ServiceContext
from tradecore.services.unreadable import needs_secrets

__all__ = ["Secrets", "UnreadableSecrets"]


@frozen(kw_only=True)
class UnreadableSecrets:
    """One user's connections and notification targets whose secrets cannot be decrypted.

    :param lost_connections: the names of the connections among them whose broker needs
        secrets or a login (the others, paper ones, lost nothing they use).
    """

    user: User
    connections: tuple[BrokerConnection, ...]
    targets: tuple[NotificationTarget, ...]
    lost_connections: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.connections or self.targets)


class Secrets:
    """The use cases on stored secrets. Build it with the application's :class:`ServiceContext`."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    async def unreadable(self, user_id: str | None = None) -> list[UnreadableSecrets]:
        """The connections and targets whose secrets cannot be decrypted, per user (only the
        users that have some); of the user ``user_id`` only when given.

        :raises NotFound: there is no user ``user_id``.
        """
        found: list[UnreadableSecrets] = []
        async with self._context.repository.unit_of_work() as uow:
            users = [await uow.users.get(user_id)] if user_id else list(await uow.users.list())
            for user in users:
                connections = tuple(
                    c for c in await uow.connections.list(user.id) if c.secrets_unreadable
                )
                targets = tuple(
                    t for t in await uow.notification_targets.list(user.id) if t.secrets_unreadable
                )
                lost = frozenset(c.name for c in connections if self._lost(c))
                entry = UnreadableSecrets(
                    user=user, connections=connections, targets=targets, lost_connections=lost
                )
                if entry:
                    found.append(entry)
        return found

    async def forget(self, user_id: str | None = None) -> list[UnreadableSecrets]:
        """Drop the secrets that cannot be decrypted: each such connection and target keeps its
        name, settings, history and active flag, and gets no secrets (and no OAuth tokens),
        sealed under the current key. Give them back with :meth:`replace_connection_secrets`
        (a target: remove it and add it again).

        One unit of work per user; a connection or target made readable meanwhile (new secrets
        given by another process) is left alone.

        :returns: what was forgotten, per user.
        :raises NotFound: there is no user ``user_id``.
        """
        forgotten: list[UnreadableSecrets] = []
        for entry in await self.unreadable(user_id):
            connections: list[BrokerConnection] = []
            targets: list[NotificationTarget] = []
            async with self._context.repository.unit_of_work() as uow:
                for connection in entry.connections:
                    try:
                        current = await uow.connections.get_for_update(entry.user.id, connection.id)
                    except NotFound:
                        continue
                    if current.secrets_unreadable:
                        cleared = evolve(current, secrets={}, tokens=None, secrets_unreadable=False)
                        await uow.connections.update(cleared)
                        connections.append(cleared)
                for target in entry.targets:
                    try:
                        now = await uow.notification_targets.get(entry.user.id, target.id)
                    except NotFound:
                        continue
                    if now.secrets_unreadable:
                        cleared_target = evolve(now, secrets={}, secrets_unreadable=False)
                        await uow.notification_targets.update(cleared_target)
                        targets.append(cleared_target)
                await uow.commit()
            forgotten.append(
                evolve(
                    entry,
                    connections=tuple(connections),
                    targets=tuple(targets),
                    lost_connections=entry.lost_connections & {c.name for c in connections},
                )
            )
        return [entry for entry in forgotten if entry]

    def _lost(self, connection: BrokerConnection) -> bool:
        factory = self._context.brokers.get(connection.broker)
        return factory is None or needs_secrets(factory)
