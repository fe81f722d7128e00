"""Which language to speak (a stored choice, else the browser's preference) and the words of a run
in each language: one catalogue for the digest and the pages (docs/translations.md)."""

from __future__ import annotations

import pytest

from tradecore.domain import RunStatus, TaskKind, TaskStatus, Trigger, phrase
from tradecore_adapters.i18n import LANGUAGES, choose_language
from tradecore_adapters.telegram.config import Language
from tradecore_adapters.vocabulary import vocabulary


@pytest.mark.parametrize(
    ("stored", "accept", "expected"),
    [
        ("fr", "en-US,en;q=0.9", "fr"),  # the user's choice wins
        ("FR-ca", None, "fr"),
        ("de", "fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5", "fr"),  # not spoken: the browser's then
        (None, "de-DE,de;q=0.9,en;q=0.4,fr;q=0.7", "fr"),  # the highest q tradecore speaks
        (None, "fr;q=0.5,en;q=0.5", "fr"),  # a tie: the earlier one
        (None, "en;q=0,fr;q=0.1", "fr"),  # q=0 means "not this one"
        (None, "fr;q=0", "en"),
        (None, "de, it", "en"),
        (None, "fr;q=oops, en", "en"),  # a malformed entry is skipped
        (None, "", "en"),
        (None, None, "en"),
    ],
)
def test_the_language_is_the_stored_choice_else_the_browsers_preference(
    stored: str | None, accept: str | None, expected: str
) -> None:
    assert choose_language(stored, accept) == expected


def test_the_telegram_setting_offers_exactly_the_languages_of_the_catalogue() -> None:
    assert tuple(language.value for language in Language) == LANGUAGES


def test_every_word_of_a_run_has_a_french_translation() -> None:
    english, french = vocabulary("en"), vocabulary("fr")
    for words in (
        [(english.kind(k), french.kind(k)) for k in TaskKind],
        [(english.step_status(s), french.step_status(s)) for s in TaskStatus],
        [(english.run_status(s), french.run_status(s)) for s in RunStatus],
        [(english.trigger(t), french.trigger(t)) for t in Trigger],
    ):
        # Every member has a word, and the French differs except where French says it the same.
        assert all(en and fr for en, fr in words)
    assert french.kind(TaskKind.SYNC) == "synchronisation"
    assert french.fact("intents") == "intentions"
    assert french.fact("rejected") == "rejetés"  # a count of orders…
    assert french.text(phrase("rejected")) == "rejeté"  # …and an order's status
    assert french.fact("orders_open") == english.fact("orders_open") == "orders open"
    assert french.text("a plugin's own words") == "a plugin's own words"
