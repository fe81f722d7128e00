"""Passwords: the rule, Argon2 hashes stored apart, logins that fail slowed and locked out per
name and per address (on the fake clock), and a rehash after a login with old parameters."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from tradecore.domain import User
from tradecore.errors import DomainError, LoginRefused, NotFound
from tradecore.services import Passwords, ServiceContext, Users
from tradecore.testing import FakeClock
from tradecore_adapters.passwords import Argon2Hasher

PASSWORD = "correct horse battery"
ADDRESS = "192.0.2.1"


def cheap_hasher(time_cost: int = 1) -> Argon2Hasher:
    return Argon2Hasher(time_cost=time_cost, memory_cost=8, parallelism=1)


@pytest.fixture
def accounts(context: ServiceContext) -> ServiceContext:
    limits = context.repository.shared_limits()  # type: ignore[attr-defined]
    return attrs.evolve(context, password_hasher=cheap_hasher(), limits=limits)


async def alice_with_password(accounts: ServiceContext) -> User:
    alice = await Users(accounts).add("alice")
    await Passwords(accounts).set_password(alice.id, PASSWORD)
    return alice


async def stored_hash(accounts: ServiceContext, user_id: str) -> str | None:
    async with accounts.repository.unit_of_work() as uow:
        return await uow.users.password_hash(user_id)


async def fail(passwords: Passwords, name: str = "alice", address: str = ADDRESS) -> LoginRefused:
    with pytest.raises(LoginRefused) as caught:
        await passwords.authenticate(name, "wrong password!!", address=address)
    return caught.value


async def test_a_set_password_is_stored_as_an_argon2_hash_and_logs_in(
    accounts: ServiceContext,
) -> None:
    alice = await alice_with_password(accounts)
    hashed = await stored_hash(accounts, alice.id)
    assert hashed is not None
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert await Passwords(accounts).authenticate("alice", PASSWORD, address=ADDRESS) == alice
    assert await Passwords(accounts).has_password(alice.id)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "empty or only whitespace"),
        (" " * 20, "empty or only whitespace"),
        ("elevenchars", "at least 12 characters"),
        ("x" * 1025, "at most 1024 characters"),
    ],
)
async def test_a_password_breaking_the_rule_is_refused_and_not_shown(
    accounts: ServiceContext, password: str, message: str
) -> None:
    alice = await Users(accounts).add("alice")
    with pytest.raises(DomainError, match=message) as caught:
        await Passwords(accounts).set_password(alice.id, password)
    assert password.strip() == "" or password not in str(caught.value)
    assert await stored_hash(accounts, alice.id) is None


async def test_twelve_and_1024_characters_are_accepted(accounts: ServiceContext) -> None:
    alice = await Users(accounts).add("alice")
    for password in ("x" * 12, "y" * 1024):
        await Passwords(accounts).set_password(alice.id, password)
        assert await Passwords(accounts).authenticate("alice", password, address=ADDRESS)


async def test_setting_a_password_of_no_user_is_not_found(accounts: ServiceContext) -> None:
    with pytest.raises(NotFound):
        await Passwords(accounts).set_password("nobody", PASSWORD)


async def test_wrong_password_unknown_name_and_no_password_give_one_answer(
    accounts: ServiceContext,
) -> None:
    await alice_with_password(accounts)
    await Users(accounts).add("bob")  # no password
    passwords = Passwords(accounts)
    answers = [
        await fail(passwords, "alice", "a1"),
        await fail(passwords, "nobody", "a2"),
        await fail(passwords, "bob", "a3"),
    ]
    assert {str(answer) for answer in answers} == {"wrong name or password"}
    assert all(answer.retry_after is None for answer in answers)


async def test_each_failure_waits_on_the_clock(accounts: ServiceContext, clock: FakeClock) -> None:
    await alice_with_password(accounts)
    await fail(Passwords(accounts))
    assert clock.sleeps == [1.0]
    await Passwords(accounts).authenticate("alice", PASSWORD, address=ADDRESS)
    assert clock.sleeps == [1.0]  # a success does not wait


async def test_five_failures_lock_the_name_out_for_15_minutes_even_with_the_right_password(
    accounts: ServiceContext, clock: FakeClock
) -> None:
    alice = await alice_with_password(accounts)
    passwords = Passwords(accounts)
    for attempt in range(4):
        await fail(passwords, address=f"198.51.100.{attempt}")
    assert await passwords.authenticate("alice", PASSWORD, address="203.0.113.9") == alice
    locked_at = clock.now()
    await fail(passwords, address="198.51.100.4")  # the fifth within the window
    with pytest.raises(LoginRefused, match="too many failed logins") as caught:
        await passwords.authenticate("alice", PASSWORD, address="203.0.113.9")
    assert caught.value.retry_after == locked_at + timedelta(minutes=15)
    clock.set(locked_at + timedelta(minutes=15))
    assert await passwords.authenticate("alice", PASSWORD, address="203.0.113.9") == alice


async def test_an_unknown_name_is_locked_out_alike(
    accounts: ServiceContext,
) -> None:
    passwords = Passwords(accounts)
    for attempt in range(5):
        await fail(passwords, "nobody", address=f"198.51.100.{attempt}")
    with pytest.raises(LoginRefused, match="too many failed logins"):
        await passwords.authenticate("nobody", PASSWORD, address="203.0.113.9")


async def test_five_failures_from_one_address_lock_that_address_for_every_name(
    accounts: ServiceContext,
) -> None:
    await alice_with_password(accounts)
    bob = await Users(accounts).add("bob")
    await Passwords(accounts).set_password(bob.id, PASSWORD)
    passwords = Passwords(accounts)
    for name in ("n1", "n2", "n3", "n4", "n5"):  # five names, one address
        await fail(passwords, name, ADDRESS)
    with pytest.raises(LoginRefused, match="too many failed logins"):
        await passwords.authenticate("bob", PASSWORD, address=ADDRESS)
    assert await passwords.authenticate("bob", PASSWORD, address="203.0.113.9") == bob


async def test_failures_in_an_earlier_window_do_not_count(
    accounts: ServiceContext, clock: FakeClock
) -> None:
    alice = await alice_with_password(accounts)
    passwords = Passwords(accounts)
    for attempt in range(4):
        await fail(passwords, address=f"198.51.100.{attempt}")
    clock.advance(timedelta(minutes=16))
    await fail(passwords, address="198.51.100.9")
    assert await passwords.authenticate("alice", PASSWORD, address=ADDRESS) == alice


async def test_a_login_with_old_parameters_rehashes_the_password(
    accounts: ServiceContext,
) -> None:
    alice = await alice_with_password(accounts)
    old = await stored_hash(accounts, alice.id)
    stronger = attrs.evolve(accounts, password_hasher=cheap_hasher(time_cost=2))
    assert await Passwords(stronger).authenticate("alice", PASSWORD, address=ADDRESS) == alice
    new = await stored_hash(accounts, alice.id)
    assert new != old
    assert new is not None
    assert ",t=2," in new
    again = await Passwords(stronger).authenticate("alice", PASSWORD, address=ADDRESS)
    assert again == alice
    assert await stored_hash(accounts, alice.id) == new  # current parameters: kept


async def test_a_failed_login_does_not_rehash(accounts: ServiceContext) -> None:
    alice = await alice_with_password(accounts)
    old = await stored_hash(accounts, alice.id)
    stronger = attrs.evolve(accounts, password_hasher=cheap_hasher(time_cost=2))
    await fail(Passwords(stronger))
    assert await stored_hash(accounts, alice.id) == old


def test_the_hasher_shows_no_hash_or_password() -> None:
    hasher = cheap_hasher()
    hashed = hasher.hash(PASSWORD)
    assert hasher.verify(hashed, PASSWORD)
    assert not hasher.verify(hashed, PASSWORD + "!")
    assert not hasher.verify("not a hash", PASSWORD)
    assert hasher.needs_rehash("not a hash")
    assert "argon2id" not in repr(hasher)
    assert PASSWORD not in repr(hasher)
