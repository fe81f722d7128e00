"""A NotificationTarget: its defaults, its read-only settings and secrets, and what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tradecore.domain import NotificationTarget, Secret
from tradecore.errors import DomainError

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CANARY = "123456:canary-bot-token"


def test_the_name_defaults_to_the_notifiers_and_the_target_is_active() -> None:
    target = NotificationTarget(user_id="u1", notifier="telegram", created_at=NOW)

    assert target.name == "telegram"
    assert target.active is True
    assert dict(target.settings) == {}
    assert dict(target.secrets) == {}
    assert len(target.id) == 32
    named = NotificationTarget(user_id="u1", notifier="telegram", name="team", created_at=NOW)
    assert named.name == "team"


def test_settings_and_secrets_are_read_only_and_the_repr_hides_the_secrets() -> None:
    target = NotificationTarget(
        user_id="u1",
        notifier="telegram",
        settings={"chat_id": "-1001"},
        secrets={"bot_token": Secret(CANARY)},
        created_at=datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))),
    )

    with pytest.raises(TypeError):
        target.settings["chat_id"] = "other"  # type: ignore[index]
    with pytest.raises(TypeError):
        target.secrets["bot_token"] = Secret("other")  # type: ignore[index]
    assert CANARY not in repr(target)
    assert target.secret_values() == (CANARY,)
    assert target.created_at == NOW  # converted to UTC


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"secrets": {"bot_token": CANARY}}, "wrapped in Secret"),
        ({"settings": {"chat_id": 1001}}, "must be a string"),
        ({"notifier": " "}, "notifier must not be empty"),
        ({"name": ""}, "name must not be empty"),
        ({"user_id": ""}, "user_id must not be empty"),
        ({"created_at": datetime(2026, 1, 1)}, "naive datetime"),
    ],
)
def test_invalid_values_are_refused(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"user_id": "u1", "notifier": "telegram", "created_at": NOW}
    with pytest.raises(DomainError, match=message):
        NotificationTarget(**{**fields, **changes})  # type: ignore[arg-type]
