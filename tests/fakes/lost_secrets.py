"""What the lost-key tests share: a broker that needs no secret (as paper), and a user whose
stored secrets no key can decrypt, as the SQL repository reads them after the key was lost."""

from __future__ import annotations

import attrs

from tradecore.domain import BrokerConnection, User
from tradecore.ports import BrokerContext, BrokerFactory, BrokerPort
from tradecore.services import ServiceContext, Users
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import make_connection, make_notification_target

__all__ = ["NoSecretVenue", "connections_of", "unreadable", "user_with_lost_secrets"]


class NoSecretVenue:
    """A broker that declares no secrets (as the paper broker)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.built = 0

    def create(self, connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
        self.built += 1
        return FakeBroker(clock=self.clock, connection_id=connection.id)

    def factory(self) -> BrokerFactory:
        return BrokerFactory(name="open", description="needs no secret", create=self.create)


def unreadable(connection: BrokerConnection) -> BrokerConnection:
    """``connection`` as the SQL repository reads it once its key is lost."""
    return attrs.evolve(connection, secrets={}, tokens=None, secrets_unreadable=True)


async def user_with_lost_secrets(context: ServiceContext, name: str = "alice") -> User:
    """A user with an unreadable ``fake`` connection, an unreadable ``open`` one, a readable
    ``fake`` one and an unreadable target."""
    user = await Users(context).add(name)
    async with context.repository.unit_of_work() as uow:
        for connection in (
            unreadable(make_connection(user_id=user.id, name="binance", broker="fake")),
            unreadable(make_connection(user_id=user.id, name="paper", broker="open")),
            make_connection(
                user_id=user.id, name="kept", broker="fake", secrets={"api_key": "k-1"}
            ),
        ):
            await uow.connections.add(connection)
        target = make_notification_target(user_id=user.id, name="chat")
        await uow.notification_targets.add(
            attrs.evolve(target, secrets={}, secrets_unreadable=True)
        )
        await uow.commit()
    return user


async def connections_of(context: ServiceContext, user: User) -> dict[str, BrokerConnection]:
    async with context.repository.unit_of_work() as uow:
        return {c.name: c for c in await uow.connections.list(user.id)}
