"""The demo: a user with a paper connection, so a newcomer sees a full cycle with no setup."""

from __future__ import annotations

from attrs import frozen

from tradecore.domain import BrokerConnection, User
from tradecore.errors import NotFound
from tradecore.ports import Clock, RepositoryPort

__all__ = ["DEMO_CONNECTION", "DEMO_USER", "DemoSetup", "ensure_demo"]

DEMO_USER = "demo"
DEMO_CONNECTION = "paper-demo"


@frozen(kw_only=True)
class DemoSetup:
    """The demo user and its paper connection; ``created`` is ``False`` when they existed."""

    user: User
    connection: BrokerConnection
    created: bool


async def ensure_demo(*, repository: RepositoryPort, clock: Clock, seed: str = "42") -> DemoSetup:
    """Return the demo user and its ``paper`` connection, creating them on first use."""
    created = False
    async with repository.unit_of_work() as uow:
        try:
            user = await uow.users.get_by_name(DEMO_USER)
        except NotFound:
            user = User(name=DEMO_USER, created_at=clock.now())
            await uow.users.add(user)
            created = True
        try:
            connection = await uow.connections.get_by_name(user.id, DEMO_CONNECTION)
        except NotFound:
            connection = BrokerConnection(
                user_id=user.id,
                broker="paper",
                name=DEMO_CONNECTION,
                settings={"seed": seed},
                created_at=clock.now(),
            )
            await uow.connections.add(connection)
            created = True
        await uow.commit()
    return DemoSetup(user=user, connection=connection, created=created)
