"""Long listings written as they are read: a JSON array or JSON lines, a page at a time.

``tradecore trades --json`` over half a million trades must not build them all first. The
writers here take the rows a page at a time and write each page at once (one write, flushed),
so memory holds one page whatever the length of the listing:

- :class:`JsonArrayWriter` writes exactly what ``json.dumps(rows, indent=2)`` wrote for the
  whole list (the same bytes: ``[``, the objects indented by two, ``,`` between them, ``]``),
  so every consumer of ``--json`` reads the same document;
- :class:`JsonLinesWriter` writes one compact JSON object per line (JSON Lines), for scripts
  that read a row at a time (``jq -c``, ``while read``).

:func:`quiet_broken_pipe` ends the command quietly when the reader goes away (``| head``).
"""

from __future__ import annotations

import io
import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from json.encoder import encode_basestring_ascii
from typing import Any, Final

__all__ = ["BROKEN_PIPE", "JsonArrayWriter", "JsonLinesWriter", "quiet_broken_pipe"]

BROKEN_PIPE: Final = 1
"""The exit status when the reader of the output went away: 1, as Python's documentation
advises and as rich ends a table cut short the same way."""

Row = Mapping[str, Any]


class JsonArrayWriter:
    """Write rows as one JSON array, byte for byte what ``json.dumps(rows, indent=2)`` and a
    newline give, a page at a time.

    :param write: writes (and flushes) one piece of text.
    """

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._written = 0

    def page(self, rows: Sequence[Row]) -> None:
        """Write the rows of one page, in one piece."""
        if not rows:
            return
        opening = "[\n" if self._written == 0 else ",\n"
        self._write(opening + ",\n".join(_indented(row) for row in rows))
        self._written += len(rows)

    def close(self) -> None:
        """End the array (``[]`` when no row was written)."""
        self._write("\n]\n" if self._written else "[]\n")


class JsonLinesWriter:
    """Write rows as JSON Lines: one compact object per line, a page at a time.

    :param write: writes (and flushes) one piece of text.
    """

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write

    def page(self, rows: Sequence[Row]) -> None:
        """Write the rows of one page, in one piece."""
        if rows:
            self._write("".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows))

    def close(self) -> None:
        """Nothing ends JSON Lines."""


@contextmanager
def quiet_broken_pipe() -> Iterator[None]:
    """Exit with :data:`BROKEN_PIPE` and no message when standard output's reader went away
    (``tradecore trades --json | head``), as command-line tools do."""
    try:
        yield
    except BrokenPipeError:
        # Python would fail once more flushing standard output at exit: point it at /dev/null.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass  # not a file descriptor (a test's captured output): nothing is flushed at exit
        sys.exit(BROKEN_PIPE)


def _indented(row: Row) -> str:
    # One object of the list as json.dumps(list, indent=2) writes it. Strings and nulls (all
    # that trades and positions hold) are encoded directly, by the encoder json.dumps uses.
    if not row:
        return "  {}"
    lines = ",\n".join(
        f"    {encode_basestring_ascii(key)}: {_value(value)}" for key, value in row.items()
    )
    return "  {\n" + lines + "\n  }"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if value is None:
        return "null"
    # Anything else (numbers, nested objects) as json.dumps writes it at this depth.
    return textwrap.indent(json.dumps(value, indent=2), "    ").lstrip(" ")
