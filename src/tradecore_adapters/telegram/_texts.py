"""The words of a digest in each language: headings, statuses and the names of the figures.

A figure a plugin reports that has no translation reads as its name with spaces
(``orders_open`` → ``orders open``), in every language.
"""

from __future__ import annotations

from collections.abc import Mapping

from attrs import frozen

from tradecore.domain import DigestSection, RunStatus, TaskKind, TaskStatus, Trigger, fact_label
from tradecore_adapters.telegram.config import Language

__all__ = ["Texts", "texts_for"]


@frozen(kw_only=True)
class Texts:
    """The fixed words of a digest in one language."""

    headings: Mapping[DigestSection, str]
    run_statuses: Mapping[RunStatus, str]
    step_statuses: Mapping[TaskStatus, str]
    kinds: Mapping[TaskKind, str]
    triggers: Mapping[Trigger, str]
    facts: Mapping[str, str]
    run: str  # "Run {run} ({trigger}): {status} in {duration}"
    no_api_calls: str
    test_message: str  # "{user}"

    def fact(self, name: str) -> str:
        """How the figure ``name`` reads."""
        return self.facts.get(name, fact_label(name))


_ENGLISH = Texts(
    headings={
        DigestSection.SUMMARY: "Summary",
        DigestSection.API: "API responses",
        DigestSection.ERRORS: "Errors",
    },
    run_statuses={
        RunStatus.SUCCESS: "SUCCESS",
        RunStatus.PARTIAL: "PARTIAL",
        RunStatus.FAILURE: "FAILURE",
    },
    step_statuses={
        TaskStatus.SUCCESS: "ok",
        TaskStatus.FAILURE: "failed",
        TaskStatus.SKIPPED: "skipped",
    },
    kinds={
        TaskKind.TOKEN_REFRESH: "token refresh",
        TaskKind.SYNC: "sync",
        TaskKind.RECONCILE: "order check",
        TaskKind.STRATEGY: "strategy",
        TaskKind.NOTIFY: "notification",
    },
    triggers={Trigger.SCHEDULE: "scheduled", Trigger.MANUAL: "manual", Trigger.CRON: "cron"},
    facts={
        "trades_new": "new trades",
        "trades_seen": "trades seen",
        "orders_placed": "orders placed",
        "clock_offset_ms": "clock offset (ms)",
        "used_weight": "weight used",
        "rate_limit_left": "rate limit left",
        "throttled_s": "waited for limits (s)",
        "token_refreshes": "token refreshes",
        "refreshed": "token refreshed",
    },
    run="Run {run} ({trigger}): {status} in {duration}",
    no_api_calls="(no API calls reported)",
    test_message="Test message from tradecore for {user}: notifications reach this chat.",
)

_FRENCH = Texts(
    headings={
        DigestSection.SUMMARY: "Résumé",
        DigestSection.API: "Réponses des API",
        DigestSection.ERRORS: "Erreurs",
    },
    run_statuses={
        RunStatus.SUCCESS: "SUCCÈS",
        RunStatus.PARTIAL: "PARTIEL",
        RunStatus.FAILURE: "ÉCHEC",
    },
    step_statuses={
        TaskStatus.SUCCESS: "ok",
        TaskStatus.FAILURE: "échec",
        TaskStatus.SKIPPED: "ignoré",
    },
    kinds={
        TaskKind.TOKEN_REFRESH: "renouvellement du jeton",
        TaskKind.SYNC: "synchronisation",
        TaskKind.RECONCILE: "suivi des ordres",
        TaskKind.STRATEGY: "stratégie",
        TaskKind.NOTIFY: "notification",
    },
    triggers={Trigger.SCHEDULE: "planifiée", Trigger.MANUAL: "manuelle", Trigger.CRON: "cron"},
    facts={
        "connections": "connexions",
        "positions": "positions",
        "accounts": "comptes",
        "trades_new": "nouvelles transactions",
        "trades_seen": "transactions lues",
        "strategies": "stratégies",
        "orders_placed": "ordres passés",
        "orders_checked": "ordres vérifiés",
        "orders_updated": "ordres mis à jour",
        "orders_unresolved": "ordres non résolus",
        "duration": "durée",
        "requests": "requêtes",
        "retries": "nouvelles tentatives",
        "clock_offset_ms": "décalage d'horloge (ms)",
        "used_weight": "poids utilisé",
        "rate_limit_left": "quota restant",
        "throttled_s": "attente des limites (s)",
        "token_refreshes": "renouvellements de jeton",
        "refreshed": "jeton renouvelé",
        "digests": "résumés",
    },
    run="Exécution {run} ({trigger}) : {status} en {duration}",
    no_api_calls="(aucun appel d'API signalé)",
    test_message="Message de test de tradecore pour {user} : les notifications arrivent ici.",
)

_TEXTS = {Language.EN: _ENGLISH, Language.FR: _FRENCH}


def texts_for(language: Language) -> Texts:
    """The words of ``language``."""
    return _TEXTS[language]
