"""A whole cycle with Telegram: the digest reaches the chat, a blocked bot is a failed notify
step that leaves the run's status alone, and a DEBUG log of it all holds no bot token
(docs/notifications/telegram.md, "Secrets": sent with DEBUG logging, no ``bot\\d+:`` in any
record)."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import pytest
from tests.fakes.telegram_server import FakeTelegram
from tests.integration.adapters.telegram.conftest import CHAT, TOKEN

from tradecore.domain import RunStatus, TaskKind, TaskStatus, Trigger
from tradecore.testing.builders import make_connection, make_notification_target, make_user
from tradecore_adapters.bootstrap import Application, bootstrap
from tradecore_adapters.memory import MemoryRepository
from tradecore_adapters.settings import Settings

pytestmark = pytest.mark.asyncio

USER = make_user(name="alice")


@pytest.fixture
def fake() -> FakeTelegram:
    # The cycle's notifier paces on the real clock (no clock goes through bootstrap), so the
    # fake does too. No flood limit here: the delivery tests check pacing on a virtual clock,
    # and a request delayed by a loaded machine must not turn into a 429 here.
    return FakeTelegram(tokens={TOKEN}, chats={CHAT: "private"}, strict_ampersand=True)


@pytest.fixture
async def app(tmp_path: object) -> AsyncIterator[Application]:
    application = bootstrap(Settings(home=tmp_path, notifiers=()), repository=MemoryRepository())
    async with application.repository.unit_of_work() as uow:
        await uow.users.add(USER)
        await uow.connections.add(
            make_connection(user_id=USER.id, name="paper-1", settings={"seed": "7"})
        )
        await uow.commit()
    yield application
    await application.aclose()


async def _target(app: Application, url: str, **settings: str) -> None:
    async with app.repository.unit_of_work() as uow:
        await uow.notification_targets.add(
            make_notification_target(
                user_id=USER.id,
                settings={"chat_id": CHAT, "api_url": url, **settings},
                secrets={"bot_token": TOKEN},
            )
        )
        await uow.commit()


async def test_the_digest_of_a_cycle_reaches_the_chat(
    app: Application, fake: FakeTelegram, telegram_url: str
) -> None:
    await _target(app, telegram_url, language="fr")
    outcome = await app.cycle.run(USER.id, trigger=Trigger.SCHEDULE)

    assert outcome.run.status is RunStatus.SUCCESS
    notify = [step for step in outcome.run.steps if step.kind is TaskKind.NOTIFY]
    assert [(step.subject, step.status) for step in notify] == [("telegram", TaskStatus.SUCCESS)]
    summary, api = fake.messages(CHAT)
    assert summary.plain_text.startswith("✅ Résumé — alice\n")
    assert "paper-1 · synchronisation:" in summary.plain_text
    assert api.plain_text.startswith("Réponses des API — alice\n")
    assert "requêtes" in api.plain_text
    async with app.repository.unit_of_work() as uow:
        (stored,) = await uow.runs.list(USER.id)
    assert [step.kind for step in stored.steps].count(TaskKind.NOTIFY) == 1


async def test_a_blocked_bot_fails_the_notify_step_only(
    app: Application, fake: FakeTelegram, telegram_url: str
) -> None:
    await _target(app, telegram_url)
    fake.block(CHAT)
    outcome = await app.cycle.run(USER.id)

    assert outcome.run.status is RunStatus.SUCCESS  # the trading steps decide it
    (notify,) = [step for step in outcome.run.steps if step.kind is TaskKind.NOTIFY]
    assert notify.status is TaskStatus.FAILURE
    assert notify.error is not None
    assert "bot was blocked by the user" in notify.error
    async with app.repository.unit_of_work() as uow:
        (stored,) = await uow.runs.list(USER.id)
    assert stored.status is RunStatus.SUCCESS
    assert any(step.kind is TaskKind.NOTIFY and step.failed for step in stored.steps)


async def test_a_target_that_cannot_be_built_is_a_failed_notify_step(
    app: Application, telegram_url: str
) -> None:
    await _target(app, telegram_url, summary="loud")
    outcome = await app.cycle.run(USER.id)
    (notify,) = [step for step in outcome.run.steps if step.kind is TaskKind.NOTIFY]
    assert notify.error is not None
    assert "'summary' must be one of on, silent, off" in notify.error
    assert outcome.run.status is RunStatus.SUCCESS


async def test_a_debug_log_of_a_whole_cycle_holds_no_bot_token(
    app: Application,
    fake: FakeTelegram,
    telegram_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _target(app, telegram_url)
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "telegram"):  # as chatty as they can be
        caplog.set_level(logging.DEBUG, logger=name)
    fake.script("sendMessage")  # nothing scripted: a normal cycle
    await app.cycle.run(USER.id)
    fake.block(CHAT)
    await app.cycle.run(USER.id)  # and one whose delivery fails

    records = caplog.records
    texts = [record.getMessage() for record in records]
    texts += [record.exc_text or "" for record in records]
    assert any("HTTP Request: POST" in text for text in texts)  # httpx did log its URLs…
    assert any("/bot**********/sendMessage" in text for text in texts)  # …masked
    leaked = [text for text in texts if TOKEN in text or re.search(r"bot\d+:[\w-]{20,}", text)]
    assert leaked == []
    assert TOKEN.split(":")[1] not in caplog.text
