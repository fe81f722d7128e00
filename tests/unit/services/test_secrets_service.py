"""The secrets use cases after a lost key: list what cannot be decrypted, forget it (per user,
readable secrets untouched, a second run changes nothing), and give a connection new secrets
(checked, masked, within the acting user)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.fakes.lost_secrets import (
    connections_of,
    user_with_lost_secrets,
)

from tradecore.domain import BrokerConnection, Secret
from tradecore.errors import ConfigurationError, NotFound
from tradecore.services import AutomationCycle, Connections, ServiceContext, Users
from tradecore.services.secrets import Secrets


async def test_unreadable_lists_them_per_user_and_forget_drops_them_for_that_user_only(
    lost_context: ServiceContext,
) -> None:
    alice = await user_with_lost_secrets(lost_context, "alice")
    bob = await user_with_lost_secrets(lost_context, "bob")
    secrets = Secrets(lost_context)

    found = await secrets.unreadable()
    assert [entry.user.name for entry in found] == ["alice", "bob"]
    assert sorted(c.name for c in found[0].connections) == ["binance", "paper"]
    assert found[0].lost_connections == {"binance"}  # the paper one lost nothing it uses
    assert [t.name for t in found[0].targets] == ["chat"]

    (forgotten,) = await secrets.forget(alice.id)
    assert forgotten.user == alice
    assert sorted(c.name for c in forgotten.connections) == ["binance", "paper"]
    assert forgotten.lost_connections == {"binance"}
    after = await connections_of(lost_context, alice)
    assert not any(c.secrets_unreadable for c in after.values())
    assert after["binance"].secrets == {}
    assert after["kept"].secrets["api_key"].reveal() == "k-1"  # readable ones are untouched
    async with lost_context.repository.unit_of_work() as uow:
        (target,) = await uow.notification_targets.list(alice.id)
    assert not target.secrets_unreadable
    assert target.name == "chat"

    assert await secrets.unreadable(alice.id) == []
    assert await secrets.forget(alice.id) == []  # nothing left: a second run changes nothing
    assert [entry.user for entry in await secrets.unreadable()] == [bob]


async def test_forget_of_an_unknown_user_is_not_found(lost_context: ServiceContext) -> None:
    with pytest.raises(NotFound):
        await Secrets(lost_context).forget("nobody")


async def test_new_secrets_make_an_unreadable_connection_work_again(
    lost_context: ServiceContext, venue: Any
) -> None:
    user = await user_with_lost_secrets(lost_context)
    changed = await Connections(lost_context).replace_secrets(
        user.id, "binance", {"api_key": Secret("new-key-1")}
    )
    assert not changed.secrets_unreadable
    stored = (await connections_of(lost_context, user))["binance"]
    assert stored.secrets["api_key"].reveal() == "new-key-1"
    venue.brokers.clear()  # the adapter built once to check the secrets is closed
    cycle = AutomationCycle(
        repository=lost_context.repository, clock=lost_context.clock, brokers=lost_context.brokers
    )
    outcome = await cycle.run(user.id)
    assert not any(step.failed for step in outcome.run.steps if step.subject == "binance")


async def test_replacing_secrets_checks_them_and_stays_within_the_user(
    lost_context: ServiceContext, venue: Any
) -> None:
    alice = await user_with_lost_secrets(lost_context, "alice")
    bob = await Users(lost_context).add("bob")
    with pytest.raises(ConfigurationError, match="unknown secret"):
        await Connections(lost_context).replace_secrets(alice.id, "binance", {"nope": Secret("x")})

    def refuse(connection: BrokerConnection) -> None:
        raise ConfigurationError(f"bad key {connection.secrets['api_key'].reveal()}")

    venue.refuse = refuse
    with pytest.raises(ConfigurationError) as raised:
        await Connections(lost_context).replace_secrets(
            alice.id, "binance", {"api_key": Secret("s3cr3t-value")}
        )
    assert "s3cr3t-value" not in str(raised.value)
    venue.refuse = None
    assert (await connections_of(lost_context, alice))["binance"].secrets_unreadable
    with pytest.raises(NotFound, match="bob has no broker connection named 'binance'"):
        await Connections(lost_context).replace_secrets(bob.id, "binance", {"api_key": Secret("x")})
