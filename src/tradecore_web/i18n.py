"""The language of a page: the user's choice (a cookie set by the language switch), else the
browser's ``Accept-Language``, else English. The words come from the project's one gettext
catalogue, shared with the Telegram digest."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from litestar.connection import ASGIConnection

__all__ = [
    "LANGUAGES",
    "LANGUAGE_COOKIE",
    "choose_language",
    "current_gettext",
    "current_language",
    "current_ngettext",
    "speaking",
]

LANGUAGES = ("en", "fr")
"""The languages of the pages, the first being the default."""

LANGUAGE_COOKIE = "tradecore_lang"

_current: ContextVar[str] = ContextVar("tradecore_web_language", default=LANGUAGES[0])


def _translations(language: str) -> gettext.NullTranslations:
    from tradecore_adapters.bootstrap import translations

    return translations(language)


def choose_language(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The language to answer ``connection`` in."""
    chosen = connection.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return _accepted(connection.headers.get("accept-language", ""))


def _accepted(header: str) -> str:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else LANGUAGES[0]


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Make ``language`` the current one for the templates rendered inside."""
    token = _current.set(language if language in LANGUAGES else LANGUAGES[0])
    try:
        yield
    finally:
        _current.reset(token)


def current_language() -> str:
    """The language of the page being rendered."""
    return _current.get()


def current_gettext(message: str) -> str:
    """``message`` in the current language (Jinja2's ``_`` and ``gettext``)."""
    return _translations(_current.get()).gettext(message)


def current_ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count`` in the current language."""
    return _translations(_current.get()).ngettext(singular, plural, count)
