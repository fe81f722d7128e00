"""What a cycle reports: the :class:`Digest`, as structured lines that notifiers render for their medium.

A digest has three sections, sent in this order: the summary, the API responses, and the errors
(present only when a step failed).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from attrs import field, frozen

from tradecore.domain._checks import non_empty, utc
from tradecore.domain.automation import (
    AutomationRun,
    RunStatus,
    TaskKind,
    TaskResult,
    TaskStatus,
    Trigger,
)
from tradecore.domain.phrase import Wording, joined
from tradecore.errors import DomainError

__all__ = ["Digest", "DigestLine", "DigestSection", "fact_label", "render_plain"]

Facts = tuple[tuple[str, str], ...]


def _to_facts(value: Iterable[tuple[str, str]]) -> Facts:
    return tuple((str(name), str(text)) for name, text in value)


class DigestSection(enum.StrEnum):
    """The three parts of a digest, in sending order."""

    SUMMARY = "summary"
    API = "api"
    ERRORS = "errors"

    @property
    def heading(self) -> str:
        """The heading a notifier shows: ``Summary``, ``API responses`` or ``Errors``."""
        return {"summary": "Summary", "api": "API responses", "errors": "Errors"}[self.value]


def fact_label(name: str) -> str:
    """How a fact's name reads to a person: ``trades_new`` becomes ``trades new``."""
    return name.replace("_", " ")


@frozen(kw_only=True)
class DigestLine:
    """One line of a digest section: a step's subject, its status and its facts in order.

    :param facts: ``(name, value)`` pairs, values already formatted as text.
    :param text: free text (the error of a failed step, the notes of another), plain or a
        translatable :class:`~tradecore.domain.Phrase`.
    """

    kind: TaskKind = field(converter=TaskKind)
    subject: str = field(validator=non_empty)
    status: TaskStatus = field(converter=TaskStatus)
    facts: Facts = field(default=(), converter=_to_facts)
    text: Wording | None = None


def _to_lines(value: Iterable[DigestLine]) -> tuple[DigestLine, ...]:
    return tuple(value)


def _facts(mapping: Mapping[str, object]) -> Facts:
    return tuple((name, str(value)) for name, value in mapping.items())


def _seconds(duration: timedelta) -> str:
    return f"{duration.total_seconds():.2f}s"


@frozen(kw_only=True)
class Digest:
    """A cycle's report. Build it with :meth:`from_run`.

    :param totals: the figures of the summary's headline (connections synced, trades…).
    """

    user_name: str = field(validator=non_empty)
    run_id: str = field(validator=non_empty)
    trigger: Trigger = field(converter=Trigger)
    status: RunStatus = field(converter=RunStatus)
    started_at: datetime = field(converter=utc)
    duration: timedelta
    totals: Facts = field(default=(), converter=_to_facts)
    summary: tuple[DigestLine, ...] = field(default=(), converter=_to_lines)
    api: tuple[DigestLine, ...] = field(default=(), converter=_to_lines)
    errors: tuple[DigestLine, ...] = field(default=(), converter=_to_lines)

    @classmethod
    def from_run(cls, run: AutomationRun, *, user_name: str) -> Digest:
        """Build the digest of a finished run."""
        if run.status is None or run.duration is None:
            raise DomainError("a digest needs a finished run")
        steps = [step for step in run.steps if step.kind is not TaskKind.NOTIFY]
        return cls(
            user_name=user_name,
            run_id=run.id,
            trigger=run.trigger,
            status=run.status,
            started_at=run.started_at,
            duration=run.duration,
            totals=_totals(steps, run.duration),
            summary=tuple(
                _line(step, _facts(step.counts), text=joined(step.notes) or None) for step in steps
            ),
            api=tuple(
                _line(step, _facts(step.api))
                for step in steps
                if step.api or step.kind is TaskKind.TOKEN_REFRESH  # refreshed, or not
            ),
            errors=tuple(_line(step, (), text=step.error) for step in steps if step.failed),
        )

    def sections(self) -> tuple[tuple[DigestSection, tuple[DigestLine, ...]], ...]:
        """The sections to send, in order; the errors section only when there are errors."""
        parts = [(DigestSection.SUMMARY, self.summary), (DigestSection.API, self.api)]
        if self.errors:
            parts.append((DigestSection.ERRORS, self.errors))
        return tuple(parts)


def _line(step: TaskResult, facts: Facts, *, text: Wording | None = None) -> DigestLine:
    return DigestLine(
        kind=step.kind, subject=step.subject, status=step.status, facts=facts, text=text
    )


def _totals(steps: list[TaskResult], duration: timedelta) -> Facts:
    syncs = [step for step in steps if step.kind is TaskKind.SYNC]
    strategies = [step for step in steps if step.kind is TaskKind.STRATEGY]

    def total(key: str) -> int:
        return sum(step.counts.get(key, 0) for step in steps)

    ok_syncs = sum(1 for step in syncs if step.status is TaskStatus.SUCCESS)
    return (
        ("connections", f"{ok_syncs}/{len(syncs)}"),
        ("positions", str(total("positions"))),
        ("trades_new", str(total("trades_new"))),
        ("strategies", str(len(strategies))),
        ("orders_placed", str(total("orders_placed"))),
        ("duration", _seconds(duration)),
    )


def _render_line(line: DigestLine) -> str:
    facts = ", ".join(f"{fact_label(name)} {value}" for name, value in line.facts)
    head = f"- {line.subject} [{line.kind.value}] {line.status.value}"
    detail = ": ".join(part for part in (facts, str(line.text or "")) if part)
    return f"{head}: {detail}" if detail else head


def render_plain(digest: Digest) -> tuple[str, ...]:
    """Render a digest as plain-text messages, one per section, in sending order."""
    messages = []
    for section, lines in digest.sections():
        title = f"{section.heading} — {digest.user_name}"
        if section is DigestSection.SUMMARY:
            headline = ", ".join(f"{fact_label(name)} {value}" for name, value in digest.totals)
            body = [
                f"Run {digest.run_id[:8]} ({digest.trigger.value}): {digest.status.value.upper()}",
                headline,
                *(_render_line(line) for line in lines),
            ]
        else:
            body = [_render_line(line) for line in lines] or ["(no API calls reported)"]
        messages.append("\n".join([title, *body]))
    return tuple(messages)
