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
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, Protocol, TypeVar

__all__ = [
    "BROKEN_PIPE",
    "JsonArrayWriter",
    "JsonLinesWriter",
    "PageWriter",
    "quiet_broken_pipe",
    "write_pages",
]

BROKEN_PIPE: Final = 1
"""The exit status when the reader of the output went away: 1, as Python's documentation
advises and as rich ends a table cut short the same way."""

Row = Mapping[str, Any]
T = TypeVar("T")


class PageWriter(Protocol):
    """Writes a listing a page at a time (:class:`JsonArrayWriter`, :class:`JsonLinesWriter`)."""

    def page(self, rows: Sequence[Row]) -> None:
        """Write the rows of one page."""

    def close(self) -> None:
        """End the listing."""


async def write_pages(
    pages: AsyncIterator[Sequence[T]], writer: PageWriter, to_row: Callable[[T], Row]
) -> int:
    """Write each page as it arrives (before the next is asked for), then end the listing;
    returns how many rows were written. Only the current page is held."""
    written = 0
    async for page in pages:
        writer.page([to_row(each) for each in page])
        written += len(page)
    writer.close()
    return written


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
            self._write("".join(_COMPACT.encode(_plain(row)) + "\n" for row in rows))

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


# The C encoder writes a flat object with these separators exactly as json.dumps(indent=2)
# writes it as an item of a list, once wrapped in its braces: many times faster.
_FLAT = json.JSONEncoder(separators=(",\n    ", ": "))
_NESTED = (dict, list, tuple)
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _indented(row: Row) -> str:
    # One object of the list as json.dumps(list, indent=2) writes it.
    if not row:
        return "  {}"
    if any(isinstance(value, _NESTED) for value in row.values()):
        return textwrap.indent(json.dumps(row, indent=2), "  ")
    return "  {\n    " + _FLAT.encode(_plain(row))[1:-1] + "\n  }"


def _plain(row: Row) -> dict[str, Any]:
    # The encoders take dicts (the rows are, nearly always, already).
    return row if isinstance(row, dict) else dict(row)
