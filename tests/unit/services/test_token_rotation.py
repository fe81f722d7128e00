"""RepositoryTokenStore when the database fails around a refresh: the refresh is recorded before
the broker is called, rotated tokens are retried on fresh units of work and kept by the process
while the database refuses them, and a spent refresh token is never presented again
(docs/brokers/saxo.md, "Staying logged in")."""

from __future__ import annotations

import logging
from collections import deque
from datetime import timedelta
from types import TracebackType
from typing import Any

import pytest

from tradecore.domain import BrokerConnection, OAuthTokens, Secret
from tradecore.errors import (
    BrokerUnavailable,
    MalformedResponse,
    ReauthorizationRequired,
    RepositoryError,
)
from tradecore.services import RepositoryTokenStore, save_login
from tradecore.services.tokens import ROTATION_TIMEOUT, SAVE_RETRY_DELAYS
from tradecore.services.unsaved_tokens import UnsavedTokens
from tradecore.testing import FakeClock
from tradecore.testing.builders import DEFAULT_TIME, make_connection, make_tokens, make_user
from tradecore_adapters.memory import MemoryRepository

REFUSED = "the database refused the operation: terminating connection due to administrator command"


class SingleUseTokenServer:
    """A token endpoint whose refresh tokens work once and which counts a spent one presented."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.live = {"r-0"}
        self.spent: set[str] = set()
        self.calls = 0
        self.reused = 0
        self.failure: Exception | None = None  # raised after rotating (the answer is lost)

    async def exchange(self, tokens: OAuthTokens) -> OAuthTokens:
        self.calls += 1
        assert tokens.refresh_token is not None
        presented = tokens.refresh_token.reveal()
        if presented in self.spent:
            self.reused += 1
            raise ReauthorizationRequired("invalid_grant: refresh token reused", broker="fake")
        if presented not in self.live:
            raise ReauthorizationRequired("invalid_grant: unknown refresh token", broker="fake")
        self.live.discard(presented)
        self.spent.add(presented)
        new = f"r-{self.calls}"
        self.live.add(new)
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise failure
        return make_tokens(
            access_token=f"a-{self.calls}",
            refresh_token=new,
            access_expires_at=self.clock.now() + timedelta(minutes=20),
            refresh_expires_at=self.clock.now() + timedelta(hours=1),
        )

    async def unreachable(self, tokens: OAuthTokens) -> OAuthTokens:
        """The request never reached the server."""
        self.calls += 1
        raise BrokerUnavailable("token endpoint did not answer (ConnectError)", broker="fake")


class FlakyRepository:
    """A memory repository whose commits fail as planned: ``plan`` says, commit by commit,
    whether it fails (then ``down`` decides); a failed commit writes nothing."""

    def __init__(self) -> None:
        self.inner = MemoryRepository()
        self.plan: deque[bool] = deque()
        self.down = False
        self.commits = 0
        self.refused = 0

    def unit_of_work(self) -> _FlakyUnit:
        return _FlakyUnit(self, self.inner.unit_of_work())

    def fails_next(self) -> bool:
        self.commits += 1
        fails = self.plan.popleft() if self.plan else self.down
        self.refused += fails
        return fails

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _FlakyUnit:
    def __init__(self, repository: FlakyRepository, unit: Any) -> None:
        self._repository = repository
        self._unit = unit

    async def __aenter__(self) -> _FlakyUnit:
        await self._unit.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._unit.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        if self._repository.fails_next():
            await self._unit.rollback()
            raise RepositoryError(REFUSED)
        await self._unit.commit()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._unit, name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DEFAULT_TIME)


@pytest.fixture
def server(clock: FakeClock) -> SingleUseTokenServer:
    return SingleUseTokenServer(clock)


@pytest.fixture
async def repository() -> FlakyRepository:
    return FlakyRepository()


@pytest.fixture
async def connection(repository: FlakyRepository, clock: FakeClock) -> BrokerConnection:
    user = make_user()
    connection = make_connection(
        user_id=user.id,
        name="saxo-sim",
        broker="saxo",
        tokens=make_tokens(
            access_token="a-0",
            refresh_token="r-0",
            access_expires_at=clock.now() + timedelta(minutes=1),
            refresh_expires_at=clock.now() + timedelta(hours=1),
        ),
    )
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.connections.add(connection)
        await uow.commit()
    return connection


async def stored_tokens(repository: FlakyRepository, connection: BrokerConnection) -> OAuthTokens:
    async with repository.inner.unit_of_work() as uow:
        tokens = (await uow.connections.get(connection.user_id, connection.id)).tokens
    assert tokens is not None
    return tokens


def store_of(
    repository: FlakyRepository,
    connection: BrokerConnection,
    clock: FakeClock,
    process: UnsavedTokens,
) -> RepositoryTokenStore:
    return RepositoryTokenStore(repository, connection, clock, unsaved=process)  # type: ignore[arg-type]


async def test_a_refresh_that_cannot_be_recorded_does_not_call_the_broker(
    repository: FlakyRepository,
    connection: BrokerConnection,
    clock: FakeClock,
    server: SingleUseTokenServer,
) -> None:
    repository.plan.append(True)  # the marker's commit
    store = store_of(repository, connection, clock, UnsavedTokens())

    with pytest.raises(RepositoryError) as raised:
        await store.refresh(server.exchange)

    assert server.calls == 0
    assert "the broker was not called and the login is intact" in str(raised.value)
    assert await stored_tokens(repository, connection) == connection.tokens
    assert (await store.refresh(server.exchange)).refresh_token == Secret("r-1")
    assert server.reused == 0


async def test_the_rotated_tokens_are_saved_on_a_fresh_unit_when_the_first_commit_fails(
    repository: FlakyRepository,
    connection: BrokerConnection,
    clock: FakeClock,
    server: SingleUseTokenServer,
) -> None:
    # The marker commits; the rotated tokens' commit fails, and so does the immediate retry.
    repository.plan.extend([False, True, True])
    store = store_of(repository, connection, clock, UnsavedTokens())
    before = repository.commits

    fresh = await store.refresh(server.exchange)

    assert fresh.refresh_token == Secret("r-1")
    assert repository.commits - before == 4
    assert clock.sleeps == [SAVE_RETRY_DELAYS[0]]  # on the injected clock
    stored = await stored_tokens(repository, connection)
    assert stored == fresh
    assert stored.rotating_since is None
    restarted = store_of(repository, connection, clock, UnsavedTokens())
    clock.advance(timedelta(minutes=30))
    assert (await restarted.refresh(server.exchange)).refresh_token == Secret("r-2")
    assert server.reused == 0


async def test_a_process_whose_database_stays_down_keeps_and_renews_the_new_tokens(
    repository: FlakyRepository,
    connection: BrokerConnection,
    clock: FakeClock,
    server: SingleUseTokenServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    process = UnsavedTokens()
    repository.plan.append(False)  # the marker commits; then the database is gone
    repository.down = True
    store = store_of(repository, connection, clock, process)

    with caplog.at_level(logging.WARNING, logger="tradecore.tokens"):
        fresh = await store.refresh(server.exchange)

    assert fresh.refresh_token == Secret("r-1")
    assert repository.refused == 2 + len(SAVE_RETRY_DELAYS)
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "did not save its renewed OAuth tokens" in warning
    assert "the login is lost: run tradecore broker login saxo-sim" in warning
    assert "r-1" not in warning
    assert "a-1" not in warning
    # The next adapter of this process (a later cycle) starts from them, not from the database.
    later = store_of(repository, connection, clock, process)
    assert later.current() == fresh
    clock.advance(timedelta(minutes=30))
    renewed = await later.refresh(server.exchange)
    assert renewed.refresh_token == Secret("r-2")  # presented r-1, never the spent r-0
    assert server.reused == 0
    stored = await stored_tokens(repository, connection)
    assert stored.refresh_token == Secret("r-0")
    assert stored.rotating_since is not None

    repository.down = False  # the database is back: the next use saves them
    clock.advance(timedelta(minutes=1))
    assert await later.refresh(server.exchange) == renewed
    assert await stored_tokens(repository, connection) == renewed
    restarted = store_of(repository, connection, clock, UnsavedTokens())
    clock.advance(timedelta(minutes=30))
    assert (await restarted.refresh(server.exchange)).refresh_token == Secret("r-3")
    assert server.reused == 0


async def test_a_token_call_without_an_answer_leaves_the_refresh_token_usable(
    repository: FlakyRepository,
    connection: BrokerConnection,
    clock: FakeClock,
    server: SingleUseTokenServer,
) -> None:
    store = store_of(repository, connection, clock, UnsavedTokens())

    with pytest.raises(BrokerUnavailable, match="did not answer"):
        await store.refresh(server.unreachable)

    assert await stored_tokens(repository, connection) == connection.tokens  # marker cleared
    restarted = store_of(repository, connection, clock, UnsavedTokens())
    assert (await restarted.refresh(server.exchange)).refresh_token == Secret("r-2")
    assert server.reused == 0


async def test_without_an_answer_and_without_the_database_only_this_process_may_retry(
    repository: FlakyRepository,
    connection: BrokerConnection,
    clock: FakeClock,
    server: SingleUseTokenServer,
) -> None:
    process = UnsavedTokens()
    repository.plan.extend([False, True])  # the marker commits; clearing it does not
    store = store_of(repository, connection, clock, process)

    with pytest.raises(BrokerUnavailable, match="did not answer"):
        await store.refresh(server.unreachable)
    assert (await stored_tokens(repository, connection)).rotating_since is not None

    other = store_of(repository, connection, clock, UnsavedTokens())
    with pytest.raises(BrokerUnavailable, match="has not saved its new tokens yet"):
        await other.refresh(server.exchange)
    assert server.calls == 1
    assert (await store.refresh(server.exchange)).refresh_token == Secret("r-2")
    assert server.reused == 0


async def test_an_unreadable_answer_says_the_login_is_lost_and_never_presents_the_token(
    repository: FlakyRepository,
    connection: BrokerConnection,
    clock: FakeClock,
    server: SingleUseTokenServer,
) -> None:
    server.failure = MalformedResponse("the token answer is not JSON", broker="fake")
    store = store_of(repository, connection, clock, UnsavedTokens())

    with pytest.raises(ReauthorizationRequired) as raised:
        await store.refresh(server.exchange)
    restarted = store_of(repository, connection, clock, UnsavedTokens())
    with pytest.raises(ReauthorizationRequired, match="must log in again"):
        await restarted.refresh(server.exchange, force=True)

    assert "could not be used" in str(raised.value)
    assert "tradecore broker login saxo-sim" in str(raised.value)
    assert server.calls == 1
    assert server.reused == 0


async def test_a_lost_refresh_asks_for_a_login_and_the_holder_can_still_repair_it(
    repository: FlakyRepository,
    connection: BrokerConnection,
    clock: FakeClock,
    server: SingleUseTokenServer,
) -> None:
    holder = UnsavedTokens()
    repository.plan.extend([False] + [True] * (2 + len(SAVE_RETRY_DELAYS)))
    fresh = await store_of(repository, connection, clock, holder).refresh(server.exchange)

    clock.advance(ROTATION_TIMEOUT)
    other = store_of(repository, connection, clock, UnsavedTokens())
    with pytest.raises(ReauthorizationRequired, match="never saved its new tokens"):
        await other.refresh(server.exchange)
    assert server.calls == 1

    # The holder's database answers again: its save wins over the "log in again" mark.
    later = store_of(repository, connection, clock, holder)
    assert await later.refresh(server.exchange) == fresh
    stored = await stored_tokens(repository, connection)
    assert stored == fresh
    assert stored.login_required is None
    assert server.reused == 0


async def test_a_new_login_replaces_tokens_the_process_could_not_save(
    repository: FlakyRepository,
    connection: BrokerConnection,
    clock: FakeClock,
    server: SingleUseTokenServer,
) -> None:
    process = UnsavedTokens()
    repository.plan.extend([False] + [True] * (2 + len(SAVE_RETRY_DELAYS)))
    await store_of(repository, connection, clock, process).refresh(server.exchange)

    server.live.add("r-login")
    login = make_tokens(access_token="a-login", refresh_token="r-login")
    saved = await save_login(repository, connection, login)  # type: ignore[arg-type]

    later = store_of(repository, connection, clock, process)
    clock.advance(timedelta(hours=2))
    assert (await later.refresh(server.exchange, force=True)).version == saved.version + 1
    assert server.reused == 0


async def test_a_marker_left_by_a_stopped_process_of_this_host_asks_for_a_login_at_once(
    repository: FlakyRepository,
    connection: BrokerConnection,
    clock: FakeClock,
    server: SingleUseTokenServer,
) -> None:
    stopped: set[str] = set()
    crashed = UnsavedTokens()
    crashed.identify("host-1:100:aaaa", lambda owner: owner in stopped)

    async def die_after_answer(tokens: OAuthTokens) -> OAuthTokens:
        await server.exchange(tokens)
        raise SystemExit("killed")

    with pytest.raises(SystemExit):
        await store_of(repository, connection, clock, crashed).refresh(die_after_answer)
    assert (await stored_tokens(repository, connection)).rotating_by == "host-1:100:aaaa"

    restarted = UnsavedTokens()
    restarted.identify("host-1:200:bbbb", lambda owner: owner in stopped)
    store = store_of(repository, connection, clock, restarted)
    with pytest.raises(BrokerUnavailable, match="has not saved its new tokens yet"):
        await store.refresh(server.exchange)  # still running: it may save them
    stopped.add("host-1:100:aaaa")
    with pytest.raises(ReauthorizationRequired) as raised:
        await store.refresh(server.exchange)  # gone: lost, without waiting

    assert "process host-1:100:aaaa stopped before saving its new tokens" in str(raised.value)
    assert "run: tradecore broker login saxo-sim" in str(raised.value)
    assert server.calls == 1
    assert server.reused == 0


async def test_a_marker_of_this_very_process_without_tokens_is_a_lost_login(
    repository: FlakyRepository,
    connection: BrokerConnection,
    clock: FakeClock,
    server: SingleUseTokenServer,
) -> None:
    process = UnsavedTokens()
    process.identify("host-1:100:aaaa", lambda owner: False)

    async def cancelled_after_answer(tokens: OAuthTokens) -> OAuthTokens:
        await server.exchange(tokens)
        raise SystemExit("cancelled mid-call")

    store = store_of(repository, connection, clock, process)
    with pytest.raises(SystemExit):
        await store.refresh(cancelled_after_answer)
    with pytest.raises(ReauthorizationRequired, match="stopped before saving its new tokens"):
        await store.refresh(server.exchange)
    assert server.calls == 1
