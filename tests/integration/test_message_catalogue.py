"""The committed message catalogue is complete and consistent: the template holds every msgid the
sources mark, every language translates every one of them (nothing fuzzy, every placeholder kept),
and each compiled .mo is its .po compiled (docs/translations.md)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from tradecore.domain.phrase import placeholders
from tradecore_adapters.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, LOCALE_DIR, translations

ROOT = Path(__file__).resolve().parents[2]
# The keywords noxfile.py's i18n session gives pybabel extract, besides Babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "phrase": None, "NC_": ((1, "c"), 2)}
TRANSLATED = [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]
# The pages' placeholders (Jinja2's newstyle gettext: ``_("Synced %(n)s trades", n=3)``).
PERCENT_PLACEHOLDER = re.compile(r"%\((\w+)\)s")

Key = tuple[str | None, str]


def _forms(value: str | Sequence[str]) -> tuple[str, ...]:
    # A msgid or msgstr as its forms: one for a sentence, several for a plural (ngettext).
    return (value,) if isinstance(value, str) else tuple(value)


def _entries(catalog: Catalog) -> dict[Key, tuple[str, ...]]:
    # Keyed by the context and the (singular) msgid, as the extractor names a message.
    return {
        (message.context, _forms(message.id)[0]): _forms(message.string)
        for message in catalog
        if message.id and not message.fuzzy
    }


def _template() -> Catalog:
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as file:
        return read_po(file)


def _po(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as file:
        return read_po(file, locale=language)


def test_the_template_holds_exactly_the_msgids_the_sources_mark() -> None:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    extracted = {
        (context, msgid if isinstance(msgid, str) else msgid[0])
        for _, _, msgid, _, context in extract_from_dir(
            ROOT / "src", method_map, options_map, keywords=KEYWORDS
        )
    }
    committed = set(_entries(_template()))
    assert extracted, "nothing extracted: is babel.cfg's python pattern right?"
    assert extracted - committed == set(), "run `nox -s i18n`: msgids missing from messages.pot"
    assert committed - extracted == set(), "run `nox -s i18n`: messages.pot has stale msgids"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_msgid_has_a_translation_that_keeps_its_placeholders(language: str) -> None:
    template = set(_entries(_template()))
    po = _po(language)
    fuzzy = [str(m.id) for m in po if m.id and m.fuzzy]
    assert fuzzy == [], f"fuzzy entries in {language}: {fuzzy}"
    translated = {m.id: _forms(m.string) for m in po if m.id and all(_forms(m.string))}
    keys = {(m.context, _forms(m.id)[0]) for m in po if m.id in translated}
    assert sorted(template - keys, key=str) == [], f"untranslated in {language}"
    for msgid, forms in translated.items():
        english = _forms(msgid)
        for text in forms:  # every plural form keeps the placeholders of the msgid's forms
            assert placeholders(text) == placeholders(english[-1]), (language, msgid, text)
            assert sorted(PERCENT_PLACEHOLDER.findall(text)) == sorted(
                PERCENT_PLACEHOLDER.findall(english[-1])
            ), (language, msgid, text)
            # The digest is Telegram HTML: the catalogue's sentences go into it unescaped.
            assert not {"<", "&"} & set(text), (language, msgid, text)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_committed_mo_is_the_po_compiled(language: str) -> None:
    po = _po(language)
    compiled = io.BytesIO()
    write_mo(compiled, po)
    compiled.seek(0)
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as file:
        committed = read_mo(file)
    assert _entries(committed) == _entries(read_mo(compiled)) == _entries(po)


def test_gettext_reads_the_installed_catalogue() -> None:
    french = translations("fr-CA")
    assert french.gettext("Summary") == "Résumé"
    assert french.pgettext("fact", "orders placed") == "ordres passés"
    assert translations("en").gettext("Summary") == "Summary"
    assert translations("de").gettext("Summary") == "Summary"  # not spoken: English
