"""API tokens: shown once, stored as a SHA-256 digest only, scoped by user, refused when
revoked or expired (one error), last use recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradecore.domain import Scope, token_digest
from tradecore.errors import DomainError, LoginRefused, NotFound
from tradecore.services import ApiTokens, ServiceContext, Users
from tradecore.testing import FakeClock

REFUSED = "the API token is not valid"


async def test_a_created_token_is_stored_as_its_digest_only(context: ServiceContext) -> None:
    alice = await Users(context).add("alice")
    created = await ApiTokens(context).create(alice.id, ["read", "write"], name="ci")
    assert created.secret.startswith("tc_")
    assert len(created.secret) == 3 + 43
    assert created.secret not in repr(created)
    assert created.token.digest not in repr(created.token)
    async with context.repository.unit_of_work() as uow:
        [stored] = await uow.api_tokens.list(alice.id)
    assert stored.digest == token_digest(created.secret) != created.secret
    assert stored.scopes == {Scope.READ, Scope.WRITE}
    assert stored.name == "ci"
    assert stored.expires_at is None


async def test_a_token_authenticates_as_its_user_with_its_scopes_and_records_its_use(
    context: ServiceContext, clock: FakeClock
) -> None:
    alice = await Users(context).add("alice")
    tokens = ApiTokens(context)
    created = await tokens.create(alice.id, ["execute"])
    clock.advance(timedelta(hours=2))
    use = await tokens.authenticate(created.secret)
    assert (use.user, use.scopes) == (alice, {Scope.EXECUTE})
    [listed] = await tokens.list(alice.id)
    assert listed.last_used_at == clock.now()


async def test_revoked_expired_unknown_and_malformed_tokens_are_refused_alike(
    context: ServiceContext, clock: FakeClock
) -> None:
    alice = await Users(context).add("alice")
    tokens = ApiTokens(context)
    revoked = await tokens.create(alice.id, ["read"])
    await tokens.revoke(alice.id, revoked.token.id)
    expiring = await tokens.create(alice.id, ["read"], expires_days=1)
    assert await tokens.authenticate(expiring.secret)
    clock.advance(timedelta(days=1))
    for secret in (revoked.secret, expiring.secret, "tc_" + "A" * 43, "nonsense", ""):
        with pytest.raises(LoginRefused, match=REFUSED):
            await tokens.authenticate(secret)


async def test_another_users_token_is_not_found(context: ServiceContext) -> None:
    alice = await Users(context).add("alice")
    bob = await Users(context).add("bob")
    tokens = ApiTokens(context)
    created = await tokens.create(alice.id, ["read"])
    assert list(await tokens.list(bob.id)) == []
    with pytest.raises(NotFound, match="no API token"):
        await tokens.revoke(bob.id, created.token.id)
    assert (await tokens.authenticate(created.secret)).user == alice  # still alive


@pytest.mark.parametrize(
    ("scopes", "options", "message"),
    [
        ([], {}, "at least one scope"),
        (["admin"], {}, "unknown scope"),
        (["read"], {"expires_days": 0}, "1 to 3650 days"),
        (["read"], {"expires_days": 3651}, "1 to 3650 days"),
        (["read"], {"name": " "}, "must not be empty"),
    ],
)
async def test_bad_scopes_lifetimes_and_labels_are_refused(
    context: ServiceContext, scopes: list[str], options: dict[str, object], message: str
) -> None:
    alice = await Users(context).add("alice")
    with pytest.raises(DomainError, match=message):
        await ApiTokens(context).create(alice.id, scopes, **options)  # type: ignore[arg-type]
    assert list(await ApiTokens(context).list(alice.id)) == []


async def test_a_token_for_no_user_is_not_found(context: ServiceContext) -> None:
    with pytest.raises(NotFound):
        await ApiTokens(context).create("nobody", ["read"])


async def test_only_an_administrator_gets_a_metrics_token(context: ServiceContext) -> None:
    users = Users(context)
    alice = await users.add("alice")
    root = await users.add("root", is_admin=True)
    tokens = ApiTokens(context)
    with pytest.raises(DomainError, match="only an administrator"):
        await tokens.create(alice.id, ["metrics"])
    assert await tokens.list(alice.id) == []
    created = await tokens.create(root.id, ["metrics"], name="prometheus")
    use = await tokens.authenticate(created.secret, scope=Scope.METRICS)
    assert (use.user.id, use.scopes) == (root.id, {Scope.METRICS})


async def test_a_token_without_the_scope_asked_for_is_refused_and_its_use_not_recorded(
    context: ServiceContext,
) -> None:
    root = await Users(context).add("root", is_admin=True)
    tokens = ApiTokens(context)
    reader = await tokens.create(root.id, ["read", "write", "execute"])
    with pytest.raises(LoginRefused, match="does not have the metrics scope"):
        await tokens.authenticate(reader.secret, scope=Scope.METRICS)
    scraper = await tokens.create(root.id, ["metrics"])
    with pytest.raises(LoginRefused, match="does not have the read scope"):
        await tokens.authenticate(scraper.secret, scope=Scope.READ)
    assert [t.last_used_at for t in await tokens.list(root.id)] == [None, None]


async def test_a_metrics_token_is_refused_once_its_user_is_no_longer_an_administrator(
    context: ServiceContext,
) -> None:
    users = Users(context)
    root = await users.add("root", is_admin=True)
    tokens = ApiTokens(context)
    created = await tokens.create(root.id, ["metrics"])
    await users.set_admin(root.id, False)
    with pytest.raises(LoginRefused, match="only an administrator"):
        await tokens.authenticate(created.secret, scope=Scope.METRICS)
