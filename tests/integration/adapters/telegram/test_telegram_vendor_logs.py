"""python-telegram-bot's own log records: a proxy's 502 page (HTML, not JSON) made it log the page
and a traceback at ERROR on every attempt. At the default level each such record is one line now,
without the page; at DEBUG the whole of it follows, masked like everything else."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from tests.fakes.telegram_faults import proxy_error
from tests.fakes.telegram_server import FakeTelegram
from tests.integration.adapters.telegram.conftest import TOKEN, MakeNotifier

from tradecore.domain import Digest
from tradecore.errors import NotificationError
from tradecore.testing.builders import DEFAULT_TIME, make_run, make_task_result
from tradecore_adapters.logging_setup import configure_logging

pytestmark = pytest.mark.asyncio

VENDOR = "telegram.request.BaseRequest"
PAGE_BITS = ("<html>", "<title>", "502 Bad Gateway</title>", "nginx", "<center>")


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    yield stream
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def _digest() -> Digest:
    run = make_run(started_at=DEFAULT_TIME)
    run.finish(DEFAULT_TIME + timedelta(seconds=1), [make_task_result(subject="main")])
    return Digest.from_run(run, user_name="alice")


async def _fail_three_times(fake: FakeTelegram, make_notifier: MakeNotifier) -> None:
    fake.script("sendMessage", proxy_error(502), proxy_error(502), proxy_error(502))
    with pytest.raises(NotificationError, match="after 3 attempts") as failed:
        await make_notifier(api="off").send(_digest())
    assert fake.count("sendMessage", status=502) == 3
    assert str(failed.value) == (
        "Telegram could not be reached for chat 42 after 3 attempts: Bad Gateway (502) and not "
        "the Bot API's JSON (a proxy's page?) (0 of 1 messages delivered)"
    )


async def test_a_proxy_502_is_one_line_per_attempt_without_page_or_traceback(
    fake: FakeTelegram, make_notifier: MakeNotifier, log: io.StringIO
) -> None:
    configure_logging("INFO", stream=log)
    await _fail_three_times(fake, make_notifier)
    lines = log.getvalue().splitlines()
    vendor = [line for line in lines if f" {VENDOR} " in line]
    assert len(vendor) == 3, log.getvalue()  # python-telegram-bot did log each attempt...
    for line in vendor:  # ...as one line, its own words, the page left out
        assert " ERROR " in line
        assert line.endswith('Can not load invalid JSON data: "…" (JSONDecodeError)')
    text = log.getvalue()
    assert "Traceback" not in text
    for bit in PAGE_BITS:
        assert bit not in text
    assert TOKEN.split(":")[1] not in text


async def test_at_debug_the_details_follow_masked(
    fake: FakeTelegram, make_notifier: MakeNotifier, log: io.StringIO
) -> None:
    configure_logging("DEBUG", stream=log)
    await _fail_three_times(fake, make_notifier)
    text = log.getvalue()
    details = [line for line in text.splitlines() if "DEBUG" in line and "details of" in line]
    assert len(details) == 3
    assert "502 Bad Gateway</title>" in text  # the page, at DEBUG only
    assert "Traceback" in text
    assert TOKEN.split(":")[1] not in text
    errors = [line for line in text.splitlines() if line.split(" ")[1:2] == ["ERROR"]]
    assert len(errors) == 3
    assert all("<" not in line for line in errors)


async def test_any_handler_gets_the_short_line_once_the_notifier_exists(
    fake: FakeTelegram, make_notifier: MakeNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    # No configure_logging: an application's own handler (here pytest's) sees the short form.
    caplog.set_level(logging.INFO)
    await _fail_three_times(fake, make_notifier)
    records = [record for record in caplog.records if record.name == VENDOR]
    assert len(records) == 3
    for record in records:
        assert record.exc_info is None
        assert record.getMessage() == 'Can not load invalid JSON data: "…" (JSONDecodeError)'
