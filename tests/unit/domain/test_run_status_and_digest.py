"""The status rule and the three-part digest."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradecore.domain import (
    AutomationRun,
    Digest,
    DigestSection,
    RunStatus,
    TaskKind,
    TaskResult,
    TaskStatus,
    Trigger,
    client_order_id_for,
    render_plain,
    run_status,
)
from tradecore.errors import DomainError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def step(
    kind: TaskKind, status: TaskStatus, subject: str = "binance-main", **extra: object
) -> TaskResult:
    error = "BrokerUnavailable: down" if status is TaskStatus.FAILURE else None
    return TaskResult(
        kind=kind,
        subject=subject,
        status=status,
        started_at=NOW,
        duration=timedelta(seconds=1),
        error=extra.pop("error", error),  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


S, F, K = TaskStatus.SUCCESS, TaskStatus.FAILURE, TaskStatus.SKIPPED


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([S, S, S], RunStatus.SUCCESS),
        ([S, F, S], RunStatus.PARTIAL),
        ([F, F], RunStatus.FAILURE),
        ([F, K], RunStatus.FAILURE),
        ([S, K], RunStatus.SUCCESS),
        ([], RunStatus.SUCCESS),
    ],
)
def test_status_rule(statuses: list[TaskStatus], expected: RunStatus) -> None:
    assert run_status(step(TaskKind.SYNC, status) for status in statuses) is expected


def test_a_failed_notification_never_changes_the_status() -> None:
    steps = [step(TaskKind.SYNC, S), step(TaskKind.NOTIFY, F, subject="telegram")]
    assert run_status(steps) is RunStatus.SUCCESS
    run = AutomationRun(user_id="u1", trigger=Trigger.SCHEDULE, started_at=NOW)
    run.finish(NOW + timedelta(seconds=3), [step(TaskKind.SYNC, S)])
    run.add_step(step(TaskKind.NOTIFY, F, subject="telegram"))
    assert run.status is RunStatus.SUCCESS
    assert run.duration == timedelta(seconds=3)


@given(st.lists(st.sampled_from([S, F, K]), max_size=12))
def test_status_rule_property(statuses: list[TaskStatus]) -> None:
    status = run_status(step(TaskKind.STRATEGY, s) for s in statuses)
    if F not in statuses:
        assert status is RunStatus.SUCCESS
    elif S in statuses:
        assert status is RunStatus.PARTIAL
    else:
        assert status is RunStatus.FAILURE


def test_a_failed_step_must_say_why() -> None:
    with pytest.raises(DomainError, match="must say why"):
        step(TaskKind.SYNC, F, error=None)


def test_a_run_cannot_finish_before_it_started() -> None:
    run = AutomationRun(user_id="u1", trigger="cron", started_at=NOW)
    with pytest.raises(DomainError):
        run.finish(NOW - timedelta(seconds=1), [])


def finished_run(*steps: TaskResult) -> AutomationRun:
    run = AutomationRun(user_id="u1", trigger=Trigger.SCHEDULE, started_at=NOW)
    run.finish(NOW + timedelta(seconds=2), steps)
    return run


def test_digest_without_errors_has_two_sections() -> None:
    run = finished_run(
        step(TaskKind.SYNC, S, counts={"positions": 3, "trades_new": 5}, api={"requests": "4"}),
    )
    digest = Digest.from_run(run, user_name="alice")
    assert [section for section, _ in digest.sections()] == [
        DigestSection.SUMMARY,
        DigestSection.API,
    ]
    assert dict(digest.totals)["positions"] == "3"
    assert dict(digest.totals)["trades_new"] == "5"
    assert dict(digest.summary[0].facts) == {"positions": "3", "trades_new": "5"}
    assert dict(digest.api[0].facts) == {"requests": "4"}
    messages = render_plain(digest)
    assert len(messages) == 2
    assert "positions 3" in messages[0]
    assert "requests 4" in messages[1]


def test_digest_with_a_failure_has_an_errors_section_naming_the_step() -> None:
    run = finished_run(
        step(TaskKind.SYNC, S, subject="paper", counts={"positions": 1}),
        step(TaskKind.SYNC, F, subject="saxo-live", error="AuthenticationFailed: log in again"),
    )
    digest = Digest.from_run(run, user_name="alice")
    assert digest.status is RunStatus.PARTIAL
    assert [section for section, _ in digest.sections()][-1] is DigestSection.ERRORS
    assert [(line.subject, line.text) for line in digest.errors] == [
        ("saxo-live", "AuthenticationFailed: log in again")
    ]
    assert dict(digest.totals)["connections"] == "1/2"
    assert "saxo-live" in render_plain(digest)[2]


def test_digest_needs_a_finished_run() -> None:
    with pytest.raises(DomainError):
        Digest.from_run(
            AutomationRun(user_id="u1", trigger="manual", started_at=NOW), user_name="a"
        )


BINANCE_CLIENT_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")


@given(st.text(min_size=1, max_size=200))
def test_client_order_ids_are_deterministic_and_valid_for_binance_and_saxo(key: str) -> None:
    client_id = client_order_id_for(key)
    assert client_id == client_order_id_for(key)
    assert BINANCE_CLIENT_ID.match(client_id)
    assert len(client_id) <= 50


@given(st.lists(st.text(min_size=1, max_size=40), min_size=2, max_size=50, unique=True))
def test_different_intents_get_different_client_ids(keys: list[str]) -> None:
    assert len({client_order_id_for(key) for key in keys}) == len(keys)
