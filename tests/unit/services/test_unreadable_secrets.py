"""After a lost secret key: connections and targets whose secrets cannot be decrypted are refused
by brokers and notifiers that need secrets (one clear failed step, no call to the broker), and
keep working where no secret is needed (a paper-like broker, the console)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from tradecore.domain import BrokerConnection, NotificationTarget, TaskKind, User
from tradecore.errors import DomainError
from tradecore.ports import BrokerContext, BrokerFactory, BrokerPort, NotifierFactory, SecretSpec
from tradecore.services import AutomationCycle, ServiceContext, Users, create_broker
from tradecore.services.notify import notifiers_for
from tradecore.services.unreadable import SecretsUnreadable
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import make_connection, make_notification_target, make_tokens


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


@pytest.fixture
def no_secret(clock: FakeClock) -> NoSecretVenue:
    return NoSecretVenue(clock)


@pytest.fixture
def lost_context(context: ServiceContext, no_secret: NoSecretVenue) -> ServiceContext:
    return attrs.evolve(context, brokers={**context.brokers, "open": no_secret.factory()})


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


def test_an_unreadable_connection_or_target_holds_no_secret() -> None:
    with pytest.raises(DomainError, match="holds no secrets"):
        attrs.evolve(make_connection(secrets={"api_key": "x"}), secrets_unreadable=True)
    with pytest.raises(DomainError, match="holds no secrets"):
        attrs.evolve(make_connection(tokens=make_tokens()), secrets_unreadable=True)
    with pytest.raises(DomainError, match="holds no secrets"):
        attrs.evolve(make_notification_target(secrets={"bot_token": "t"}), secrets_unreadable=True)


async def test_a_broker_that_needs_secrets_is_not_built_from_unreadable_ones(
    lost_context: ServiceContext, venue: Any, no_secret: NoSecretVenue
) -> None:
    connection = unreadable(make_connection(name="binance", broker="fake"))
    with pytest.raises(SecretsUnreadable, match="cannot be decrypted") as raised:
        create_broker(
            connection,
            brokers=lost_context.brokers,
            repository=lost_context.repository,
            clock=lost_context.clock,
        )
    assert "tradecore broker secrets binance" in str(raised.value)
    assert venue.brokers == {}  # the factory was never called
    paper = unreadable(make_connection(name="paper", broker="open"))
    create_broker(
        paper, brokers=lost_context.brokers, repository=lost_context.repository, clock=venue.clock
    )
    assert no_secret.built == 1


async def test_the_cycle_fails_only_the_unreadable_connection_and_paper_keeps_syncing(
    lost_context: ServiceContext, venue: Any
) -> None:
    user = await user_with_lost_secrets(lost_context)
    cycle = AutomationCycle(
        repository=lost_context.repository, clock=lost_context.clock, brokers=lost_context.brokers
    )
    outcome = await cycle.run(user.id)
    steps = {step.subject: step for step in outcome.run.steps if step.kind is TaskKind.SYNC}
    assert steps["binance"].failed
    assert "its secrets cannot be decrypted with the current key" in (steps["binance"].error or "")
    assert not steps["paper"].failed
    assert not steps["kept"].failed
    binance_id = (await connections_of(lost_context, user))["binance"].id
    assert binance_id not in venue.brokers  # nothing called its broker


def test_a_notifier_that_needs_secrets_is_not_built_from_unreadable_ones(
    clock: FakeClock,
) -> None:
    built: list[object] = []

    def create(context: object) -> object:
        built.append(context)
        return object()

    factories = {
        "chat": NotifierFactory(
            name="chat",
            description="",
            create=create,  # type: ignore[arg-type]
            secrets=(SecretSpec(name="token", description=""),),
        ),
        "console": NotifierFactory(name="console", description="", create=create),  # type: ignore[arg-type]
    }
    targets = [
        NotificationTarget(
            user_id="u", notifier=name, created_at=clock.now(), secrets_unreadable=True
        )
        for name in ("chat", "console")
    ]
    chat, console = notifiers_for(targets, factories=factories, defaults={}, clock=clock)
    assert chat.notifier is None
    assert "notification target 'chat': its secrets cannot be decrypted" in (chat.error or "")
    assert console.notifier is not None  # a notifier without secrets lost nothing
    assert len(built) == 1
