"""The connection use cases: what add checks before storing, edits, tests, removal, and that a
user can never reach another user's connection by naming it."""

from __future__ import annotations

import pytest
from tests.fakes.fake_venue import FakeVenue

from tradecore.domain import BrokerConnection, Secret
from tradecore.errors import (
    AlreadyExists,
    AuthenticationFailed,
    ConfigurationError,
    DomainError,
    NotFound,
    PluginError,
)
from tradecore.services import Connections, ServiceContext, Users


async def two_users(context: ServiceContext) -> tuple[str, str]:
    users = Users(context)
    return (await users.add("alice")).id, (await users.add("bob")).id


async def test_add_stores_a_checked_connection(context: ServiceContext) -> None:
    alice, _ = await two_users(context)
    connections = Connections(context)
    added = await connections.add(
        alice,
        broker="fake",
        name=" main ",
        settings={"region": "eu"},
        secrets={"api_key": Secret("k-123-secret")},
    )
    assert added.name == "main"
    stored = await connections.get(alice, "main")
    assert stored.settings == {"region": "eu"}
    assert stored.secrets["api_key"].reveal() == "k-123-secret"


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"broker": "acme"}, PluginError, "'acme' is not an installed broker plugin"),
        ({"name": "a\tb"}, DomainError, "printable"),
        ({"settings": {"region": "mars"}}, ConfigurationError, "must be one of eu, us"),
        ({"settings": {"colour": "red"}}, ConfigurationError, "unknown setting"),
        ({"secrets": {"password": Secret("x")}}, ConfigurationError, "unknown secret"),
    ],
)
async def test_add_refuses_bad_input_and_stores_nothing(
    context: ServiceContext, options: dict[str, object], error: type[Exception], message: str
) -> None:
    alice, _ = await two_users(context)
    connections = Connections(context)
    arguments: dict[str, object] = {"broker": "fake", "name": "main", **options}
    with pytest.raises(error, match=message):
        await connections.add(alice, **arguments)  # type: ignore[arg-type]
    assert await connections.list(alice) == []


async def test_add_refuses_what_the_plugin_refuses_with_secrets_masked(
    context: ServiceContext, venue: FakeVenue
) -> None:
    alice, _ = await two_users(context)

    def refuse(connection: BrokerConnection) -> None:
        raise ConfigurationError(f"key {connection.secrets['api_key'].reveal()} is malformed")

    venue.refuse = refuse
    connections = Connections(context)
    with pytest.raises(ConfigurationError) as refused:
        await connections.add(
            alice, broker="fake", name="main", secrets={"api_key": Secret("s3cr3t-value")}
        )
    assert "s3cr3t-value" not in str(refused.value)
    assert "**********" in str(refused.value)
    assert await connections.list(alice) == []


async def test_a_name_is_unique_per_user_only(context: ServiceContext) -> None:
    alice, bob = await two_users(context)
    connections = Connections(context)
    await connections.add(alice, broker="fake", name="main")
    with pytest.raises(AlreadyExists, match="alice already has a broker connection named 'main'"):
        await connections.add(alice, broker="fake", name="main ")
    with pytest.raises(AlreadyExists):
        await connections.check_new(alice, broker="fake", name="main", settings={})
    await connections.add(bob, broker="fake", name="main")
    assert [c.name for c in await connections.list(bob)] == ["main"]


async def test_another_users_connection_is_not_found_by_name(context: ServiceContext) -> None:
    alice, bob = await two_users(context)
    connections = Connections(context)
    await connections.add(alice, broker="fake", name="alices")
    for attempt in (
        connections.get(bob, "alices"),
        connections.edit_settings(bob, "alices", {"region": "us"}),
        connections.set_active(bob, "alices", active=False),
        connections.test(bob, "alices"),
        connections.footprint(bob, "alices"),
        connections.remove(bob, "alices"),
    ):
        with pytest.raises(NotFound, match=r"^bob has no broker connection named 'alices'$"):
            await attempt
    stored = await connections.get(alice, "alices")
    assert stored.active
    assert stored.settings == {}
    assert await connections.list(bob) == []


async def test_edit_settings_checks_the_result_and_keeps_the_rest(
    context: ServiceContext,
) -> None:
    alice, _ = await two_users(context)
    connections = Connections(context)
    await connections.add(
        alice, broker="fake", name="main", secrets={"api_key": Secret("k-secret-1")}
    )
    edited = await connections.edit_settings(alice, "main", {"region": "us"})
    assert edited.settings == {"region": "us"}
    with pytest.raises(ConfigurationError, match="must be one of eu, us"):
        await connections.edit_settings(alice, "main", {"region": "mars"})
    assert (await connections.get(alice, "main")).settings == {"region": "us"}
    cleared = await connections.edit_settings(alice, "main", {"region": None})
    assert cleared.settings == {}
    assert cleared.secrets["api_key"].reveal() == "k-secret-1"


async def test_disable_then_enable(context: ServiceContext) -> None:
    alice, _ = await two_users(context)
    connections = Connections(context)
    await connections.add(alice, broker="fake", name="main")
    assert not (await connections.set_active(alice, "main", active=False)).active
    assert not (await connections.get(alice, "main")).active
    assert (await connections.set_active(alice, "main", active=True)).active


async def test_test_lists_the_accounts_or_says_why_not(
    context: ServiceContext, venue: FakeVenue
) -> None:
    alice, _ = await two_users(context)
    connections = Connections(context)
    added = await connections.add(alice, broker="fake", name="main")
    works = await connections.test(alice, "main")
    assert works.works
    assert [account.connection_id for account in works.accounts] == [added.id]

    venue.fail("authenticate", AuthenticationFailed("bad key"))
    broken = await connections.test(alice, "main")
    assert not broken.works
    assert broken.problem is not None
    assert "bad key" in broken.problem


async def test_remove_says_what_went(context: ServiceContext) -> None:
    alice, _ = await two_users(context)
    connections = Connections(context)
    await connections.add(alice, broker="fake", name="main")
    removed = await connections.remove(alice, "main")
    assert (removed.connection.name, removed.positions, removed.trades) == ("main", 0, 0)
    assert await connections.list(alice) == []


async def test_a_connection_by_id_is_found_only_among_its_users_own(
    context: ServiceContext,
) -> None:
    alice, bob = await two_users(context)
    connections = Connections(context)
    added = await connections.add(
        bob, broker="fake", name="main", settings={"region": "eu"},
        secrets={"api_key": Secret("k-123-secret")},
    )  # fmt: skip

    assert (await connections.by_id(bob, added.id)).name == "main"
    with pytest.raises(NotFound, match="alice has no broker connection with that id"):
        await connections.by_id(alice, added.id)


async def test_footprints_count_each_connection_of_the_user_only(
    context: ServiceContext,
) -> None:
    alice, bob = await two_users(context)
    connections = Connections(context)
    await connections.add(
        bob, broker="fake", name="main", settings={"region": "eu"},
        secrets={"api_key": Secret("k-123-secret")},
    )  # fmt: skip

    assert await connections.footprints(alice) == []
    [only] = await connections.footprints(bob)
    assert (only.connection.name, only.positions, only.trades) == ("main", 0, 0)
    assert [each.name for each in connections.installed()] == ["fake"]
