"""The words of a digest in the target's language, from tradecore's one message catalogue.

A Telegram target's ``language`` setting picks the catalogue; the words themselves (headings,
statuses, step kinds, figure names, and the phrases of notes and errors) are msgids of
:mod:`tradecore_adapters.i18n`, shared with the web pages. A figure a plugin reports that has no
translation reads as its name with spaces (``orders_open`` → ``orders open``), in every language.
"""

from __future__ import annotations

from tradecore_adapters.telegram.config import Language
from tradecore_adapters.vocabulary import Vocabulary, vocabulary

__all__ = ["Texts", "texts_for"]

Texts = Vocabulary
"""The words of a digest in one language."""


def texts_for(language: Language) -> Texts:
    """The words of ``language``."""
    return vocabulary(language.value)
