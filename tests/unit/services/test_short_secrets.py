"""Secrets too short to be masked safely: refused when they are added or replaced, and one stored
before that rule is masked only where it stands as a whole word, never inside other words."""

from __future__ import annotations

import attrs
import pytest

from tradecore.domain import Secret, TaskKind, TaskStatus
from tradecore.domain.secret import MIN_SECRET_LENGTH
from tradecore.errors import ConfigurationError
from tradecore.ports import NotifierContext, NotifierFactory, NotifierPort, SecretSpec
from tradecore.services import Connections, ServiceContext, Targets, Users, mask_secrets
from tradecore.services._steps import StepTimer, mask
from tradecore.testing import FakeClock, RecordingNotifier
from tradecore.testing.builders import DEFAULT_TIME, make_connection

SHORT = "k" * (MIN_SECRET_LENGTH - 1)
LONG = "k" * MIN_SECRET_LENGTH


async def test_a_connection_with_a_short_secret_is_refused_and_nothing_is_stored(
    context: ServiceContext,
) -> None:
    alice = (await Users(context).add("alice")).id
    connections = Connections(context)
    with pytest.raises(ConfigurationError) as refused:
        await connections.add(alice, broker="fake", name="main", secrets={"api_key": Secret("k")})
    assert str(refused.value) == (
        "broker 'fake': secret 'api_key' is too short to be a real one (fewer than 8 "
        "characters); copy the whole value your broker or service gave you"
    )
    assert await connections.list(alice) == []
    with pytest.raises(ConfigurationError, match="too short"):
        await connections.add(
            alice, broker="fake", name="main", secrets={"api_key": Secret(f"  {SHORT}  ")}
        )
    added = await connections.add(
        alice, broker="fake", name="main", secrets={"api_key": Secret(LONG)}
    )
    assert added.secrets["api_key"].reveal() == LONG


async def test_replacing_secrets_with_a_short_one_is_refused_and_keeps_the_old(
    context: ServiceContext,
) -> None:
    alice = (await Users(context).add("alice")).id
    connections = Connections(context)
    await connections.add(alice, broker="fake", name="main", secrets={"api_key": Secret(LONG)})
    with pytest.raises(ConfigurationError, match="secret 'api_key' is too short"):
        await connections.replace_secrets(alice, "main", {"api_key": Secret("ab")})
    assert (await connections.get(alice, "main")).secrets["api_key"].reveal() == LONG


def _chat() -> NotifierFactory:
    def create(context: NotifierContext) -> NotifierPort:
        return RecordingNotifier(context.name or "chat")

    return NotifierFactory(
        name="chat",
        description="a chat",
        create=create,
        secrets=(SecretSpec(name="token", description="the token"),),
    )


async def test_a_target_with_a_short_secret_is_refused_and_nothing_is_stored(
    context: ServiceContext,
) -> None:
    alice = (await Users(context).add("alice")).id
    targets = Targets(attrs.evolve(context, notifiers={"chat": _chat()}))
    with pytest.raises(ConfigurationError) as refused:
        await targets.add(alice, notifier="chat", secrets={"token": Secret("t0k")})
    assert str(refused.value).startswith("notifier 'chat': secret 'token' is too short")
    assert "t0k" not in str(refused.value)
    assert (await targets.list(alice)).stored == ()
    added = await targets.add(alice, notifier="chat", secrets={"token": Secret("t0k-t0k-t0k")})
    assert added.target.secrets["token"].reveal() == "t0k-t0k-t0k"


@pytest.mark.parametrize(
    ("text", "secrets", "masked"),
    [
        # A short secret (stored before the rule) is masked only as a whole word...
        ("BrokerError: bad key k", ("k",), "BrokerError: bad key **********"),
        ("key=ab&x=1 (ab)", ("ab",), "key=**********&x=1 (**********)"),
        ("unknown 'k-1'; k-10 kept", ("k-1",), "unknown '**********'; k-10 kept"),
        # ...never inside another word, whatever its characters.
        ("BrokerError from broker k8s", ("k", "er"), "BrokerError from broker k8s"),
        ("a.b a+b", ("a.b",), "********** a+b"),
        # A secret of the minimum length or more is masked wherever it appears.
        (f"x{LONG}y and {LONG}", (LONG,), "x**********y and **********"),
        # Blank values are ignored.
        ("a b", ("", " "), "a b"),
    ],
)
def test_mask_never_garbles_words_with_a_short_secret(
    text: str, secrets: tuple[str, ...], masked: str
) -> None:
    assert mask(text, secrets) == masked


def test_step_results_and_connection_messages_keep_words_whole() -> None:
    clock = FakeClock(DEFAULT_TIME)
    timer = StepTimer(clock, TaskKind.SYNC, "main", None, secrets=("k",))
    result = timer.result(TaskStatus.FAILURE, error="BrokerError: key k refused", notes=["k"])
    assert result.error == "BrokerError: key ********** refused"
    assert result.notes == ("**********",)
    legacy = make_connection(secrets={"api_key": "er"})
    assert mask_secrets("BrokerError: er", legacy) == "BrokerError: **********"
