"""The notification-target use cases: a target is checked before it is stored, secrets the
environment holds are not asked for, and a user never reaches another user's target."""

from __future__ import annotations

import attrs
import pytest

from tradecore.domain import Secret
from tradecore.errors import AlreadyExists, DomainError, NotFound, NotificationError, PluginError
from tradecore.ports import NotifierContext, NotifierFactory, NotifierPort, SecretSpec, SettingSpec
from tradecore.services import ServiceContext, Targets, Users
from tradecore.services.notify import NotifierDefaults
from tradecore.testing import RecordingNotifier


class Chat:
    """A ``chat`` notifier plugin: a token that must not be ``bad-token``; records what it built."""

    def __init__(self) -> None:
        self.built: list[RecordingNotifier] = []

    def create(self, context: NotifierContext) -> NotifierPort:
        token = context.secrets["token"].reveal()
        failure = NotificationError(f"token {token} refused") if token == "bad-token" else None
        notifier = RecordingNotifier(context.name or "chat", fail_with=failure)
        self.built.append(notifier)
        return notifier

    def factory(self) -> NotifierFactory:
        return NotifierFactory(
            name="chat",
            description="a chat",
            create=self.create,
            settings=(SettingSpec(name="chat_id", description="the chat", required=True),),
            secrets=(SecretSpec(name="token", description="the token", env_var="CHAT_TOKEN"),),
        )


@pytest.fixture
def chat() -> Chat:
    return Chat()


def with_chat(
    context: ServiceContext, chat: Chat, defaults: dict[str, NotifierDefaults] | None = None
) -> Targets:
    return Targets(
        attrs.evolve(context, notifiers={"chat": chat.factory()}, notifier_defaults=defaults or {})
    )


async def users(context: ServiceContext) -> tuple[str, str]:
    return (await Users(context).add("alice")).id, (await Users(context).add("bob")).id


async def test_add_checks_the_target_then_stores_it(context: ServiceContext, chat: Chat) -> None:
    alice, _ = await users(context)
    targets = with_chat(context, chat)
    added = await targets.add(
        alice, notifier="chat", settings={"chat_id": "42"}, secrets={"token": Secret("t0k-token-1")}
    )
    assert added.target.name == "chat"
    assert added.checked == "chat is reachable"
    listed = await targets.list(alice)
    assert [target.name for target in listed.stored] == ["chat"]
    assert listed.stored[0].secrets["token"].reveal() == "t0k-token-1"


async def test_a_target_that_does_not_work_is_not_stored_and_its_secret_not_shown(
    context: ServiceContext, chat: Chat
) -> None:
    alice, _ = await users(context)
    targets = with_chat(context, chat)
    with pytest.raises(NotificationError, match="does not work") as refused:
        await targets.add(
            alice,
            notifier="chat",
            settings={"chat_id": "42"},
            secrets={"token": Secret("bad-token")},
        )
    assert "token bad-token" not in str(refused.value)
    assert (await targets.list(alice)).stored == ()


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"notifier": "pigeon"}, PluginError),
        ({"name": "\x07"}, DomainError),
    ],
)
async def test_bad_input_is_refused_before_anything_is_checked(
    context: ServiceContext, chat: Chat, options: dict[str, str], error: type[Exception]
) -> None:
    alice, _ = await users(context)
    targets = with_chat(context, chat)
    arguments = {"notifier": "chat", **options}
    with pytest.raises(error):
        await targets.add(
            alice, settings={"chat_id": "1"}, secrets={"token": Secret("t-token-1")}, **arguments
        )
    assert chat.built == []


async def test_secrets_the_defaults_hold_are_not_asked_for(
    context: ServiceContext, chat: Chat
) -> None:
    alice, _ = await users(context)
    plain = await with_chat(context, chat).check_new(
        alice, notifier="chat", settings={"chat_id": "1"}
    )
    assert (plain.secrets_to_ask, plain.secrets_from_defaults) == (("token",), ())
    defaults = {"chat": NotifierDefaults(secrets={"token": Secret("env")})}
    from_env = await with_chat(context, chat, defaults).check_new(
        alice, notifier="chat", settings={"chat_id": "1"}
    )
    assert (from_env.secrets_to_ask, from_env.secrets_from_defaults) == ((), ("token",))


async def test_another_users_target_is_not_found(context: ServiceContext, chat: Chat) -> None:
    alice, bob = await users(context)
    targets = with_chat(context, chat)
    await targets.add(
        alice, notifier="chat", settings={"chat_id": "42"}, secrets={"token": Secret("t-token-1")}
    )
    for attempt in (
        targets.set_active(bob, "chat", active=False),
        targets.remove(bob, "chat"),
    ):
        with pytest.raises(NotFound, match=r"^bob has no notification target named 'chat'$"):
            await attempt
    assert (await targets.list(bob)).stored == ()
    assert await targets.test(bob) == ()
    assert [target.active for target in (await targets.list(alice)).stored] == [True]


async def test_names_are_unique_per_user(context: ServiceContext, chat: Chat) -> None:
    alice, bob = await users(context)
    targets = with_chat(context, chat)
    for user in (alice, bob):
        await targets.add(
            user, notifier="chat", settings={"chat_id": "1"}, secrets={"token": Secret("t-token-1")}
        )
    with pytest.raises(AlreadyExists, match="alice already has a notification target"):
        await targets.check_new(alice, notifier="chat", name=" chat ", settings={"chat_id": "1"})


async def test_disable_enable_remove_and_test(context: ServiceContext, chat: Chat) -> None:
    alice, _ = await users(context)
    targets = with_chat(context, chat)
    await targets.add(
        alice, notifier="chat", settings={"chat_id": "1"}, secrets={"token": Secret("t-token-1")}
    )
    tested = await targets.test(alice)
    assert [(each.name, each.problem) for each in tested] == [("chat", None)]
    assert chat.built[-1].tests == ["alice"]

    assert not (await targets.set_active(alice, "chat", active=False)).active
    assert await targets.test(alice) == ()
    assert (await targets.set_active(alice, "chat", active=True)).active
    await targets.remove(alice, "chat")
    assert (await targets.list(alice)).stored == ()


async def test_get_by_id_finds_the_users_own_target_and_never_another_users(
    context: ServiceContext, chat: Chat
) -> None:
    alice, bob = await users(context)
    targets = with_chat(context, chat)
    added = await targets.add(
        alice,
        notifier="chat",
        name="phone",
        settings={"chat_id": "1"},
        secrets={"token": Secret("good-token")},
    )

    assert (await targets.get(alice, added.target.id)).name == "phone"
    with pytest.raises(NotFound, match="no such notification target") as refused:
        await targets.get(bob, added.target.id)
    assert "phone" not in str(refused.value)
