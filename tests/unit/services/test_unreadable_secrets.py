"""After a lost secret key: connections and targets whose secrets cannot be decrypted are refused
by brokers and notifiers that need secrets (one clear failed step, no call to the broker), and
keep working where no secret is needed (a paper-like broker, the console)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from tests.fakes.lost_secrets import (
    NoSecretVenue,
    connections_of,
    unreadable,
    user_with_lost_secrets,
)

from tradecore.domain import NotificationTarget, TaskKind
from tradecore.errors import DomainError
from tradecore.ports import NotifierFactory, SecretSpec
from tradecore.services import AutomationCycle, ServiceContext, create_broker
from tradecore.services.notify import notifiers_for
from tradecore.services.unreadable import SecretsUnreadable
from tradecore.testing import FakeClock
from tradecore.testing.builders import make_connection, make_notification_target, make_tokens


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
