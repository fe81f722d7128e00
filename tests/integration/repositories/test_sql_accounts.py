"""Accounts on SQLite and PostgreSQL, as two web servers would use them: failed logins counted
in the shared database lock a name out for both, and the raw columns hold an Argon2 hash and a
SHA-256 digest, never the password or the token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from tradecore.errors import LoginRefused
from tradecore.services import ApiTokens, Passwords, ServiceContext, Users
from tradecore.testing import FakeClock
from tradecore.testing.builders import DEFAULT_TIME
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.passwords import Argon2Hasher
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.schema import api_tokens, users

PASSWORD = "correct horse battery"
KEY = KeyRing.generate_key()


@pytest.fixture
def url(migrated_url: str) -> str:
    return migrated_url


@pytest.fixture
async def servers(url: str) -> AsyncIterator[tuple[ServiceContext, ServiceContext]]:
    """Two application contexts on one database, each with its own repository (two
    processes), its own clock at the same time, and the database's shared limits."""
    opened = [await SqlRepository.open(url, key_ring=KeyRing.from_keys([KEY])) for _ in "ab"]
    contexts = tuple(
        ServiceContext(
            repository=repository,
            clock=FakeClock(DEFAULT_TIME),
            limits=repository.shared_limits(),
            password_hasher=Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1),
        )
        for repository in opened
    )
    yield contexts[0], contexts[1]
    for repository in opened:
        await repository.aclose()


async def test_failures_on_two_servers_lock_the_name_out_on_both(
    servers: tuple[ServiceContext, ServiceContext],
) -> None:
    first, second = servers
    alice = await Users(first).add("alice")
    await Passwords(first).set_password(alice.id, PASSWORD)
    for attempt in range(5):
        server = (first, second)[attempt % 2]
        with pytest.raises(LoginRefused, match="wrong name or password"):
            await Passwords(server).authenticate("alice", "wrong password!!", address=f"a{attempt}")
    for server in (first, second):
        with pytest.raises(LoginRefused, match="too many failed logins"):
            await Passwords(server).authenticate("alice", PASSWORD, address="elsewhere")


async def test_the_database_holds_a_hash_and_a_digest_only(
    servers: tuple[ServiceContext, ServiceContext], url: str
) -> None:
    context, _ = servers
    alice = await Users(context).add("alice")
    await Passwords(context).set_password(alice.id, PASSWORD)
    created = await ApiTokens(context).create(alice.id, ["read"])
    repository = context.repository
    assert isinstance(repository, SqlRepository)
    async with repository.engine.connect() as connection:
        hashed = await connection.scalar(select(users.c.password_hash))
        row = (await connection.execute(select(api_tokens))).mappings().one()
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert created.secret not in str(dict(row))
    assert row["digest"] != created.secret
    assert len(row["digest"]) == 64
    assert (await ApiTokens(context).authenticate(created.secret)).user == alice
