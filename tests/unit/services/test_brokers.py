"""Building, opening and closing a connection's broker adapter outside the cycle."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradecore.domain import BrokerConnection, OAuthTokens
from tradecore.errors import AuthenticationFailed, BrokerUnavailable, PluginError
from tradecore.ports import BrokerContext, BrokerFactory, BrokerPort
from tradecore.services import create_broker, describe_broker_failure, open_broker
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import DEFAULT_TIME, make_connection, make_tokens, make_user
from tradecore_adapters.memory import MemoryRepository


class Venue:
    """A ``fake`` broker factory that remembers what it built and with which context."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.built: list[FakeBroker] = []
        self.contexts: list[BrokerContext] = []

    def create(self, connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
        broker = FakeBroker(
            clock=self.clock, connection_id=connection.id, tokens=make_tokens(access_token="new")
        )
        self.built.append(broker)
        self.contexts.append(context)
        return broker

    def brokers(self) -> dict[str, BrokerFactory]:
        return {"fake": BrokerFactory(name="fake", description="fake", create=self.create)}


async def stored(connection: BrokerConnection) -> MemoryRepository:
    repository = MemoryRepository()
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user())
        await uow.connections.add(connection)
        await uow.commit()
    return repository


async def test_create_broker_names_the_installed_brokers_when_the_type_is_unknown() -> None:
    connection = make_connection(broker="acme")
    venue = Venue(FakeClock(DEFAULT_TIME))
    with pytest.raises(PluginError, match=r"'acme' is not installed \(available: fake\)"):
        create_broker(
            connection, brokers=venue.brokers(), repository=MemoryRepository(), clock=venue.clock
        )


async def test_create_broker_gives_the_factory_the_clock_http_client_and_a_token_store() -> None:
    connection = make_connection(broker="fake", tokens=make_tokens(access_token="first"))
    repository = await stored(connection)
    venue = Venue(FakeClock(DEFAULT_TIME))
    client = object()

    create_broker(
        connection,
        brokers=venue.brokers(),
        repository=repository,
        clock=venue.clock,
        http_client=client,
    )

    context = venue.contexts[0]
    assert context.clock is venue.clock
    assert context.http_client is client
    assert context.tokens is not None
    assert context.tokens.current() == connection.tokens

    async def exchange(tokens: OAuthTokens) -> OAuthTokens:
        return make_tokens(access_token="rotated")

    await context.tokens.refresh(exchange, force=True)
    async with repository.unit_of_work() as uow:
        saved = await uow.connections.get(connection.user_id, connection.id)
    assert saved.tokens is not None
    assert saved.tokens.access_token.reveal() == "rotated"


async def test_open_broker_refreshes_a_token_about_to_expire_and_closes_the_adapter() -> None:
    tokens = make_tokens(access_expires_at=DEFAULT_TIME + timedelta(minutes=2))
    connection = make_connection(broker="fake", tokens=tokens)
    venue = Venue(FakeClock(DEFAULT_TIME))

    async with open_broker(
        connection, brokers=venue.brokers(), repository=await stored(connection), clock=venue.clock
    ) as broker:
        await broker.get_accounts()

    fake = venue.built[0]
    assert fake.calls == ["refresh_auth_token", "get_accounts", "aclose"]
    assert fake.closed


async def test_open_broker_leaves_a_fresh_token_alone() -> None:
    tokens = make_tokens(access_expires_at=DEFAULT_TIME + timedelta(hours=1))
    connection = make_connection(broker="fake", tokens=tokens)
    venue = Venue(FakeClock(DEFAULT_TIME))

    async with open_broker(
        connection, brokers=venue.brokers(), repository=await stored(connection), clock=venue.clock
    ):
        pass

    assert venue.built[0].calls == ["aclose"]


async def test_open_broker_closes_the_adapter_when_the_block_fails() -> None:
    connection = make_connection(broker="fake")
    venue = Venue(FakeClock(DEFAULT_TIME))

    with pytest.raises(AuthenticationFailed):
        async with open_broker(
            connection,
            brokers=venue.brokers(),
            repository=await stored(connection),
            clock=venue.clock,
        ) as broker:
            raise AuthenticationFailed("bad key", broker="fake")

    assert venue.built[0].closed
    assert broker is venue.built[0]


async def test_an_error_while_closing_never_hides_the_result() -> None:
    connection = make_connection(broker="fake")
    venue = Venue(FakeClock(DEFAULT_TIME))

    async with open_broker(
        connection, brokers=venue.brokers(), repository=await stored(connection), clock=venue.clock
    ) as broker:
        accounts = await broker.get_accounts()
        venue.built[0].fail("aclose", BrokerUnavailable("gone", broker="fake"))

    assert len(accounts) == 1


def test_describe_broker_failure_masks_the_connections_secrets() -> None:
    connection = make_connection(broker="fake", secrets={"api_key": "k3y-canary"})
    exc = AuthenticationFailed("key k3y-canary was refused", broker="fake", code="-2015")

    text = describe_broker_failure(exc, connection)

    assert text == "AuthenticationFailed: key ********** was refused (code -2015)"
    assert "k3y-canary" not in text
