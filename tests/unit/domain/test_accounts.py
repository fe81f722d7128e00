"""The account rules of the domain: passwords, scopes, token digests and what a repr shows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradecore.domain import (
    ApiToken,
    Scope,
    checked_password,
    checked_scopes,
    new_token_secret,
    token_digest,
)
from tradecore.errors import DomainError
from tradecore.testing.builders import DEFAULT_TIME, make_user


def test_a_password_of_12_characters_with_spaces_is_kept_as_typed() -> None:
    assert checked_password("  two words  ") == "  two words  "


@pytest.mark.parametrize("value", [None, 12, b"bytes password"])
def test_a_password_must_be_text(value: object) -> None:
    with pytest.raises(DomainError, match="must be text"):
        checked_password(value)  # type: ignore[arg-type]


def test_scopes_are_read_write_execute_case_insensitively() -> None:
    assert checked_scopes(["READ", " write", "execute", "read"]) == set(Scope) - {Scope.METRICS}
    with pytest.raises(DomainError, match="unknown scope 'admin'"):
        checked_scopes(["read", "admin"])
    with pytest.raises(DomainError, match="collection"):
        checked_scopes("read")


def test_the_metrics_scope_stands_alone() -> None:
    assert checked_scopes(["metrics"]) == {Scope.METRICS}
    for other in ("read", "write", "execute"):
        with pytest.raises(DomainError, match="metrics scope cannot be combined"):
            checked_scopes(["metrics", other])


def test_new_tokens_are_prefixed_random_and_digested_with_sha256() -> None:
    first, second = new_token_secret(), new_token_secret()
    assert first != second
    assert first.startswith("tc_")
    assert len(first) == 46  # tc_ and 43 characters of base64 for 32 bytes
    assert token_digest(first) == token_digest(first) != token_digest(second)
    assert len(token_digest(first)) == 64


def test_a_token_hides_its_digest_and_knows_its_expiry() -> None:
    token = ApiToken(
        user_id="u1",
        digest=token_digest("tc_x"),
        scopes=["read"],
        created_at=DEFAULT_TIME,
        expires_at=DEFAULT_TIME + timedelta(days=1),
    )
    assert token.digest not in repr(token)
    assert not token.expired(DEFAULT_TIME + timedelta(hours=23))
    assert token.expired(DEFAULT_TIME + timedelta(days=1))
    assert not ApiToken(user_id="u1", digest="d", scopes=["read"], created_at=DEFAULT_TIME).expired(
        DEFAULT_TIME + timedelta(days=10_000)
    )


def test_a_users_language_is_a_lowercase_code_or_none() -> None:
    assert make_user(language="fr").language == "fr"
    assert make_user().language is None  # the browser's
    for wrong in ("French", "FR", "fr-CA", ""):
        with pytest.raises(DomainError, match="a language is a lowercase code such as 'fr'"):
            make_user(language=wrong)
