"""Cutting a digest's HTML into Telegram messages: under the limit, valid, nothing lost.

Telegram refuses a text over ``MessageLimit.MAX_TEXT_LENGTH`` (4096 UTF-16 code units after
entity parsing; docs/notifications/telegram.md, "Delivery") and any part whose tags do not balance ("can't
parse entities"). Every part is checked with the fake Bot API server's parser.
"""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fakes.telegram_html import parse_html

from tradecore_adapters.telegram._render import plain_text
from tradecore_adapters.telegram._split import MAX_MESSAGE_LENGTH, split_message, utf16_length

NASTY = "<b>&amp;</b> a<b & c>d _*[]()~`>#+-=|{}.! 🚀👨‍👩‍👧 é "


def _line(text: str, bold: str = "step") -> str:
    return f"❌ <b>{html.escape(bold, quote=False)}</b> · sync: {html.escape(text, quote=False)}"


def _check(parts: list[str], limit: int) -> str:
    for part in parts:
        assert utf16_length(part) <= limit
        parsed, _ = parse_html(part, strict_ampersand=True)  # raises if Telegram would refuse it
        assert parsed == plain_text(part)
    return "".join(plain_text(part) for part in parts)


def test_the_limit_is_telegrams() -> None:
    assert MAX_MESSAGE_LENGTH == 4096


def test_short_lines_make_one_message_joined_by_newlines() -> None:
    lines = ["<b>Summary — alice</b>", _line("all good"), _line(NASTY)]
    assert split_message(lines) == ["\n".join(lines)]


def test_lines_are_packed_whole_and_in_order() -> None:
    lines = [_line("x" * 900, bold=f"line {number}") for number in range(10)]
    parts = split_message(lines)
    assert len(parts) == 3
    assert "\n".join(parts) == "\n".join(lines)  # cut only at line boundaries
    _check(parts, MAX_MESSAGE_LENGTH)


def test_a_ten_thousand_character_error_is_cut_into_valid_parts_losing_nothing() -> None:
    error = (NASTY * 400)[:10_000]
    line = _line(error, bold="binance <main> & co")
    parts = split_message(["<b>Errors — alice</b>", line, _line("after")])
    assert len(parts) >= 3
    whole = _check(parts, MAX_MESSAGE_LENGTH)
    assert whole.replace("\n", "") == plain_text(
        "<b>Errors — alice</b>" + line + _line("after")
    ).replace("\n", "")


def test_a_long_bold_run_is_closed_and_reopened_at_each_cut() -> None:
    line = "<b>" + "word " * 2000 + "</b>"
    parts = split_message([line], limit=1000)
    assert all(part.startswith("<b>") and part.endswith("</b>") for part in parts)
    assert "".join(plain_text(part) for part in parts) == plain_text(line)
    _check(parts, 1000)


def test_cuts_prefer_a_space_and_never_split_an_entity() -> None:
    line = html.escape("<&> " * 3000, quote=False)
    parts = split_message([line], limit=500)
    for part in parts[:-1]:
        assert part.endswith(" ")  # cut after a space
    _check(parts, 500)


def test_emoji_count_twice_as_telegram_counts_them() -> None:
    line = "🚀" * 3000  # 6000 UTF-16 code units
    parts = split_message([line])
    assert [utf16_length(part) for part in parts] == [4096, 1904]
    assert "".join(parts) == line


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=700), st.sampled_from(["", "b", "i", "code"])),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from([80, 300, 4096]),
)
def test_any_escaped_text_splits_into_valid_parts_under_the_limit(
    pieces: list[tuple[str, str]], limit: int
) -> None:
    lines = []
    for text, tag in pieces:
        escaped = html.escape(text.replace("\n", " "), quote=False)
        lines.append(f"<{tag}>{escaped}</{tag}>" if tag else escaped)
    parts = split_message(lines, limit=limit)
    whole = _check(parts, limit)
    assert whole.replace("\n", "") == "".join(plain_text(line) for line in lines)
