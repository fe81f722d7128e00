"""A sentence for a person that can be read in any language: :class:`Phrase`.

The core writes what happened in English, but a digest or a page may be read in French. A
:class:`Phrase` keeps the sentence apart from its values until it is shown: ``msgid`` is the
English sentence with ``{name}`` placeholders (the key of a gettext catalogue), ``params`` the
values (amounts, symbols, names, a broker's own error text) already written as text, so that a
translation changes the words around them and never their digits.

``phrase("next buy due at {when}", when="2026-11-22 10:00 UTC")`` builds one; it is a ``str``,
the English sentence, and :meth:`Phrase.render` with a catalogue's ``gettext`` gives it in that
catalogue's language. ``phrase`` is also the keyword the message extractor looks for (see
docs/translations.md), so every sentence the core or a built-in plugin writes this way lands in
the catalogue. Plain strings stay plain strings everywhere a phrase is accepted: a third-party
strategy's notes are shown as it wrote them.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, TypeAlias

from tradecore.errors import DomainError

__all__ = ["Phrase", "Wording", "joined", "phrase", "placeholders", "render_wording"]

Wording: TypeAlias = str
"""Something to show a person: plain text, shown as is, or a :class:`Phrase` (a ``str`` too)."""

Gettext = Callable[[str], str]


def placeholders(template: str) -> frozenset[str]:
    """The names of the ``{name}`` placeholders of ``template``."""
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(template) if name is not None
    )


class Phrase(str):
    """An English sentence that knows how to be said in another language.

    It *is* the English sentence (a ``str``, so code and plugins that only know text keep
    working: they see English), and it keeps what a translation needs:

    :param msgid: the sentence with ``{name}`` placeholders, its key in the message catalogue.
    :param params: the values, as text (exact digits) or phrases of their own.
    :param literal: ``True`` for a frame that is never translated (the ``"{p0}; {p1}"`` of
        :func:`joined`).

    Anything done to it as text (``+``, ``replace``…) gives plain English text, which is then
    shown as is: a safe fallback, never a wrong translation.
    """

    msgid: str
    params: Mapping[str, Wording]
    literal: bool

    def __new__(
        cls, msgid: str, params: Mapping[str, Wording] | None = None, *, literal: bool = False
    ) -> Phrase:
        values = dict(params or {})
        for name, value in values.items():
            if not isinstance(value, str):
                raise DomainError(
                    f"phrase parameter {name!r} must be text, got {type(value).__name__}"
                )
        missing = placeholders(msgid) - set(values)
        if missing:
            raise DomainError(f"phrase {msgid!r} has no value for {', '.join(sorted(missing))}")
        self = super().__new__(cls, msgid.format_map(values))
        self.msgid = msgid
        self.params = MappingProxyType(values)
        self.literal = literal
        return self

    def __repr__(self) -> str:
        return f"Phrase({self.msgid!r}, {dict(self.params)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.msgid, dict(self.params), self.literal))

    def render(self, gettext: Gettext) -> str:
        """The sentence in the language of ``gettext`` (a catalogue's lookup), values as given."""
        template = self.msgid if self.literal else gettext(self.msgid)
        return template.format_map(
            {name: render_wording(value, gettext) for name, value in self.params.items()}
        )

    def map_values(self, change: Callable[[str], str]) -> Phrase:
        """The same phrase with ``change`` applied to every text value (masking secrets)."""
        return Phrase(
            self.msgid,
            {
                name: value.map_values(change) if isinstance(value, Phrase) else change(value)
                for name, value in self.params.items()
            },
            literal=self.literal,
        )


def _rebuild(msgid: str, params: Mapping[str, Wording], literal: bool) -> Phrase:
    return Phrase(msgid, params, literal=literal)


def phrase(msgid: str, /, **params: Wording) -> Phrase:
    """A translatable sentence: ``phrase("bought {quantity} {symbol}", quantity="0.5", symbol="BTC")``.

    ``msgid`` must be a literal string for the extractor to find it.
    """
    return Phrase(msgid, params)


def joined(parts: Iterable[Wording], separator: str = "; ") -> Wording:
    """``parts`` one after the other, each translated on its own; plain text when none is a phrase."""
    items = tuple(parts)
    if not any(isinstance(part, Phrase) for part in items):
        return separator.join(items)
    names = [f"p{index}" for index in range(len(items))]
    template = separator.replace("{", "{{").replace("}", "}}").join(f"{{{n}}}" for n in names)
    return Phrase(template, dict(zip(names, items, strict=True)), literal=True)


def render_wording(value: Wording, gettext: Gettext) -> str:
    """``value`` in the language of ``gettext``: a phrase translated, plain text as is."""
    return value.render(gettext) if isinstance(value, Phrase) else value
