"""The one rule for names people choose (users, connections, strategies, notification targets):
trimmed, then 1 to 64 characters, every one printable. Anything printable is kept as it is,
markup-looking text included; the front ends show it literally (docs/names.md)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradecore.domain import MAX_NAME_LENGTH, checked_name
from tradecore.errors import DomainError

# Every printable character but the space: Python's str.isprintable() refuses the Unicode
# categories "Other" (control, format, surrogate, private use, unassigned) and "Separator"
# except the ASCII space.
NOT_PRINTABLE = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")
visible = st.characters(exclude_categories=NOT_PRINTABLE)
printable = st.one_of(visible, st.just(" "))
# Whitespace that trimming removes: printable (space) or not (tab, line breaks, U+2028, U+3000).
padding = st.text(alphabet=st.sampled_from(" \t\n\r\x0b\x0c\x85\u2028\u2029\u3000"), max_size=4)


@st.composite
def names(draw: st.DrawFn, max_size: int = MAX_NAME_LENGTH) -> str:
    """A name that follows the rule as it is: 1 to ``max_size`` printable characters, no space
    at either end."""
    if draw(st.booleans()):
        return draw(visible)
    first, last = draw(visible), draw(visible)
    middle = draw(st.text(alphabet=printable, max_size=max_size - 2))
    return first + middle + last


@given(name=names(), before=padding, after=padding)
def test_any_printable_name_is_accepted_and_returned_trimmed(
    name: str, before: str, after: str
) -> None:
    assert checked_name("user", before + name + after) == name


@given(name=names())
def test_a_checked_name_passes_the_rule_again_unchanged(name: str) -> None:
    checked = checked_name("connection", name)

    assert checked_name("connection", checked) == checked
    assert 1 <= len(checked) <= MAX_NAME_LENGTH
    assert checked.isprintable()


@given(
    start=st.one_of(st.just(""), names(max_size=31)),
    bad=st.characters(categories=NOT_PRINTABLE).filter(lambda char: char != " "),
    end=st.one_of(st.just(""), names(max_size=31)),
)
def test_a_character_that_cannot_be_printed_is_refused_wherever_it_is(
    start: str, bad: str, end: str
) -> None:
    if bad.isspace() and not (start and end):
        bad = "\x00"  # whitespace at either end is trimmed, not refused (tested above)

    with pytest.raises(DomainError, match=f"U\\+{ord(bad):04X}") as refused:
        checked_name("strategy", start + bad + end)

    assert str(refused.value).startswith("a strategy name must hold only printable characters")


@pytest.mark.parametrize(
    ("value", "char"),
    [
        ("a\tb", "U+0009"),
        ("two\nlines", "U+000A"),
        ("carriage\rreturn", "U+000D"),
        ("line\u2028separator", "U+2028"),
        ("paragraph\u2029separator", "U+2029"),
        ("\x1b[31mred", "U+001B"),  # a terminal escape sequence
        ("nul\x00", "U+0000"),
        ("delete\x7f", "U+007F"),
        ("zero\u200bwidth", "U+200B"),
        ("no\u00a0break", "U+00A0"),
        ("right\u202eleft", "U+202E"),  # reverses the text that follows on screen
    ],
)
def test_control_characters_line_breaks_and_invisible_separators_are_refused(
    value: str, char: str
) -> None:
    with pytest.raises(DomainError) as refused:
        checked_name("user", value)

    message = str(refused.value)
    assert message.startswith("a user name must hold only printable characters, not " + char)
    assert "control characters, tabs and line breaks are refused" in message


@pytest.mark.parametrize("value", ["", " ", "   ", "\t", "\n \r\n", "\u2028", "\u3000 "])
def test_an_empty_or_blank_name_is_refused(value: str) -> None:
    with pytest.raises(DomainError, match=r"^a connection name must not be empty$"):
        checked_name("connection", value)


def test_64_characters_are_the_most() -> None:
    assert MAX_NAME_LENGTH == 64
    assert checked_name("target", "x" * 64) == "x" * 64
    with pytest.raises(
        DomainError, match=r"^a target name must be at most 64 characters long, got 65$"
    ):
        checked_name("target", "x" * 65)


def test_the_length_is_counted_after_trimming_and_in_characters() -> None:
    assert checked_name("user", "  " + "x" * 64 + "\n") == "x" * 64
    assert checked_name("user", "é" * 64) == "é" * 64  # 128 bytes in UTF-8, 64 characters
    with pytest.raises(DomainError, match="got 65"):
        checked_name("user", " " + "y" * 65 + " ")


@pytest.mark.parametrize(
    "value",
    [
        "[bold red]x[/]",
        "[/]",
        "[link=http://e]x[/link]",
        ":smile:",
        "<b>bold</b> & co",
        "my broker",
        "Zoë",
        "名前",
        "📈 growth",
        "a  b",  # inner spaces are kept
        "x",
    ],
)
def test_markup_like_and_non_ascii_names_are_kept_as_they_are(value: str) -> None:
    assert checked_name("user", value) == value


def test_a_value_that_is_not_text_is_refused() -> None:
    not_text: Any = 42

    with pytest.raises(DomainError, match=r"^a user name must be text, got int$"):
        checked_name("user", not_text)
