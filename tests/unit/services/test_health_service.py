"""Health checks of users' connections and targets, and the forced renewal of logins."""

from __future__ import annotations

import pytest
from tests.fakes.fake_venue import FakeVenue

from tradecore.domain import Secret
from tradecore.errors import AuthenticationFailed, NotFound
from tradecore.services import (
    Connections,
    Health,
    OAuthLogins,
    ServiceContext,
    Users,
    save_login,
)
from tradecore.testing.builders import make_tokens


async def test_each_active_connection_is_checked_and_a_failure_says_why_masked(
    context: ServiceContext, venue: FakeVenue
) -> None:
    alice = (await Users(context).add("alice")).id
    bob = (await Users(context).add("bob")).id
    connections = Connections(context)
    await connections.add(
        alice, broker="fake", name="main", secrets={"api_key": Secret("k-42-secret")}
    )
    await connections.add(alice, broker="fake", name="off")
    await connections.set_active(alice, "off", active=False)

    lines = await Health(context).check([alice])
    assert [(line.ok, line.subject) for line in lines] == [(True, "alice / connection main (fake)")]
    assert lines[0].text.startswith("logged in, 1 account(s)")

    venue.fail("authenticate", AuthenticationFailed("key k-42-secret refused"))
    [failed] = await Health(context).check([alice])
    assert not failed.ok
    assert "refused" in failed.text
    assert "k-42-secret" not in failed.text

    everyone = await Health(context).check()
    assert everyone[-1].subject == "user bob"
    with pytest.raises(NotFound):
        await Health(context).check(["nobody"])
    assert bob


async def test_renew_all_renews_only_logged_in_connections_of_the_users_given(
    context: ServiceContext, venue: FakeVenue
) -> None:
    alice = (await Users(context).add("alice")).id
    bob = (await Users(context).add("bob")).id
    await Connections(context).add(alice, broker="fake", name="keys")
    assert await OAuthLogins(context).renew_all() == []

    logged_in = await Connections(context).add(bob, broker="fake", name="sim")
    await save_login(context.repository, logged_in, make_tokens(access_token="first"))
    venue.renewed[logged_in.id] = make_tokens(access_token="second")
    assert await OAuthLogins(context).renew_all([alice]) == []
    [renewal] = await OAuthLogins(context).renew_all()
    assert (renewal.user.name, renewal.connection.name) == ("bob", "sim")
    assert renewal.tokens is not None
    assert renewal.tokens.access_token.reveal() == "second"

    venue.fail("refresh_auth_token", AuthenticationFailed("refresh token revoked"))
    [failed] = await OAuthLogins(context).renew_all([bob])
    assert failed.tokens is None
    assert failed.problem is not None
    assert "revoked" in failed.problem
