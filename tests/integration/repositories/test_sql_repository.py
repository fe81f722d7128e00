"""The SQL repository on SQLite and PostgreSQL: the shared contract, plus what only SQL promises:
secrets (of connections and notification targets) encrypted at rest and bound to their row, key
rotation (resumable, idempotent), clear errors for a wrong key, corrupt ciphertext or a
hand-edited row, and exact decimals in the raw columns."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from tradecore.domain import (
    AutomationConfig,
    AutomationState,
    BrokerConnection,
    NotificationTarget,
    Trigger,
)
from tradecore.errors import ConfigurationError
from tradecore.testing.builders import (
    DEFAULT_TIME,
    make_connection,
    make_notification_target,
    make_trade,
    make_user,
)
from tradecore.testing.contracts.repository import RepositoryPortContract
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SecretsUnreadable, SqlRepository, UnreadableRow
from tradecore_adapters.sqlalchemy.migrate import SchemaNotAtHead, downgrade, upgrade
from tradecore_adapters.sqlalchemy.schema import (
    automation_configs,
    broker_connections,
    notification_targets,
    trades,
)

K1, K2, K3 = (KeyRing.generate_key() for _ in range(3))
CANARY = "canary-5f1d9e2b-secret-value"


async def open_migrated(url: str, key_ring: KeyRing) -> SqlRepository:
    await upgrade(url)
    return await SqlRepository.open(url, key_ring=key_ring)


class TestSqliteRepository(RepositoryPortContract):
    serializes_writes = True

    @pytest.fixture
    async def repository(self, tmp_path: Path) -> AsyncIterator[SqlRepository]:
        url = f"sqlite:///{tmp_path / 'contract.db'}"
        repository = await open_migrated(url, KeyRing.from_keys([K1]))
        yield repository
        await repository.aclose()


class TestPostgresRepository(RepositoryPortContract):
    @pytest.fixture
    async def repository(self, postgres_url: str) -> AsyncIterator[SqlRepository]:
        repository = await open_migrated(postgres_url, KeyRing.from_keys([K1]))
        yield repository
        await repository.aclose()


# -- helpers for the SQL-only tests, run on both backends ------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tradecore.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def store_connections(url: str, key_ring: KeyRing, count: int) -> list[BrokerConnection]:
    repository = await open_migrated(url, key_ring)
    user = make_user()
    connections = [
        make_connection(
            user_id=user.id,
            name=f"c{n}",
            broker="dummy",
            secrets={"api_key": f"{CANARY}-key-{n}", "api_secret": CANARY},
        )
        for n in range(count)
    ]
    try:
        async with repository.unit_of_work() as uow:
            await uow.users.add(user)
            for connection in connections:
                await uow.connections.add(connection)
            await uow.commit()
    finally:
        await repository.aclose()
    return connections


async def store_targets(url: str, key_ring: KeyRing, count: int) -> list[NotificationTarget]:
    """Store ``count`` Telegram targets of alice (added if she is not stored yet)."""
    repository = await open_migrated(url, key_ring)
    user = make_user()
    targets = [
        make_notification_target(
            user_id=user.id,
            name=f"t{n}",
            settings={"chat_id": f"-100{n}"},
            secrets={"bot_token": f"{CANARY}-bot-{n}"},
        )
        for n in range(count)
    ]
    try:
        async with repository.unit_of_work() as uow:
            if user.id not in [u.id for u in await uow.users.list()]:
                await uow.users.add(user)
            for target in targets:
                await uow.notification_targets.add(target)
            await uow.commit()
    finally:
        await repository.aclose()
    return targets


async def read_targets(url: str, key_ring: KeyRing, user_id: str) -> list[NotificationTarget]:
    repository = await SqlRepository.open(url, key_ring=key_ring)
    try:
        async with repository.unit_of_work() as uow:
            return list(await uow.notification_targets.list(user_id))
    finally:
        await repository.aclose()


async def read_all(url: str, key_ring: KeyRing, user_id: str) -> list[BrokerConnection]:
    repository = await SqlRepository.open(url, key_ring=key_ring)
    try:
        async with repository.unit_of_work() as uow:
            return list(await uow.connections.list(user_id))
    finally:
        await repository.aclose()


async def raw_rows(url: str, query: Any) -> list[dict[str, Any]]:
    repository = await SqlRepository.open(url, key_ring=KeyRing.from_keys([K3]))
    try:
        async with repository.engine.connect() as db:
            return [dict(row) for row in (await db.execute(query)).mappings()]
    finally:
        await repository.aclose()


async def raw_write(url: str, statement: Any) -> None:
    repository = await SqlRepository.open(url, key_ring=KeyRing.from_keys([K3]))
    try:
        async with repository.engine.connect() as db:
            await db.execute(statement)
            if repository.engine.dialect.name != "sqlite":  # SQLite engines autocommit
                await db.commit()
    finally:
        await repository.aclose()


def dump(url: str) -> str:
    """Everything in the database as text, the way an attacker with the file would see it."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        return subprocess.run(
            ["sqlite3", path, ".dump"], capture_output=True, text=True, check=True
        ).stdout
    return subprocess.run(
        ["pg_dump", "--data-only", "--inserts", url], capture_output=True, text=True, check=True
    ).stdout


# -- secrets at rest -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_canary_secret_is_nowhere_in_a_raw_dump_of_the_database(database: str) -> None:
    (connection,) = await store_connections(database, KeyRing.from_keys([K1]), 1)
    dumped = dump(database)
    assert connection.id in dumped  # the dump is real: the row is there
    assert CANARY not in dumped
    assert "canary" not in dumped.lower()
    (stored,) = await read_all(database, KeyRing.from_keys([K1]), connection.user_id)
    assert stored.secrets["api_secret"].reveal() == CANARY


@pytest.mark.asyncio
async def test_rotation_then_removing_the_old_key_still_decrypts_everything(database: str) -> None:
    connections = await store_connections(database, KeyRing.from_keys([K1]), 5)
    user_id = connections[0].user_id
    repository = await SqlRepository.open(database, key_ring=KeyRing.from_keys([K2, K1]))
    try:
        report = await repository.rotate_secrets(batch_size=2)
        assert report.rotated == 5
        assert (await repository.rotate_secrets()).rotated == 0  # idempotent
    finally:
        await repository.aclose()
    stored = await read_all(database, KeyRing.from_keys([K2]), user_id)
    assert [c.secrets["api_key"].reveal() for c in stored] == [
        f"{CANARY}-key-{n}" for n in range(5)
    ]
    assert [
        c.secrets_unreadable for c in await read_all(database, KeyRing.from_keys([K1]), user_id)
    ] == [True] * 5


@pytest.mark.asyncio
async def test_an_interrupted_rotation_resumes_where_it_stopped(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    connections = await store_connections(database, KeyRing.from_keys([K1]), 5)
    new_ring = KeyRing.from_keys([K2, K1])
    calls = 0
    original = KeyRing.rotate

    def dying_rotate(self: KeyRing, token: str, *, context: str) -> str:
        nonlocal calls
        calls += 1
        if calls == 3:  # the first row of the second batch
            raise KeyboardInterrupt
        return original(self, token, context=context)

    monkeypatch.setattr(KeyRing, "rotate", dying_rotate)
    repository = await SqlRepository.open(database, key_ring=new_ring)
    try:
        with pytest.raises(KeyboardInterrupt):
            await repository.rotate_secrets(batch_size=2)
    finally:
        await repository.aclose()
    key_ids = [row["key_id"] for row in await raw_rows(database, select(broker_connections))]
    assert sorted(key_ids) == sorted([new_ring.key_ids[0]] * 2 + [new_ring.key_ids[1]] * 3)

    monkeypatch.setattr(KeyRing, "rotate", original)
    repository = await SqlRepository.open(database, key_ring=new_ring)
    try:
        assert (await repository.rotate_secrets(batch_size=2)).rotated == 3
    finally:
        await repository.aclose()
    stored = await read_all(database, KeyRing.from_keys([K2]), connections[0].user_id)
    assert len(stored) == 5


@pytest.mark.asyncio
async def test_a_wrong_key_reads_the_connection_as_unreadable_and_changes_nothing(
    database: str,
) -> None:
    (connection,) = await store_connections(database, KeyRing.from_keys([K1]), 1)
    before = await raw_rows(database, select(broker_connections))
    (read,) = await read_all(database, KeyRing.from_keys([K2]), connection.user_id)
    assert read.secrets_unreadable
    assert (read.name, read.secrets, read.tokens) == ("c0", {}, None)
    assert CANARY not in repr(read)
    repository = await SqlRepository.open(database, key_ring=KeyRing.from_keys([K3]))
    try:
        with pytest.raises(SecretsUnreadable, match="'c0'") as raised:
            await repository.rotate_secrets()
    finally:
        await repository.aclose()
    message = str(raised.value)
    assert connection.id in message
    assert "tradecore secrets forget" in message
    assert CANARY not in message
    assert K1 not in message
    assert K2 not in message
    assert K3 not in message
    assert await raw_rows(database, select(broker_connections)) == before


@pytest.mark.asyncio
async def test_a_corrupt_or_moved_ciphertext_is_read_as_unreadable(
    database: str,
) -> None:
    first, second = await store_connections(database, KeyRing.from_keys([K1]), 2)
    rows = {row["name"]: row for row in await raw_rows(database, select(broker_connections))}
    # c1's ciphertext copied onto c0: a valid token under the right key, but for another row.
    await raw_write(
        database,
        update(broker_connections)
        .where(broker_connections.c.id == first.id)
        .values(secrets_enc=rows["c1"]["secrets_enc"]),
    )
    read = {c.name: c for c in await read_all(database, KeyRing.from_keys([K1]), first.user_id)}
    assert read["c0"].secrets_unreadable
    assert not read["c1"].secrets_unreadable
    corrupt = rows["c1"]["secrets_enc"][:-6] + "AAAAAA"
    await raw_write(
        database,
        update(broker_connections)
        .where(broker_connections.c.id == first.id)
        .values(secrets_enc=corrupt),
    )
    read = {c.name: c for c in await read_all(database, KeyRing.from_keys([K1]), first.user_id)}
    assert read["c0"].secrets_unreadable
    assert not read["c1"].secrets_unreadable
    assert second.name == "c1"


# -- notification targets' secrets ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_targets_bot_token_is_encrypted_in_its_row_and_in_a_raw_dump(database: str) -> None:
    (target,) = await store_targets(database, KeyRing.from_keys([K1]), 1)
    (row,) = await raw_rows(database, select(notification_targets))
    assert row["id"] == target.id
    assert row["settings"] == {"chat_id": "-1000"}  # settings are not secret: stored as they are
    assert CANARY not in str(row)
    assert row["key_id"] == KeyRing.from_keys([K1]).primary_id
    dumped = dump(database)
    assert target.id in dumped
    assert "canary" not in dumped.lower()
    (stored,) = await read_targets(database, KeyRing.from_keys([K1]), target.user_id)
    assert stored.secrets["bot_token"].reveal() == f"{CANARY}-bot-0"


@pytest.mark.asyncio
async def test_a_ciphertext_moved_onto_a_target_is_read_as_unreadable(
    database: str,
) -> None:
    (connection,) = await store_connections(database, KeyRing.from_keys([K1]), 1)
    first, _second = await store_targets(database, KeyRing.from_keys([K1]), 2)
    connection_row = (await raw_rows(database, select(broker_connections)))[0]
    target_rows = {
        row["name"]: row for row in await raw_rows(database, select(notification_targets))
    }
    for moved in (connection_row["secrets_enc"], target_rows["t1"]["secrets_enc"]):
        # A valid token under the right key, but written for another row (or another table).
        await raw_write(
            database,
            update(notification_targets)
            .where(notification_targets.c.id == first.id)
            .values(secrets_enc=moved),
        )
        read = {
            t.name: t for t in await read_targets(database, KeyRing.from_keys([K1]), first.user_id)
        }
        assert read["t0"].secrets_unreadable
        assert read["t0"].secrets == {}
        assert not read["t1"].secrets_unreadable
    # And the other way round: a target's ciphertext on a connection's row.
    await raw_write(
        database,
        update(broker_connections)
        .where(broker_connections.c.id == connection.id)
        .values(secrets_enc=target_rows["t1"]["secrets_enc"]),
    )
    (read_connection,) = await read_all(database, KeyRing.from_keys([K1]), connection.user_id)
    assert read_connection.secrets_unreadable


@pytest.mark.asyncio
async def test_rotation_re_encrypts_notification_targets_too(database: str) -> None:
    await store_connections(database, KeyRing.from_keys([K1]), 2)
    targets = await store_targets(database, KeyRing.from_keys([K1]), 3)
    user_id = targets[0].user_id
    repository = await SqlRepository.open(database, key_ring=KeyRing.from_keys([K2, K1]))
    try:
        report = await repository.rotate_secrets(batch_size=2)
        assert (report.rotated, report.rotated_targets) == (2, 3)
        again = await repository.rotate_secrets()
        assert (again.rotated, again.rotated_targets) == (0, 0)  # idempotent
    finally:
        await repository.aclose()
    key_ids = {row["key_id"] for row in await raw_rows(database, select(notification_targets))}
    assert key_ids == {KeyRing.from_keys([K2]).primary_id}
    stored = await read_targets(database, KeyRing.from_keys([K2]), user_id)
    assert stored == targets
    assert all(
        t.secrets_unreadable for t in await read_targets(database, KeyRing.from_keys([K1]), user_id)
    )


@pytest.mark.asyncio
async def test_rotation_stops_at_an_unreadable_target_naming_it_and_changes_nothing(
    database: str,
) -> None:
    (target,) = await store_targets(database, KeyRing.from_keys([K1]), 1)
    before = await raw_rows(database, select(notification_targets))
    repository = await SqlRepository.open(database, key_ring=KeyRing.from_keys([K3, K2]))
    try:
        with pytest.raises(SecretsUnreadable, match="notification target 't0'") as raised:
            await repository.rotate_secrets()
    finally:
        await repository.aclose()
    assert target.id in str(raised.value)
    assert K1 not in str(raised.value)
    assert await raw_rows(database, select(notification_targets)) == before


# -- rows and schema -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_hand_edited_row_is_a_clear_error(database: str) -> None:
    (connection,) = await store_connections(database, KeyRing.from_keys([K1]), 1)
    repository = await SqlRepository.open(database, key_ring=KeyRing.from_keys([K1]))
    try:
        async with repository.unit_of_work() as uow:
            await uow.trades.add_new(connection.user_id, [make_trade(connection_id=connection.id)])
            await uow.commit()
        async with repository.engine.connect() as db:
            await db.execute(update(trades).values(side="sideways"))
            if repository.engine.dialect.name != "sqlite":
                await db.commit()
        async with repository.unit_of_work() as uow:
            with pytest.raises(UnreadableRow, match="trades"):
                await uow.trades.list(connection.user_id)
    finally:
        await repository.aclose()


@pytest.mark.asyncio
async def test_hand_edited_lease_rows_are_a_clear_error(database: str) -> None:
    repository = await open_migrated(database, KeyRing.from_keys([K1]))
    user = make_user()
    try:
        async with repository.unit_of_work() as uow:
            await uow.users.add(user)
            await uow.automation.save(
                AutomationConfig(
                    user_id=user.id,
                    state=AutomationState.ACTIVE,
                    next_due_at=await uow.leases.now(),
                )
            )
            (lease,) = await uow.leases.claim_due(
                "host:1:daemon", ttl=timedelta(minutes=1), limit=1, trigger=Trigger.SCHEDULE
            )
            await uow.commit()
        await raw_write(database, update(automation_configs).values(fencing=-3))
        async with repository.unit_of_work() as uow:
            with pytest.raises(UnreadableRow, match="automation_configs"):
                await uow.leases.claim(
                    user.id, "host:2:daemon", ttl=timedelta(minutes=1), trigger=Trigger.MANUAL
                )
            with pytest.raises(UnreadableRow, match="automation_configs"):
                await uow.leases.next_wake()
            assert not await uow.leases.confirm(lease)  # a plain mismatch, nothing to read
        await raw_write(database, update(automation_configs).values(fencing=1, state="sleepy"))
        async with repository.unit_of_work() as uow:
            with pytest.raises(UnreadableRow, match="automation_configs"):
                await uow.leases.release(lease, completed=True)
            with pytest.raises(UnreadableRow, match="automation_configs"):
                await uow.automation.get_for_update(user.id)
        if database.startswith("sqlite"):  # PostgreSQL's timestamptz refuses such text itself
            await raw_write(database, text("UPDATE lease_audit SET expires_at = 'next tuesday'"))
            async with repository.unit_of_work() as uow:
                with pytest.raises(UnreadableRow, match="lease_audit"):
                    await uow.leases.intervals()
    finally:
        await repository.aclose()


@pytest.mark.asyncio
async def test_amounts_are_stored_exactly_in_the_raw_columns(database: str) -> None:
    (connection,) = await store_connections(database, KeyRing.from_keys([K1]), 1)
    repository = await SqlRepository.open(database, key_ring=KeyRing.from_keys([K1]))
    try:
        async with repository.unit_of_work() as uow:
            await uow.trades.add_new(
                connection.user_id,
                [
                    make_trade(
                        connection_id=connection.id,
                        quantity=Decimal("0.10000000"),
                        price=Decimal("67123.45678901234567890"),
                        executed_at=DEFAULT_TIME,
                    )
                ],
            )
            await uow.commit()
        async with repository.engine.connect() as db:
            row = (await db.execute(text("SELECT quantity, price FROM trades"))).one()
    finally:
        await repository.aclose()
    # No float on the way: SQLite keeps the text, PostgreSQL's NUMERIC the digits and scale.
    assert str(row.quantity) == "0.10000000"
    assert str(row.price) == "67123.45678901234567890"


@pytest.mark.asyncio
async def test_a_database_behind_the_newest_migration_is_refused(database: str) -> None:
    await upgrade(database)
    await downgrade(database, "base")
    with pytest.raises(SchemaNotAtHead, match="tradecore init"):
        await SqlRepository.open(database, key_ring=KeyRing.from_keys([K1]))


@pytest.mark.asyncio
async def test_a_missing_sqlite_file_is_not_created_behind_the_users_back(tmp_path: Path) -> None:
    path = tmp_path / "nothing-here.db"
    with pytest.raises(ConfigurationError, match="tradecore init"):
        await SqlRepository.open(f"sqlite:///{path}", key_ring=KeyRing.from_keys([K1]))
    assert not path.exists()
