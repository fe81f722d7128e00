"""tradecore's one message catalogue: the languages it speaks and their gettext translations.

Every sentence a person reads (the Telegram digest, and the web pages) is written in English in
the code, marked for the extractor (``phrase("…")`` in the core and the built-in plugins,
``_("…")``/``N_("…")`` in the adapters, ``{% trans %}``/``_()`` in templates), and translated by
one gettext catalogue, domain :data:`DOMAIN`, kept in ``tradecore_adapters/locale``:
``messages.pot`` (every msgid) and ``<language>/LC_MESSAGES/messages.po`` and ``.mo`` for each
language but English, which is the msgids themselves. docs/translations.md says how to update it
and how to add a language.

A front end gets a language's catalogue with :func:`translations` (for Jinja2:
``env.install_gettext_translations(translations(language), newstyle=True)``) and picks the
language with :func:`choose_language`.
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "choose_language",
    "translations",
]

DOMAIN = "messages"
"""The gettext domain of every msgid (Babel's default): ``locale/<lang>/LC_MESSAGES/messages.mo``."""

LANGUAGES: tuple[str, ...] = ("en", "fr")
"""The languages tradecore speaks, as lowercase ISO 639-1 codes; English first (the msgids)."""

DEFAULT_LANGUAGE = "en"
"""The language of the msgids, used when nothing better is known."""

LOCALE_DIR = Path(__file__).parent / "locale"
"""Where the catalogue lives, inside the installed package."""


def _supported(language: str) -> str | None:
    # "fr", "FR", "fr-CA", "fr_BE.UTF-8" all mean French; None when not one of LANGUAGES.
    base = language.strip().replace("_", "-").split("-")[0].split(".")[0].lower()
    return base if base in LANGUAGES else None


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of ``language`` (``"fr"``, ``"fr-CA"``…), read once and then shared.

    English, and any language tradecore does not speak, is the msgids themselves
    (:class:`gettext.NullTranslations`), so ``gettext`` always answers something readable.

    :raises FileNotFoundError: a supported language's compiled ``.mo`` is missing from the
        installation (a broken package, never a user's mistake).
    """
    chosen = _supported(language)
    if chosen is None or chosen == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[chosen])


def choose_language(stored: str | None = None, accept_language: str | None = None) -> str:
    """The language to speak to someone: their stored choice, else their browser's preference.

    :param stored: the language the user chose (a per-user setting), if any and supported.
    :param accept_language: the browser's ``Accept-Language`` header
        (``"fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5"``): the supported language with the highest
        ``q`` wins, the earlier one on a tie; ``q=0`` means "not this one".
    :returns: one of :data:`LANGUAGES`; :data:`DEFAULT_LANGUAGE` when nothing matches.
    """
    if stored and (chosen := _supported(stored)) is not None:
        return chosen
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, rest = item.partition(";")
        quality = 1.0
        if rest.strip().startswith("q="):
            try:
                quality = float(rest.strip()[2:])
            except ValueError:
                continue
        language = _supported(tag)
        if language is None or quality <= 0:
            continue
        if best is None or (quality, -position) > (best[0], best[1]):
            best = (quality, -position, language)
    return best[2] if best is not None else DEFAULT_LANGUAGE
