"""The words of a run in one language: headings, statuses, step kinds, triggers, figure names.

They are msgids of the one catalogue (:mod:`tradecore_adapters.i18n`), so the Telegram digest
and the web pages say a step or a figure the same way. A figure a plugin reports that the
catalogue does not know reads as its name with spaces (``orders_open`` → ``orders open``) in every
language, and plain-text notes (a third-party strategy's) are shown as written.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping

from attrs import frozen

from tradecore.domain import (
    DigestSection,
    RunStatus,
    TaskKind,
    TaskStatus,
    Trigger,
    Wording,
    fact_label,
    render_wording,
)
from tradecore_adapters.i18n import translations

__all__ = ["FACT_CONTEXT", "Vocabulary", "vocabulary"]

FACT_CONTEXT = "fact"
"""The msgctxt of figure names (``rejected`` orders counted, not an order's status)."""


def N_(msgid: str) -> str:
    """Mark ``msgid`` for the extractor; translated where it is shown."""
    return msgid


def NC_(context: str, msgid: str) -> str:
    """Mark ``msgid`` in ``context`` for the extractor (``pgettext`` translates it)."""
    del context
    return msgid


_HEADINGS = {
    DigestSection.SUMMARY: N_("Summary"),
    DigestSection.API: N_("API responses"),
    DigestSection.ERRORS: N_("Errors"),
}
_RUN_STATUSES = {
    RunStatus.SUCCESS: N_("SUCCESS"),
    RunStatus.PARTIAL: N_("PARTIAL"),
    RunStatus.FAILURE: N_("FAILURE"),
}
_STEP_STATUSES = {
    TaskStatus.SUCCESS: N_("ok"),
    TaskStatus.FAILURE: N_("failed"),
    TaskStatus.SKIPPED: N_("skipped"),
}
_KINDS = {
    TaskKind.TOKEN_REFRESH: N_("token refresh"),
    TaskKind.SYNC: N_("sync"),
    TaskKind.RECONCILE: N_("order check"),
    TaskKind.STRATEGY: N_("strategy"),
    TaskKind.NOTIFY: N_("notification"),
    TaskKind.LEASE: N_("lease"),
}
_TRIGGERS = {
    Trigger.SCHEDULE: N_("scheduled"),
    Trigger.MANUAL: N_("manual"),
    Trigger.CRON: N_("cron"),
}
# The figures the core and the built-in plugins report, by name. A name missing here reads as
# itself with spaces, untranslated.
_FACTS: Mapping[str, str] = {
    "connections": NC_("fact", "connections"),
    "accounts": NC_("fact", "accounts"),
    "positions": NC_("fact", "positions"),
    "trades_new": NC_("fact", "new trades"),
    "trades_seen": NC_("fact", "trades seen"),
    "strategies": NC_("fact", "strategies"),
    "intents": NC_("fact", "intents"),
    "blocked": NC_("fact", "blocked"),
    "would_place": NC_("fact", "would place"),
    "orders_placed": NC_("fact", "orders placed"),
    "orders_checked": NC_("fact", "orders checked"),
    "orders_updated": NC_("fact", "orders updated"),
    "orders_unresolved": NC_("fact", "orders unresolved"),
    "orders_not_placed": NC_("fact", "orders not placed"),
    "rejected": NC_("fact", "rejected"),
    "unknown": NC_("fact", "outcome unknown"),
    "pending_submit": NC_("fact", "not sent"),
    "duration": NC_("fact", "duration"),
    "requests": NC_("fact", "requests"),
    "retries": NC_("fact", "retries"),
    "clock_offset_ms": NC_("fact", "clock offset (ms)"),
    "used_weight": NC_("fact", "weight used"),
    "rate_limit_left": NC_("fact", "rate limit left"),
    "throttled_s": NC_("fact", "waited for limits (s)"),
    "token_refreshes": NC_("fact", "token refreshes"),
    "refreshed": NC_("fact", "token refreshed"),
    "digests": NC_("fact", "digests"),
}


@frozen
class Vocabulary:
    """The words of a run in the language of ``translations`` (a catalogue of :func:`translations`)."""

    translations: gettext.NullTranslations

    def gettext(self, msgid: str) -> str:
        """``msgid`` in this language (itself when the catalogue does not have it)."""
        return self.translations.gettext(msgid)

    def heading(self, section: DigestSection) -> str:
        """``Summary``, ``API responses`` or ``Errors``."""
        return self.gettext(_HEADINGS[section])

    def run_status(self, status: RunStatus) -> str:
        """``SUCCESS``, ``PARTIAL`` or ``FAILURE``."""
        return self.gettext(_RUN_STATUSES[status])

    def step_status(self, status: TaskStatus) -> str:
        """``ok``, ``failed`` or ``skipped``."""
        return self.gettext(_STEP_STATUSES[status])

    def kind(self, kind: TaskKind) -> str:
        """What a step does: ``sync``, ``strategy``…"""
        return self.gettext(_KINDS[kind])

    def trigger(self, trigger: Trigger) -> str:
        """What started a run: ``scheduled``, ``manual`` or ``cron``."""
        return self.gettext(_TRIGGERS[trigger])

    def fact(self, name: str) -> str:
        """How the figure ``name`` reads (``trades_new`` → ``new trades``)."""
        label = _FACTS.get(name)
        if label is None:
            return fact_label(name)
        return self.translations.pgettext(FACT_CONTEXT, label)

    def text(self, value: Wording) -> str:
        """A note or an error: a phrase in this language, plain text as written."""
        return render_wording(value, self.gettext)

    def run(self, *, run: str, trigger: str, status: str, duration: str) -> str:
        """The summary's first line: ``Run 1a2b3c4d (manual): SUCCESS in 0.52s``."""
        return self.gettext("Run {run} ({trigger}): {status} in {duration}").format(
            run=run, trigger=trigger, status=status, duration=duration
        )

    @property
    def no_api_calls(self) -> str:
        """What the API section says when no step reported a figure."""
        return self.gettext("(no API calls reported)")

    def test_message(self, user: str) -> str:
        """The text of ``tradecore notify test`` for ``user``."""
        return self.gettext(
            "Test message from tradecore for {user}: notifications reach this chat."
        ).format(user=user)


def vocabulary(language: str) -> Vocabulary:
    """The words of a run in ``language`` (``"en"``, ``"fr"``…; English when not supported)."""
    return Vocabulary(translations(language))
