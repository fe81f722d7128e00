"""Render a :class:`~tradecore.domain.Digest` as Telegram HTML, one list of lines per message.

Every value that comes from a run (user and connection names, figures, error texts) is first
passed through the log redaction (no token or signature shape survives) and then HTML-escaped,
so no symbol, error text or emoji can break the markup. Each line opens and closes its own tags,
so a message may be cut between any two lines.
"""

from __future__ import annotations

import html
import re

from attrs import frozen

from tradecore.domain import Digest, DigestLine, DigestSection, RunStatus, TaskStatus
from tradecore_adapters.redaction import redact
from tradecore_adapters.telegram._texts import Texts

__all__ = ["RenderedSection", "plain_text", "render_digest", "render_test_message"]

_RUN_ICON = {RunStatus.SUCCESS: "✅", RunStatus.PARTIAL: "⚠️", RunStatus.FAILURE: "❌"}
_STEP_ICON = {TaskStatus.SUCCESS: "✅", TaskStatus.FAILURE: "❌", TaskStatus.SKIPPED: "⏭️"}
_TAG = re.compile(r"<[^>]*>")


@frozen
class RenderedSection:
    """One of the digest's messages, before splitting: its section and its HTML lines."""

    section: DigestSection
    lines: tuple[str, ...]


def _text(value: object) -> str:
    return html.escape(redact(str(value)), quote=False)


def _facts(line: DigestLine, texts: Texts) -> str:
    return ", ".join(f"{_text(texts.fact(name))} {_text(value)}" for name, value in line.facts)


def _line(line: DigestLine, texts: Texts, *, with_facts: bool = True) -> str:
    head = (
        f"{_STEP_ICON[line.status]} <b>{_text(line.subject)}</b> · {_text(texts.kind(line.kind))}"
    )
    if line.status is not TaskStatus.SUCCESS:
        head += f" ({_text(texts.step_status(line.status))})"
    details = [_facts(line, texts)] if with_facts and line.facts else []
    if line.text:
        details.append(_text(texts.text(line.text)))
    return f"{head}: {' — '.join(details)}" if details else head


def _title(digest: Digest, section: DigestSection, texts: Texts) -> str:
    icon = _RUN_ICON[digest.status] + " " if section is DigestSection.SUMMARY else ""
    if section is DigestSection.ERRORS:
        icon = "❌ "
    return f"{icon}<b>{_text(texts.heading(section))} — {_text(digest.user_name)}</b>"


def _summary(digest: Digest, texts: Texts) -> list[str]:
    seconds = f"{digest.duration.total_seconds():.2f}s"
    # The sentence comes from the catalogue (trusted, and checked to hold no markup characters);
    # the values going into it are escaped.
    run = texts.run(
        run=f"<code>{_text(digest.run_id[:8])}</code>",
        trigger=_text(texts.trigger(digest.trigger)),
        status=f"<b>{_text(texts.run_status(digest.status))}</b>",
        duration=_text(seconds),
    )
    totals = " · ".join(
        f"{_text(texts.fact(name))} {_text(value)}"
        for name, value in digest.totals
        if name != "duration"  # already on the run line
    )
    # A failed step's reason is in the errors message; the summary shows its status only.
    return [run, totals, *(_line(line, texts) for line in digest.summary)]


def render_digest(digest: Digest, texts: Texts) -> tuple[RenderedSection, ...]:
    """The digest's messages in sending order: summary, API responses, and errors when any."""
    rendered = []
    for section, lines in digest.sections():
        if section is DigestSection.SUMMARY:
            body = _summary(digest, texts)
        elif section is DigestSection.API:
            body = [_line(line, texts) for line in lines] or [_text(texts.no_api_calls)]
        else:
            body = [_line(line, texts, with_facts=False) for line in lines]
        rendered.append(RenderedSection(section, (_title(digest, section, texts), *body)))
    return tuple(rendered)


def render_test_message(user_name: str, texts: Texts) -> str:
    """The text of ``tradecore notify test``, as HTML."""
    return f"🔔 {_text(texts.test_message(user_name))}"


def plain_text(markup: str) -> str:
    """``markup`` without its tags and with its entities decoded: what the reader sees.

    Exact for what this module renders, where every ``<`` and ``&`` of a value is escaped.
    """
    return html.unescape(_TAG.sub("", markup))
