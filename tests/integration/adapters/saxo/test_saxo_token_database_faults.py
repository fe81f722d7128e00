"""Saxo token rotation against a failing database (docs/brokers/saxo.md, "Staying logged in"):
the fake Saxo answers a refresh while the test cuts the refreshing unit of work's database, and
the new refresh token must survive (saved on a fresh connection, or kept by the process) without
the spent one ever being presented again (the fake counts reuse; a reuse would revoke the login).

SQLite note: an open SQLite connection in WAL mode keeps writing through its file descriptors
whatever the file's mode, so a file made read-only only refuses connections opened afterwards.
The SQLite tests therefore make the file read-only (``chattr +i`` as root, who ignores the mode
bits; ``chmod 444`` otherwise) *and* close the refreshing unit's own connection, as PostgreSQL's
``pg_terminate_backend`` does to a backend: every retry then needs a new connection.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.util import greenlet_spawn
from tests.fakes.saxo_exchange import FakeSaxo
from tests.integration.adapters.saxo.conftest import saxo_connection, tokens_from

from tradecore.domain import BrokerConnection, OAuthTokens
from tradecore.errors import ReauthorizationRequired
from tradecore.services import open_broker, sync_connection
from tradecore.services.tokens import SAVE_RETRY_DELAYS
from tradecore.services.unsaved_tokens import UnsavedTokens
from tradecore.testing import FakeClock
from tradecore.testing.builders import make_user
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.migrate import upgrade

KEY = KeyRing.generate_key()
DUE = timedelta(minutes=16)  # Saxo's 20-minute access token is within the 5-minute margin


async def open_sql(url: str) -> SqlRepository:
    await upgrade(url)
    return await SqlRepository.open(url, key_ring=KeyRing.from_keys([KEY]))


async def logged_in(
    repository: SqlRepository, fake: FakeSaxo, clock: FakeClock
) -> BrokerConnection:
    user = make_user()
    connection = saxo_connection(
        fake, user.id, tokens=tokens_from(fake.issue_tokens(), clock.now())
    )
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.connections.add(connection)
        await uow.commit()
    return connection


async def stored_tokens(repository: SqlRepository, connection: BrokerConnection) -> OAuthTokens:
    async with repository.unit_of_work() as uow:
        tokens = (await uow.connections.get(connection.user_id, connection.id)).tokens
    assert tokens is not None
    return tokens


async def sync(
    repository: SqlRepository,
    connection: BrokerConnection,
    *,
    clock: FakeClock,
    http: httpx.AsyncClient,
    brokers: dict[str, Any],
    process: UnsavedTokens,
) -> int:
    """One sync as a cycle runs it (token renewed first when due); the positions stored."""
    async with repository.unit_of_work() as uow:
        current = await uow.connections.get(connection.user_id, connection.id)
    async with open_broker(
        current,
        brokers=brokers,
        repository=repository,
        clock=clock,
        http_client=http,
        unsaved_tokens=process,
    ) as broker:
        result = await sync_connection(
            repository=repository, broker=broker, connection=current, clock=clock
        )
    return result.positions


# -- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture
async def postgres(postgres_url: str) -> AsyncIterator[SqlRepository]:
    repository = await open_sql(postgres_url)
    yield repository
    await repository.aclose()


def terminate_refreshing_backend(
    postgres_url: str, ended: list[int]
) -> Callable[[], Awaitable[None]]:
    """End, from another connection, the backend idle inside the refreshing transaction."""

    async def terminate() -> None:
        async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as admin:
            cursor = await admin.execute(
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'idle in transaction'"
            )
            ended.extend(pid for pid, done in await cursor.fetchall() if done)

    return terminate


async def test_postgres_backend_terminated_during_the_token_answer_loses_no_login(
    postgres: SqlRepository,
    postgres_url: str,
    fake: FakeSaxo,
    clock: FakeClock,
    mock_http: httpx.AsyncClient,
    brokers: dict[str, Any],
) -> None:
    connection = await logged_in(postgres, fake, clock)
    ended: list[int] = []
    fake.before_token_answer = terminate_refreshing_backend(postgres_url, ended)
    clock.advance(DUE)

    positions = await sync(
        postgres, connection, clock=clock, http=mock_http, brokers=brokers, process=UnsavedTokens()
    )

    fake.before_token_answer = None
    assert len(ended) == 1, "the refreshing transaction's backend was not terminated"
    assert positions == 2
    saved = await stored_tokens(postgres, connection)
    assert saved.version == 1
    assert saved.rotating_since is None
    assert fake.session_of(saved.access_token.reveal()) is not None
    # The next sync, in a restarted process: no login needed, the spent token never presented.
    clock.advance(DUE)
    await sync(
        postgres, connection, clock=clock, http=mock_http, brokers=brokers, process=UnsavedTokens()
    )
    assert fake.refresh_calls == 2
    assert fake.refresh_token_reuse == 0
    assert (await stored_tokens(postgres, connection)).version == 2


# -- SQLite -------------------------------------------------------------------------------------


class ReadOnlyFile:
    """Makes a file read-only for every process, root included, and writable again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = os.geteuid() == 0
        if self.root and shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: a read-only file cannot be made")

    def __enter__(self) -> ReadOnlyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.writable()

    def read_only(self) -> None:
        if self.root:
            done = subprocess.run(
                ["chattr", "+i", str(self.path)], capture_output=True, check=False
            )
            if done.returncode != 0:
                pytest.skip(f"chattr +i failed here: {done.stderr.decode().strip()}")
        else:
            self.path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)

    def writable(self) -> None:
        if self.root:
            subprocess.run(["chattr", "-i", str(self.path)], capture_output=True, check=False)
        self.path.chmod(stat.S_IRUSR | stat.S_IWUSR)


class CheckedOut:
    """Remembers the raw connection of the engine's latest checkout, and closes it on demand."""

    def __init__(self, repository: SqlRepository) -> None:
        self.latest: Any = None
        event.listen(repository.engine.sync_engine, "checkout", self._checkout)

    def _checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        self.latest = dbapi_connection

    async def close_latest(self) -> None:
        assert self.latest is not None
        await greenlet_spawn(self.latest.close)


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "tradecore.db"


@pytest.fixture
async def sqlite(sqlite_file: Path) -> AsyncIterator[SqlRepository]:
    repository = await open_sql(f"sqlite:///{sqlite_file}")
    yield repository
    await repository.aclose()


def cut_sqlite(file: ReadOnlyFile, checkouts: CheckedOut) -> Callable[[], Awaitable[None]]:
    """The database file turns read-only, and the refreshing unit loses its connection."""

    async def cut() -> None:
        file.read_only()
        await checkouts.close_latest()

    return cut


async def test_sqlite_turning_read_only_during_the_token_answer_loses_no_login(
    sqlite: SqlRepository,
    sqlite_file: Path,
    fake: FakeSaxo,
    clock: FakeClock,
    mock_http: httpx.AsyncClient,
    brokers: dict[str, Any],
) -> None:
    connection = await logged_in(sqlite, fake, clock)
    process = UnsavedTokens()
    with ReadOnlyFile(sqlite_file) as file:
        fake.before_token_answer = cut_sqlite(file, CheckedOut(sqlite))
        clock.advance(DUE)
        with pytest.raises(Exception, match="readonly database"):
            # The token is renewed and kept; the sync's own write is refused (read-only).
            await sync(
                sqlite, connection, clock=clock, http=mock_http, brokers=brokers, process=process
            )
        fake.before_token_answer = None
        assert fake.refresh_calls == 1
        assert clock.sleeps[-len(SAVE_RETRY_DELAYS) :] == list(SAVE_RETRY_DELAYS)
        assert (await stored_tokens(sqlite, connection)).version == 0  # not saved: kept
        file.writable()

    # The next sync of the same process saves the kept tokens and goes on with them.
    positions = await sync(
        sqlite, connection, clock=clock, http=mock_http, brokers=brokers, process=process
    )
    assert positions == 2
    saved = await stored_tokens(sqlite, connection)
    assert saved.version == 1
    assert saved.rotating_since is None
    assert fake.session_of(saved.access_token.reveal()) is not None
    clock.advance(DUE)
    await sync(
        sqlite, connection, clock=clock, http=mock_http, brokers=brokers, process=UnsavedTokens()
    )
    assert fake.refresh_calls == 2
    assert fake.refresh_token_reuse == 0


async def test_sqlite_read_only_for_the_whole_process_keeps_and_renews_the_new_tokens(
    sqlite: SqlRepository,
    sqlite_file: Path,
    fake: FakeSaxo,
    clock: FakeClock,
    mock_http: httpx.AsyncClient,
    brokers: dict[str, Any],
) -> None:
    connection = await logged_in(sqlite, fake, clock)
    process = UnsavedTokens()
    with ReadOnlyFile(sqlite_file) as file:
        fake.before_token_answer = cut_sqlite(file, CheckedOut(sqlite))
        clock.advance(DUE)
        with pytest.raises(Exception, match="readonly database"):
            await sync(
                sqlite, connection, clock=clock, http=mock_http, brokers=brokers, process=process
            )
        fake.before_token_answer = None

        # Still read-only: a later refresh of this process presents the new refresh token.
        for _ in range(2):
            clock.advance(DUE)
            with pytest.raises(Exception, match="readonly database"):
                await sync(
                    sqlite,
                    connection,
                    clock=clock,
                    http=mock_http,
                    brokers=brokers,
                    process=process,
                )
        assert fake.refresh_calls == 3
        assert fake.refresh_token_reuse == 0
        stored = await stored_tokens(sqlite, connection)
        assert stored.version == 0
        assert stored.rotating_since is not None  # the database still has the spent one

    # The process stops with the tokens unsaved: they are really lost. A restarted process
    # says so once, plainly, and never presents the spent refresh token.
    await sqlite.aclose()
    reopened = await open_sql(f"sqlite:///{sqlite_file}")
    try:
        with pytest.raises(ReauthorizationRequired) as raised:
            await sync(
                reopened,
                connection,
                clock=clock,
                http=mock_http,
                brokers=brokers,
                process=UnsavedTokens(),
            )
        assert (await stored_tokens(reopened, connection)).login_required is not None
    finally:
        await reopened.aclose()
    message = str(raised.value)
    assert "must log in again" in message
    assert "never saved its new tokens" in message
    assert "run: tradecore broker login saxo-sim" in message
    assert fake.refresh_calls == 3
    assert fake.refresh_token_reuse == 0
