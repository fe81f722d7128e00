"""A Secret never shows its value by accident."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime, timedelta

import pytest

from tradecore.domain import TOKEN_REFRESH_MARGIN, BrokerConnection, OAuthTokens, Secret
from tradecore.domain.secret import MIN_SECRET_LENGTH, check_secret_length
from tradecore.errors import DomainError

CANARY = "sk-canary-7f3a9b"


def test_repr_str_format_and_fstring_hide_the_value() -> None:
    secret = Secret(CANARY)
    old_style = "%s" % secret  # noqa: UP031 (old-style formatting must hide it too)
    for shown in (repr(secret), str(secret), f"{secret}", format(secret, ">40"), old_style):
        assert CANARY not in shown
        assert "*" in shown
    assert secret.reveal() == CANARY


def test_a_connection_repr_hides_its_secrets_and_tokens() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    connection = BrokerConnection(
        user_id="u1",
        broker="binance",
        name="main",
        secrets={"api_secret": Secret(CANARY)},
        tokens=OAuthTokens(
            access_token=Secret(CANARY + "-access"),
            refresh_token=Secret(CANARY + "-refresh"),
            access_expires_at=now + timedelta(minutes=20),
        ),
        created_at=now,
    )
    assert CANARY not in repr(connection)
    assert CANARY not in str(connection.tokens)


def test_a_secret_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(CANARY))


def test_copies_stay_equal_and_hidden() -> None:
    secret = Secret(CANARY)
    assert copy.deepcopy(secret) == secret
    assert Secret(CANARY) != Secret("other")
    assert hash(Secret(CANARY)) == hash(secret)


def test_plain_strings_are_refused_as_connection_secrets() -> None:
    with pytest.raises(DomainError, match="wrapped in Secret"):
        BrokerConnection(
            user_id="u1",
            broker="binance",
            name="main",
            secrets={"api_secret": CANARY},  # type: ignore[dict-item]
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )


def test_empty_secret_is_refused_as_bad_input() -> None:
    with pytest.raises(DomainError, match="must not be empty"):
        Secret("")


def test_tokens_know_when_they_need_a_refresh() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    tokens = OAuthTokens(access_token=Secret("a"), access_expires_at=now + timedelta(minutes=10))
    assert not tokens.needs_refresh(now, margin=timedelta(minutes=5))
    assert tokens.needs_refresh(now + timedelta(minutes=6), margin=timedelta(minutes=5))


def test_refresh_is_due_within_the_one_margin_or_when_a_login_is_required() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    expires = now + TOKEN_REFRESH_MARGIN + timedelta(seconds=1)
    tokens = OAuthTokens(access_token=Secret("a"), access_expires_at=expires)
    assert timedelta(minutes=5) == TOKEN_REFRESH_MARGIN
    assert not tokens.refresh_due(now)
    assert tokens.refresh_due(now + timedelta(seconds=1))
    assert tokens.refresh_due(now, margin=timedelta(minutes=10))
    assert OAuthTokens(
        access_token=Secret("a"), access_expires_at=expires, login_required="revoked"
    ).refresh_due(now)


@pytest.mark.parametrize("value", ["q", "zz", "1234567", "  1234567  ", "\t" * 9])
def test_a_secret_shorter_than_the_minimum_is_refused_without_quoting_it(value: str) -> None:
    with pytest.raises(DomainError) as refused:
        check_secret_length("api_key", Secret(value))
    assert str(refused.value) == (
        "secret 'api_key' is too short to be a real one (fewer than 8 characters); copy the "
        "whole value your broker or service gave you"
    )
    assert value.strip() == "" or value.strip() not in str(refused.value)


@pytest.mark.parametrize(
    "value",
    [
        "12345678",
        "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",  # Binance's doc key
        "0123456789abcdef0123456789abcdef",  # a Saxo AppSecret's shape
        "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # a Telegram bot token
    ],
)
def test_real_secrets_are_long_enough(value: str) -> None:
    assert MIN_SECRET_LENGTH == 8
    check_secret_length("api_key", Secret(value))
