"""Browser logins as use cases: begin gives the URL with a fresh state, complete checks the
redirect and stores the tokens once; nothing is stored when it fails, and another user's
connection cannot be logged in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import attrs
import pytest
from tests.fakes.fake_venue import FakeVenue

from tradecore.domain import BrokerConnection, OAuthTokens, Secret
from tradecore.errors import AuthenticationFailed, DomainError, NotFound
from tradecore.ports import Clock, LoginRequest
from tradecore.services import Connections, OAuthLogins, ServiceContext, Users
from tradecore.testing.builders import make_tokens


class FakeLogin:
    """A browser login whose redirect must carry the request's state and ``code=good``."""

    def __init__(self) -> None:
        self.exchanges = 0

    def begin(self, connection: BrokerConnection, *, clock: Clock) -> LoginRequest:
        state = f"state-{connection.id}-{self.exchanges}"
        return LoginRequest(
            url=f"https://login.example/authorize?state={state}",
            redirect_uri="http://localhost:8080/callback",
            state=Secret(state),
            started_at=clock.now(),
        )

    async def complete(
        self,
        connection: BrokerConnection,
        request: LoginRequest,
        redirected_to: str,
        *,
        clock: Clock,
        http_client: object | None = None,
    ) -> OAuthTokens:
        query = parse_qs(urlsplit(redirected_to).query)
        if query.get("state") != [request.state.reveal()]:
            raise AuthenticationFailed("the state does not match: start the login again")
        if query.get("code") != ["good"]:
            raise AuthenticationFailed("the broker refused the code")
        self.exchanges += 1
        return make_tokens(access_token=f"access-{self.exchanges}")


@pytest.fixture
def login() -> FakeLogin:
    return FakeLogin()


@pytest.fixture
def with_login(context: ServiceContext, venue: FakeVenue, login: FakeLogin) -> ServiceContext:
    oauth = attrs.evolve(venue.factory(), name="oauth", login=login)
    return attrs.evolve(context, brokers={"fake": venue.factory(), "oauth": oauth})


async def test_a_login_stores_the_tokens_once_the_redirect_checks_out(
    with_login: ServiceContext,
) -> None:
    alice = (await Users(with_login).add("alice")).id
    await Connections(with_login).add(alice, broker="oauth", name="sim")
    logins = OAuthLogins(with_login)

    connection, request = await logins.begin(alice, "sim")
    state = request.state.reveal()
    assert state in request.url
    with pytest.raises(AuthenticationFailed, match="state does not match"):
        await logins.complete(alice, "sim", request, "http://localhost:8080/callback?code=good")
    assert (await Connections(with_login).get(alice, "sim")).tokens is None

    redirect = f" http://localhost:8080/callback?code=good&state={state}\n"
    tokens = await logins.complete(alice, "sim", request, redirect)

    assert tokens.version == 1
    stored = (await Connections(with_login).get(alice, "sim")).tokens
    assert stored is not None
    assert stored.access_token.reveal() == "access-1"
    assert connection.name == "sim"


async def test_a_connection_without_a_browser_login_says_so(with_login: ServiceContext) -> None:
    alice = (await Users(with_login).add("alice")).id
    await Connections(with_login).add(alice, broker="fake", name="keys")
    with pytest.raises(DomainError, match="does not log in through a browser"):
        await OAuthLogins(with_login).begin(alice, "keys")


async def test_another_users_connection_cannot_be_logged_in(
    with_login: ServiceContext, login: FakeLogin
) -> None:
    users = Users(with_login)
    alice, bob = (await users.add("alice")).id, (await users.add("bob")).id
    await Connections(with_login).add(alice, broker="oauth", name="sim")
    _, request = await OAuthLogins(with_login).begin(alice, "sim")
    with pytest.raises(NotFound, match="bob has no broker connection named 'sim'"):
        await OAuthLogins(with_login).begin(bob, "sim")
    redirect = f"http://localhost:8080/callback?code=good&state={request.state.reveal()}"
    with pytest.raises(NotFound):
        await OAuthLogins(with_login).complete(bob, "sim", request, redirect)
    assert login.exchanges == 0
    assert (await Connections(with_login).get(alice, "sim")).tokens is None
