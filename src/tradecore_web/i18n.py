"""The language of a page: the logged-in user's stored choice, else the language switch's cookie
(the pages before the login), else the browser's ``Accept-Language``, else English.

The rule itself is the bootstrap's :func:`~tradecore_adapters.bootstrap.choose_language`, the
same for every front end; the words come from the project's one gettext catalogue, shared with
the Telegram digest (docs/translations.md). The language middleware picks the language before
authentication (cookie, else browser); the authentication middleware then puts the logged-in
user's stored choice first (:func:`speak_users_choice`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from litestar.connection import ASGIConnection

from tradecore_adapters.bootstrap import LANGUAGES, choose_language, translations

__all__ = [
    "LANGUAGES",
    "LANGUAGE_COOKIE",
    "N_",
    "current_gettext",
    "current_language",
    "current_ngettext",
    "request_language",
    "speak_users_choice",
    "speaking",
]

LANGUAGE_COOKIE = "tradecore_lang"
"""The cookie of the language switch: this browser's choice, which counts on the pages before a
login (a logged-in user's stored choice comes first)."""

_current: ContextVar[str] = ContextVar("tradecore_web_language", default=LANGUAGES[0])


def N_(msgid: str) -> str:
    """Mark ``msgid`` for the extractor (a word a template translates with ``_(word)``);
    itself, untranslated, everywhere else (the API's problem titles)."""
    return msgid


def request_language(
    connection: ASGIConnection[Any, Any, Any, Any], stored: str | None = None
) -> str:
    """The language to answer ``connection`` in.

    :param stored: the logged-in user's stored choice (``User.language``), if any; it comes
        before the cookie, which comes before ``Accept-Language``.
    """
    return choose_language(
        stored=stored or connection.cookies.get(LANGUAGE_COOKIE),
        accept_language=connection.headers.get("accept-language"),
    )


def speak_users_choice(connection: ASGIConnection[Any, Any, Any, Any], stored: str | None) -> None:
    """Once the user is known, answer in the language they stored (``None``: leave the one
    the cookie or the browser chose). The enclosing :func:`speaking` restores the language
    when the request ends."""
    if stored is not None:
        _current.set(request_language(connection, stored))


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
    return translations(_current.get()).gettext(message)


def current_ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count`` in the current language."""
    return translations(_current.get()).ngettext(singular, plural, count)
