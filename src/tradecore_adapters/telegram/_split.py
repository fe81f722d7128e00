"""Cut a message's HTML lines into messages Telegram accepts, losing nothing.

Telegram refuses a text longer than ``MessageLimit.MAX_TEXT_LENGTH`` (4096), counted in UTF-16
code units after its entities are parsed. The markup is measured instead: it is never shorter
than what Telegram counts, so a part that fits here fits there, and its plain-text fallback
(shorter still) fits too.

Lines are packed whole, in order, as many per message as fit. A single line longer than a
message is cut between two tokens (a tag, an entity such as ``&amp;``, or a character), at the
last space when there is one near the end; the tags open at the cut are closed at the end of the
piece and opened again at the start of the next, so every part is valid HTML on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram.constants import MessageLimit

__all__ = ["MAX_MESSAGE_LENGTH", "split_message", "utf16_length"]

MAX_MESSAGE_LENGTH: int = MessageLimit.MAX_TEXT_LENGTH
_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|.", re.DOTALL)
_OPEN_TAG = re.compile(r"<([a-zA-Z][\w-]*)[^>]*>")
_CLOSE_TAG = re.compile(r"</([a-zA-Z][\w-]*)\s*>")
_LOOK_BACK = 200  # how far back a cut may move to land on a space


def utf16_length(text: str) -> int:
    """``text``'s length as Telegram counts it: UTF-16 code units (an emoji may count 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_message(lines: Sequence[str], limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Pack ``lines`` (each one balanced HTML) into as few messages of at most ``limit`` as
    their order allows; a line longer than ``limit`` is cut as the module says."""
    if limit < 64:
        raise ValueError("a message limit below 64 cannot hold a line's tags")
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        pieces = _cut_line(line, limit)
        if len(pieces) > 1:
            if current:
                parts.append("\n".join(current))
            parts.extend(pieces[:-1])
            current, size = [pieces[-1]], utf16_length(pieces[-1])
            continue
        length = utf16_length(line)
        if current and size + 1 + length > limit:
            parts.append("\n".join(current))
            current, size = [], 0
        size += length + (1 if current else 0)
        current.append(line)
    if current:
        parts.append("\n".join(current))
    return parts


def _closing(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _cut_line(line: str, limit: int) -> list[str]:
    if utf16_length(line) <= limit:
        return [line]
    tokens = _TOKEN.findall(line)
    pieces: list[str] = []
    stack: list[tuple[str, str]] = []  # (tag name, opening tag) of the tags open here
    piece: list[str] = []
    size = 0
    space: tuple[int, int, list[tuple[str, str]]] | None = None  # (token index, piece len, stack)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        opened = _OPEN_TAG.fullmatch(token)
        reserve = utf16_length(f"</{opened.group(1)}>") if opened else 0
        closing = utf16_length(_closing(stack))
        content = len(piece) > len(stack)  # more than the tags reopened at the start
        if content and size + utf16_length(token) + reserve + closing > limit:
            if space is not None and index - space[0] <= _LOOK_BACK:
                index, kept, stack = space[0] + 1, space[1], space[2]
                piece = piece[:kept]
            pieces.append("".join(piece) + _closing(stack))
            piece = [opening for _, opening in stack]
            size = sum(utf16_length(opening) for opening in piece)
            space = None
            continue
        piece.append(token)
        size += utf16_length(token)
        if opened and not token.endswith("/>"):
            stack.append((opened.group(1).lower(), token))
        elif (
            (closed := _CLOSE_TAG.fullmatch(token))
            and stack
            and stack[-1][0] == closed.group(1).lower()
        ):
            stack.pop()
        elif token.isspace():
            space = (index, len(piece), list(stack))
        index += 1
    pieces.append("".join(piece) + _closing(stack))
    return pieces
