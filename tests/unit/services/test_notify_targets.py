"""Which notifiers a user's digest goes to: stored targets, the environment's defaults, and the
implicit target the defaults make on their own."""

from __future__ import annotations

import pytest

from tradecore.domain import Secret
from tradecore.errors import ConfigurationError
from tradecore.ports import NotifierContext, NotifierFactory, NotifierPort, SecretSpec, SettingSpec
from tradecore.services.notify import NotifierDefaults, defaults_from_environment, notifiers_for
from tradecore.testing import FakeClock, RecordingNotifier
from tradecore.testing.builders import make_notification_target

CLOCK = FakeClock()


class _Chat:
    """A factory that records the contexts it was given, and refuses a missing chat."""

    def __init__(self) -> None:
        self.contexts: list[NotifierContext] = []

    def __call__(self, context: NotifierContext) -> NotifierPort:
        self.contexts.append(context)
        if "chat_id" not in context.settings:
            raise ConfigurationError(f"no chat id (token {context.secrets['token'].reveal()})")
        return RecordingNotifier(context.name or "chat")


@pytest.fixture
def chat() -> _Chat:
    return _Chat()


@pytest.fixture
def factories(chat: _Chat) -> dict[str, NotifierFactory]:
    return {
        "chat": NotifierFactory(
            name="chat",
            description="a chat",
            create=chat,
            settings=(
                SettingSpec(name="chat_id", description="", required=True, env_var="CHAT_ID"),
                SettingSpec(name="lang", description="", env_var="CHAT_LANG"),
            ),
            secrets=(SecretSpec(name="token", description="", env_var="CHAT_TOKEN"),),
        ),
        "console": NotifierFactory(name="console", description="", create=chat),
    }


def test_defaults_come_from_the_declared_variables_only(
    factories: dict[str, NotifierFactory],
) -> None:
    defaults = defaults_from_environment(
        factories, {"CHAT_TOKEN": " t0ken-value ", "CHAT_LANG": "", "OTHER": "x"}
    )
    assert set(defaults) == {"chat"}
    assert defaults["chat"].settings == {}
    assert defaults["chat"].secrets == {"token": Secret("t0ken-value")}
    assert "t0ken-value" not in repr(defaults)


def test_stored_values_win_over_the_environment(
    chat: _Chat, factories: dict[str, NotifierFactory]
) -> None:
    defaults = {
        "chat": NotifierDefaults(
            settings={"chat_id": "1", "lang": "fr"}, secrets={"token": Secret("env-token")}
        )
    }
    target = make_notification_target(notifier="chat", name="phone", settings={"chat_id": "2"})
    (resolved,) = notifiers_for([target], factories=factories, defaults=defaults, clock=CLOCK)
    assert resolved.name == "phone"
    assert resolved.notifier is not None
    (context,) = chat.contexts
    assert dict(context.settings) == {"chat_id": "2", "lang": "fr"}
    assert context.secrets["token"].reveal() == "env-token"
    assert context.name == "phone"


def test_complete_defaults_make_an_implicit_target_for_users_without_one(
    factories: dict[str, NotifierFactory],
) -> None:
    complete = {"chat": NotifierDefaults(settings={"chat_id": "1"}, secrets={"token": Secret("t")})}
    (implicit,) = notifiers_for([], factories=factories, defaults=complete, clock=CLOCK)
    assert (implicit.name, implicit.error) == ("chat", None)

    # Not when the user has a target of that notifier, even a disabled one…
    disabled = make_notification_target(notifier="chat", active=False)
    assert notifiers_for([disabled], factories=factories, defaults=complete, clock=CLOCK) == []
    # …nor when the environment alone is not enough (a shared token, per-user chats).
    partial = {"chat": NotifierDefaults(secrets={"token": Secret("t")})}
    assert notifiers_for([], factories=factories, defaults=partial, clock=CLOCK) == []


def test_a_target_that_cannot_be_built_says_why_without_its_secrets(
    factories: dict[str, NotifierFactory],
) -> None:
    target = make_notification_target(
        notifier="chat", settings={}, secrets={"token": "very-secret-token"}
    )
    missing = make_notification_target(notifier="pager", name="pager")
    broken, unknown = notifiers_for(
        [target, missing], factories=factories, defaults={}, clock=CLOCK
    )
    assert broken.notifier is None
    assert broken.error == "ConfigurationError: no chat id (token **********)"
    assert unknown.error == (
        "the notifier plugin 'pager' is not installed (installed: chat, console)"
    )
