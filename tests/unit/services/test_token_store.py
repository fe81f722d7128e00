"""RepositoryTokenStore: one refresh at a time, rotated tokens committed before use, and a dead
refresh token turned into "log in again" once (docs/brokers/saxo.md, "Staying logged in")."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from attrs import evolve

from tradecore.domain import BrokerConnection, OAuthTokens, Secret
from tradecore.errors import BrokerUnavailable, ReauthorizationRequired
from tradecore.services import RepositoryTokenStore, save_login
from tradecore.services.tokens import ROTATION_TIMEOUT
from tradecore.services.unsaved_tokens import UnsavedTokens
from tradecore.testing import FakeClock
from tradecore.testing.builders import DEFAULT_TIME, make_connection, make_tokens, make_user
from tradecore_adapters.memory import MemoryRepository


class SingleUseTokenServer:
    """A token endpoint whose refresh tokens work once, like Saxo's are assumed to."""

    def __init__(self, clock: FakeClock, first: str = "r-0") -> None:
        self.clock = clock
        self.live = {first}
        self.calls = 0
        self.delay = 0.0

    async def exchange(self, tokens: OAuthTokens) -> OAuthTokens:
        self.calls += 1
        await asyncio.sleep(self.delay)
        assert tokens.refresh_token is not None
        presented = tokens.refresh_token.reveal()
        if presented not in self.live:
            raise ReauthorizationRequired("invalid_grant: refresh token spent", broker="fake")
        self.live.discard(presented)
        new = f"r-{self.calls}"
        self.live.add(new)
        return make_tokens(
            access_token=f"a-{self.calls}",
            refresh_token=new,
            access_expires_at=self.clock.now() + timedelta(minutes=20),
            refresh_expires_at=self.clock.now() + timedelta(hours=1),
        )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DEFAULT_TIME)


@pytest.fixture
def server(clock: FakeClock) -> SingleUseTokenServer:
    return SingleUseTokenServer(clock)


async def stored_connection(
    repository: MemoryRepository, clock: FakeClock, **token_fields: object
) -> BrokerConnection:
    fields: dict[str, object] = {
        "access_token": "a-0",
        "refresh_token": "r-0",
        "access_expires_at": clock.now() + timedelta(minutes=1),
        "refresh_expires_at": clock.now() + timedelta(hours=1),
    }
    fields.update(token_fields)
    user = make_user()
    connection = make_connection(
        user_id=user.id,
        name="saxo-sim",
        broker="saxo",
        tokens=make_tokens(**fields),  # type: ignore[arg-type]
    )
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.connections.add(connection)
        await uow.commit()
    return connection


async def stored_tokens(repository: MemoryRepository, connection: BrokerConnection) -> OAuthTokens:
    async with repository.unit_of_work() as uow:
        tokens = (await uow.connections.get(connection.user_id, connection.id)).tokens
    assert tokens is not None
    return tokens


async def test_due_tokens_are_rotated_and_committed_before_they_are_returned(
    clock: FakeClock, server: SingleUseTokenServer
) -> None:
    repository = MemoryRepository()
    connection = await stored_connection(repository, clock)
    store = RepositoryTokenStore(repository, connection, clock)

    fresh = await store.refresh(server.exchange)

    assert fresh.access_token.reveal() == "a-1"
    assert fresh.version == 1
    assert store.current() == fresh
    assert await stored_tokens(repository, connection) == fresh


async def test_tokens_not_due_are_left_alone_unless_forced(
    clock: FakeClock, server: SingleUseTokenServer
) -> None:
    repository = MemoryRepository()
    connection = await stored_connection(
        repository, clock, access_expires_at=clock.now() + timedelta(minutes=15)
    )
    store = RepositoryTokenStore(repository, connection, clock)

    assert (await store.refresh(server.exchange)).access_token.reveal() == "a-0"
    assert server.calls == 0
    assert (await store.refresh(server.exchange, force=True)).access_token.reveal() == "a-1"
    assert server.calls == 1


async def test_many_tasks_refused_with_the_same_token_cause_one_refresh(
    clock: FakeClock, server: SingleUseTokenServer
) -> None:
    repository = MemoryRepository()
    connection = await stored_connection(
        repository, clock, access_expires_at=clock.now() + timedelta(minutes=15)
    )
    store = RepositoryTokenStore(repository, connection, clock)
    refused = store.current()
    server.delay = 0.05

    results = await asyncio.gather(
        *(store.refresh(server.exchange, stale=refused) for _ in range(20))
    )

    assert server.calls == 1
    assert {tokens.access_token.reveal() for tokens in results} == {"a-1"}


async def test_two_stores_on_one_database_refresh_once_and_both_use_the_new_tokens(
    clock: FakeClock, server: SingleUseTokenServer
) -> None:
    # Two adapters of one connection (as two processes would have) share only the database.
    repository = MemoryRepository()
    connection = await stored_connection(repository, clock)
    first = RepositoryTokenStore(repository, connection, clock)
    second = RepositoryTokenStore(repository, connection, clock)
    server.delay = 0.05

    one, two = await asyncio.gather(
        first.refresh(server.exchange, stale=first.current()),
        second.refresh(server.exchange, stale=second.current()),
    )

    assert server.calls == 1
    assert one == two == await stored_tokens(repository, connection)


async def test_a_refused_refresh_token_marks_the_connection_and_is_never_presented_again(
    clock: FakeClock, server: SingleUseTokenServer
) -> None:
    repository = MemoryRepository()
    connection = await stored_connection(repository, clock)
    server.live.clear()
    store = RepositoryTokenStore(repository, connection, clock)

    with pytest.raises(ReauthorizationRequired) as first:
        await store.refresh(server.exchange)
    later = RepositoryTokenStore(repository, connection, clock)
    with pytest.raises(ReauthorizationRequired) as second:
        await later.refresh(server.exchange, force=True)

    assert server.calls == 1
    for raised in (first.value, second.value):
        assert "must log in again" in str(raised)
        assert "tradecore broker login saxo-sim" in str(raised)
        assert "invalid_grant" in str(raised)
    assert (await stored_tokens(repository, connection)).login_required is not None


async def test_a_crash_between_the_answer_and_the_commit_ends_in_log_in_again_not_a_loop(
    clock: FakeClock, server: SingleUseTokenServer
) -> None:
    repository = MemoryRepository()
    connection = await stored_connection(repository, clock)
    store = RepositoryTokenStore(repository, connection, clock, unsaved=UnsavedTokens())

    async def crash_after_answer(tokens: OAuthTokens) -> OAuthTokens:
        await server.exchange(tokens)  # the server rotated; our process dies before the commit
        raise SystemExit("killed")

    with pytest.raises(SystemExit):
        await store.refresh(crash_after_answer)
    stored = await stored_tokens(repository, connection)
    assert stored.refresh_token == Secret("r-0")
    assert stored.rotating_since == clock.now()  # recorded before the call

    restarted = RepositoryTokenStore(repository, connection, clock, unsaved=UnsavedTokens())
    with pytest.raises(BrokerUnavailable, match="has not saved its new tokens yet"):
        await restarted.refresh(server.exchange)  # the other may still save them
    clock.advance(ROTATION_TIMEOUT)
    for _ in range(3):  # every later cycle
        with pytest.raises(ReauthorizationRequired, match="must log in again") as raised:
            await restarted.refresh(server.exchange)
        assert "never saved its new tokens" in str(raised.value)
        assert "tradecore broker login saxo-sim" in str(raised.value)
    assert server.calls == 1  # the crashed call; the spent token is never presented again


async def test_an_expired_refresh_token_asks_for_a_login_without_calling_the_broker(
    clock: FakeClock, server: SingleUseTokenServer
) -> None:
    repository = MemoryRepository()
    connection = await stored_connection(
        repository, clock, refresh_expires_at=clock.now() - timedelta(minutes=1)
    )
    store = RepositoryTokenStore(repository, connection, clock)

    with pytest.raises(ReauthorizationRequired, match="refresh token expired at"):
        await store.refresh(server.exchange)
    assert server.calls == 0


async def test_a_transient_failure_changes_nothing_stored(
    clock: FakeClock, server: SingleUseTokenServer
) -> None:
    repository = MemoryRepository()
    connection = await stored_connection(repository, clock)
    store = RepositoryTokenStore(repository, connection, clock)

    async def unavailable(tokens: OAuthTokens) -> OAuthTokens:
        raise BrokerUnavailable("token endpoint timed out", broker="fake")

    with pytest.raises(BrokerUnavailable):
        await store.refresh(unavailable)
    assert await stored_tokens(repository, connection) == connection.tokens
    assert (await store.refresh(server.exchange)).access_token.reveal() == "a-1"


async def test_a_new_login_clears_the_mark_and_follows_the_version(
    clock: FakeClock, server: SingleUseTokenServer
) -> None:
    repository = MemoryRepository()
    connection = await stored_connection(repository, clock)
    server.live.clear()
    with pytest.raises(ReauthorizationRequired):
        await RepositoryTokenStore(repository, connection, clock).refresh(server.exchange)

    server.live.add("r-login")
    saved = await save_login(
        repository, connection, make_tokens(access_token="a-login", refresh_token="r-login")
    )

    assert saved.login_required is None
    assert saved.version == 1
    assert await stored_tokens(repository, connection) == saved
    store = RepositoryTokenStore(repository, connection, clock)
    clock.advance(timedelta(hours=2))
    assert (await store.refresh(server.exchange, force=True)).version == 2


async def test_a_connection_that_never_logged_in_is_told_to_log_in(clock: FakeClock) -> None:
    repository = MemoryRepository()
    connection = await stored_connection(repository, clock)
    async with repository.unit_of_work() as uow:
        bare = evolve(connection, tokens=None)
        await uow.connections.update(bare)
        await uow.commit()

    with pytest.raises(ReauthorizationRequired, match="never logged in"):
        await RepositoryTokenStore(repository, bare, clock).refresh(
            SingleUseTokenServer(clock).exchange
        )
