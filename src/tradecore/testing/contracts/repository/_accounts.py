"""Contract tests of accounts: ``uow.users``' admin flag and password hash, and
``uow.api_tokens`` (digests only, scoped by user, gone with their user)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradecore.domain import ApiToken, Scope, token_digest
from tradecore.errors import AlreadyExists, NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import DEFAULT_TIME as T0
from tradecore.testing.builders import make_user
from tradecore.testing.contracts.repository._helpers import ContractBase, add_owner, committing


def _token(user_id: str, secret: str, *, minutes: int = 0, **changes: object) -> ApiToken:
    values: dict[str, object] = {
        "user_id": user_id,
        "digest": token_digest(secret),
        "scopes": [Scope.READ],
        "created_at": T0 + timedelta(minutes=minutes),
    }
    values.update(changes)
    return ApiToken(**values)  # type: ignore[arg-type]


class AccountTests(ContractBase):
    """Admin flags and password hashes on users; API tokens kept by digest, per user."""

    @pytest.mark.asyncio
    async def test_admin_flag_is_stored_set_and_cleared(self, repository: RepositoryPort) -> None:
        admin = make_user(name="root", is_admin=True)
        alice = make_user(name="alice")
        async with committing(repository) as uow:
            await uow.users.add(admin)
            await uow.users.add(alice)
        async with committing(repository) as uow:
            assert (await uow.users.get(admin.id)).is_admin
            assert not (await uow.users.get_by_name("alice")).is_admin
            await uow.users.set_admin(alice.id, True)
            await uow.users.set_admin(admin.id, False)
        async with repository.unit_of_work() as uow:
            assert {u.name: u.is_admin for u in await uow.users.list()} == {
                "alice": True,
                "root": False,
            }
            with pytest.raises(NotFound):
                await uow.users.set_admin("nobody", True)

    @pytest.mark.asyncio
    async def test_language_is_stored_per_user_and_cleared(
        self, repository: RepositoryPort
    ) -> None:
        alice = make_user(name="alice", language="fr")
        bob = make_user(name="bob")
        async with committing(repository) as uow:
            await uow.users.add(alice)
            await uow.users.add(bob)
        async with committing(repository) as uow:
            assert (await uow.users.get(alice.id)).language == "fr"
            assert (await uow.users.get(bob.id)).language is None
            await uow.users.set_language(bob.id, "fr")
            await uow.users.set_language(alice.id, None)
        async with repository.unit_of_work() as uow:
            assert {u.name: u.language for u in await uow.users.list()} == {
                "alice": None,
                "bob": "fr",
            }
            with pytest.raises(NotFound):
                await uow.users.set_language("nobody", "fr")

    @pytest.mark.asyncio
    async def test_password_hash_is_stored_apart_and_per_user(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        async with committing(repository) as uow:
            assert await uow.users.password_hash(alice.user.id) is None
            await uow.users.set_password_hash(alice.user.id, "$argon2id$v=19$alice")
        async with committing(repository) as uow:
            assert await uow.users.password_hash(alice.user.id) == "$argon2id$v=19$alice"
            assert await uow.users.password_hash(bob.user.id) is None
            assert "argon2" not in repr(await uow.users.get(alice.user.id))
            await uow.users.set_password_hash(alice.user.id, None)
        async with repository.unit_of_work() as uow:
            assert await uow.users.password_hash(alice.user.id) is None
            with pytest.raises(NotFound):
                await uow.users.password_hash("nobody")
            with pytest.raises(NotFound):
                await uow.users.set_password_hash("nobody", "h")

    @pytest.mark.asyncio
    async def test_api_tokens_round_trip_by_digest_and_are_listed_oldest_first(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        later = _token(
            alice.user.id,
            "tc_second",
            minutes=5,
            scopes=[Scope.WRITE, Scope.EXECUTE],
            name="ci",
            expires_at=T0 + timedelta(days=30),
        )
        first = _token(alice.user.id, "tc_first")
        async with committing(repository) as uow:
            await uow.api_tokens.add(later)
            await uow.api_tokens.add(first)
        async with committing(repository) as uow:
            assert list(await uow.api_tokens.list(alice.user.id)) == [first, later]
            assert await uow.api_tokens.find_by_digest(token_digest("tc_second")) == later
            assert await uow.api_tokens.get(alice.user.id, later.id) == later
            await uow.api_tokens.touch(alice.user.id, first.id, T0 + timedelta(hours=1))
        async with repository.unit_of_work() as uow:
            touched = await uow.api_tokens.get(alice.user.id, first.id)
            assert touched.last_used_at == T0 + timedelta(hours=1)
            with pytest.raises(NotFound):
                await uow.api_tokens.find_by_digest(token_digest("tc_unknown"))
            with pytest.raises(AlreadyExists):
                await uow.api_tokens.add(_token(alice.user.id, "tc_first"))
            with pytest.raises(NotFound):
                await uow.api_tokens.add(_token("nobody", "tc_orphan"))

    @pytest.mark.asyncio
    async def test_another_users_token_is_not_found(self, repository: RepositoryPort) -> None:
        alice = await add_owner(repository, "alice")
        bob = await add_owner(repository, "bob")
        token = _token(alice.user.id, "tc_alice")
        async with committing(repository) as uow:
            await uow.api_tokens.add(token)
        async with repository.unit_of_work() as uow:
            assert list(await uow.api_tokens.list(bob.user.id)) == []
            with pytest.raises(NotFound):
                await uow.api_tokens.get(bob.user.id, token.id)
            with pytest.raises(NotFound):
                await uow.api_tokens.touch(bob.user.id, token.id, T0)
            with pytest.raises(NotFound):
                await uow.api_tokens.remove(bob.user.id, token.id)
        async with committing(repository) as uow:
            await uow.api_tokens.remove(alice.user.id, token.id)
        async with repository.unit_of_work() as uow:
            assert list(await uow.api_tokens.list(alice.user.id)) == []
            with pytest.raises(NotFound):
                await uow.api_tokens.find_by_digest(token.digest)

    @pytest.mark.asyncio
    async def test_removing_a_user_removes_its_tokens_and_password(
        self, repository: RepositoryPort
    ) -> None:
        alice = await add_owner(repository, "alice")
        async with committing(repository) as uow:
            await uow.api_tokens.add(_token(alice.user.id, "tc_alice"))
            await uow.users.set_password_hash(alice.user.id, "h")
        async with committing(repository) as uow:
            await uow.users.remove(alice.user.id)
        again = await add_owner(repository, "alice")  # same id: ids derive from names
        async with repository.unit_of_work() as uow:
            assert list(await uow.api_tokens.list(again.user.id)) == []
            assert await uow.users.password_hash(again.user.id) is None
            with pytest.raises(NotFound):
                await uow.api_tokens.find_by_digest(token_digest("tc_alice"))
