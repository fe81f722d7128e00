"""The console notifier prints the summary, the API responses, and errors only when there are any."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from tradecore.domain import AutomationRun, Digest, TaskKind, TaskResult, TaskStatus, Trigger
from tradecore.errors import NotificationError
from tradecore.plugins import NotifierContext, PluginRegistry, get_plugin_manager
from tradecore.testing import FakeClock
from tradecore_adapters.console import plugin
from tradecore_adapters.console.notifier import ConsoleNotifier

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def digest(*failed: str) -> Digest:
    steps = [
        TaskResult(
            kind=TaskKind.SYNC,
            subject="paper-demo",
            status=TaskStatus.SUCCESS,
            started_at=NOW,
            duration=timedelta(seconds=1),
            counts={"positions": 4, "trades_new": 12},
            api={"requests": "5"},
        )
    ]
    steps += [
        TaskResult(
            kind=TaskKind.SYNC,
            subject=name,
            status=TaskStatus.FAILURE,
            started_at=NOW,
            duration=timedelta(seconds=1),
            error="BrokerUnavailable: maintenance",
        )
        for name in failed
    ]
    run = AutomationRun(user_id="u1", trigger=Trigger.MANUAL, started_at=NOW)
    run.finish(NOW + timedelta(seconds=2), steps)
    return Digest.from_run(run, user_name="demo")


async def test_a_clean_run_prints_the_summary_and_api_sections_only() -> None:
    out = io.StringIO()
    await ConsoleNotifier(out).send(digest())
    text = out.getvalue()
    assert "Summary — demo" in text
    assert "SUCCESS" in text
    assert "positions: 4" in text
    assert "trades new: 12" in text
    assert "API responses — demo" in text
    assert "requests: 5" in text
    assert "Errors" not in text


async def test_a_failed_step_adds_the_errors_section_with_its_reason() -> None:
    out = io.StringIO()
    await ConsoleNotifier(out).send(digest("binance-main"))
    text = out.getvalue()
    assert "PARTIAL" in text
    errors = text[text.index("Errors — demo") :]
    assert "binance-main" in errors
    assert "BrokerUnavailable: maintenance" in errors


async def test_an_unwritable_stream_is_a_notification_error() -> None:
    out = io.StringIO()
    out.close()
    with pytest.raises(NotificationError, match="cannot write the digest"):
        await ConsoleNotifier(out).send(digest())


def test_the_plugin_registers_console_and_builds_it_with_the_stream() -> None:
    registry = PluginRegistry.from_manager(
        get_plugin_manager(load_entrypoints=False, plugins=[("console", plugin)])
    )
    out = io.StringIO()
    notifier = registry.notifier("console").create(NotifierContext(clock=FakeClock(), stream=out))
    assert notifier.name == "console"
    assert isinstance(notifier, ConsoleNotifier)


async def test_names_and_errors_that_look_like_markup_are_printed_literally() -> None:
    steps = [
        TaskResult(
            kind=TaskKind.SYNC,
            subject="[link=http://e]x[/link]",
            status=TaskStatus.FAILURE,
            started_at=NOW,
            duration=timedelta(seconds=1),
            error="[b]no[/] :smile:",
        )
    ]
    run = AutomationRun(user_id="u1", trigger=Trigger.MANUAL, started_at=NOW)
    run.finish(NOW + timedelta(seconds=2), steps)
    out = io.StringIO()
    await ConsoleNotifier(out).send(Digest.from_run(run, user_name="[/]"))
    text = out.getvalue()
    assert "Summary — [/]" in text
    assert "[link=http://e]x[/link]" in text
    assert "[b]no[/] :smile:" in text
