"""The one rule for names people choose: users, connections, strategies, notification targets.

A name is trimmed of surrounding whitespace, must then be 1 to :data:`MAX_NAME_LENGTH`
characters long, and every character must be printable (no control characters, no line breaks,
no tabs, no invisible separators). Anything else printable is allowed, including brackets and
markup-looking text such as ``[bold]x[/]``: front ends show names literally. See
``docs/names.md``.
"""

from __future__ import annotations

from tradecore.errors import DomainError

__all__ = ["MAX_NAME_LENGTH", "checked_name"]

MAX_NAME_LENGTH = 64
"""The longest name, in characters, after trimming."""


def checked_name(kind: str, value: str) -> str:
    """``value`` trimmed, once it follows the rule for names.

    :param kind: what is named (``"user"``, ``"connection"``…), for the message.
    :raises DomainError: it is empty, too long, or holds a character that cannot be printed; the
        message says which and what the rule is.
    """
    if not isinstance(value, str):
        raise DomainError(f"a {kind} name must be text, got {type(value).__name__}")
    name = value.strip()
    if not name:
        raise DomainError(f"a {kind} name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise DomainError(
            f"a {kind} name must be at most {MAX_NAME_LENGTH} characters long, got {len(name)}"
        )
    for char in name:
        if not char.isprintable():
            raise DomainError(
                f"a {kind} name must hold only printable characters, not "
                f"U+{ord(char):04X} (control characters, tabs and line breaks are refused)"
            )
    return name
