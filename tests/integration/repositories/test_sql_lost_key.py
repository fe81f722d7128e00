"""The SQL repository after the secret key is lost: connections and targets whose secrets no key
opens are read with ``secrets_unreadable`` (never an error), can be disabled without losing the
ciphertext (the old key still opens it), removed with their user, and given new secrets under
the current key; :func:`sealed_secrets` counts what each key sealed without any key."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from sqlalchemy import select

from tradecore.domain import Secret
from tradecore.testing.builders import make_connection, make_notification_target, make_user
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy._sealed import sealed_secrets
from tradecore_adapters.sqlalchemy.migrate import upgrade
from tradecore_adapters.sqlalchemy.schema import broker_connections, notification_targets

OLD, NEW = KeyRing.from_keys([KeyRing.generate_key()]), KeyRing.from_keys([KeyRing.generate_key()])
USER = make_user()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tradecore.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    await upgrade(url)
    repository = await SqlRepository.open(url, key_ring=OLD)
    try:
        async with repository.unit_of_work() as uow:
            await uow.users.add(USER)
            await uow.connections.add(
                make_connection(
                    user_id=USER.id, name="binance", broker="binance", secrets={"api_key": "k-old"}
                )
            )
            await uow.connections.add(make_connection(user_id=USER.id, name="paper"))
            await uow.notification_targets.add(
                make_notification_target(user_id=USER.id, secrets={"bot_token": "t-old"})
            )
            await uow.commit()
    finally:
        await repository.aclose()
    return url


async def sealed_rows(url: str) -> list[dict[str, object]]:
    repository = await SqlRepository.open(url, key_ring=NEW)
    try:
        async with repository.engine.connect() as db:
            rows = []
            for table in (broker_connections, notification_targets):
                query = select(table.c.name, table.c.secrets_enc, table.c.key_id)
                rows += [dict(row) for row in (await db.execute(query)).mappings()]
            return sorted(rows, key=lambda row: str(row["name"]))
    finally:
        await repository.aclose()


async def test_unreadable_ones_are_listed_disabled_and_keep_their_ciphertext(
    database: str,
) -> None:
    before = await sealed_rows(database)
    repository = await SqlRepository.open(database, key_ring=NEW)
    try:
        async with repository.unit_of_work() as uow:
            connections = {c.name: c for c in await uow.connections.list(USER.id)}
            (target,) = await uow.notification_targets.list(USER.id)
            assert connections["binance"].secrets_unreadable
            assert connections["paper"].secrets_unreadable  # its "no secrets" were sealed too
            assert target.secrets_unreadable
            assert target.secrets == {}
            locked = await uow.connections.get_for_update(USER.id, connections["binance"].id)
            await uow.connections.update(attrs.evolve(locked, active=False, name="binance-old"))
            await uow.notification_targets.update(attrs.evolve(target, active=False))
            await uow.commit()
    finally:
        await repository.aclose()
    assert [row["secrets_enc"] for row in await sealed_rows(database)] == [
        row["secrets_enc"] for row in before
    ]
    repository = await SqlRepository.open(database, key_ring=OLD)  # the key was found again
    try:
        async with repository.unit_of_work() as uow:
            found = await uow.connections.get_by_name(USER.id, "binance-old")
            (target,) = await uow.notification_targets.list(USER.id)
    finally:
        await repository.aclose()
    assert (found.active, found.secrets["api_key"].reveal()) == (False, "k-old")
    assert (target.active, target.secrets["bot_token"].reveal()) == (False, "t-old")


async def test_new_secrets_are_sealed_under_the_current_key_and_the_user_can_go(
    database: str,
) -> None:
    repository = await SqlRepository.open(database, key_ring=NEW)
    try:
        async with repository.unit_of_work() as uow:
            binance = await uow.connections.get_by_name(USER.id, "binance")
            await uow.connections.update(
                attrs.evolve(
                    binance, secrets={"api_key": Secret("k-new")}, secrets_unreadable=False
                )
            )
            await uow.commit()
        async with repository.unit_of_work() as uow:
            again = await uow.connections.get_by_name(USER.id, "binance")
        assert (again.secrets_unreadable, again.secrets["api_key"].reveal()) == (False, "k-new")
        assert (await sealed_secrets(database)).not_under(NEW.key_ids).connection_count == 1
        async with repository.unit_of_work() as uow:
            await uow.users.remove(USER.id)
            await uow.commit()
        async with repository.unit_of_work() as uow:
            assert await uow.users.list() == []
    finally:
        await repository.aclose()
    assert not await sealed_secrets(database)


async def test_sealed_secrets_counts_by_key_without_any_key(database: str, tmp_path: Path) -> None:
    sealed = await sealed_secrets(database)
    assert dict(sealed.connections) == {OLD.primary_id: 2}
    assert dict(sealed.targets) == {OLD.primary_id: 1}
    assert sealed.describe() == (
        f"2 connection(s) and 1 notification target(s), sealed by key {OLD.primary_id}"
    )
    assert not sealed.not_under(OLD.key_ids)
    assert sealed.not_under(NEW.key_ids) == sealed
    missing = tmp_path / "none" / "never.db"
    assert not await sealed_secrets(f"sqlite:///{missing}")
    assert not missing.exists()  # looking does not create the database
    empty = tmp_path / "empty.db"
    empty.touch()
    assert not await sealed_secrets(f"sqlite:///{empty}")  # no tables yet: nothing sealed
