"""Render a :class:`~tradecore.domain.Digest` for a terminal with rich.

Every text of a digest (the user's name, connection and strategy names, a broker's error) is
shown literally: it goes into the table as a :class:`~rich.text.Text`, which rich never reads as
console markup, so a name such as ``[/]`` or ``[link=…]x[/link]`` is printed as it is.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from tradecore.domain import (
    Digest,
    DigestLine,
    DigestSection,
    RunStatus,
    TaskStatus,
    fact_label,
)
from tradecore.errors import NotificationError
from tradecore.ports import NotifierContext

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["ConsoleNotifier"]

_STATUS_STYLE = {
    RunStatus.SUCCESS: "bold green",
    RunStatus.PARTIAL: "bold yellow",
    RunStatus.FAILURE: "bold red",
}
_STEP_STYLE = {TaskStatus.SUCCESS: "green", TaskStatus.FAILURE: "red", TaskStatus.SKIPPED: "yellow"}


class ConsoleNotifier:
    """Print each digest section as a table: the summary, the API responses, then the errors.

    :param stream: where to write; standard output when ``None``.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    @classmethod
    def from_context(cls, context: NotifierContext) -> ConsoleNotifier:
        """Build it from a plugin factory's context."""
        return cls(stream=context.stream)

    @property
    def name(self) -> str:
        """``console``."""
        return "console"

    async def send(self, digest: Digest) -> None:
        """Print ``digest``. :raises NotificationError: the stream cannot be written."""
        # rich is imported when a digest is printed: every command builds this notifier.
        from rich.console import Console

        console = Console(file=self._stream or sys.stdout, soft_wrap=True, highlight=False)
        try:
            for section, lines in digest.sections():
                console.print(_section(digest, section, lines))
        except (OSError, ValueError) as exc:  # ValueError: the stream is closed
            raise NotificationError(f"cannot write the digest to the terminal: {exc}") from exc

    async def send_test(self, user_name: str) -> None:
        """Print a test line. :raises NotificationError: the stream cannot be written."""
        try:
            print(f"Test message from tradecore for {user_name}.", file=self._stream or sys.stdout)
        except (OSError, ValueError) as exc:
            raise NotificationError(f"cannot write to the terminal: {exc}") from exc

    async def check(self) -> str:
        """Nothing to reach: the terminal is this process's own output."""
        return "prints to this terminal"


def _section(digest: Digest, section: DigestSection, lines: tuple[DigestLine, ...]) -> Table:
    from rich.table import Table
    from rich.text import Text

    title = Text(f"{section.heading} — {digest.user_name}", style="bold")
    if section is DigestSection.SUMMARY:
        title.append(f"  run {digest.run_id[:8]} ({digest.trigger.value}) ")
        title.append(digest.status.value.upper(), style=_STATUS_STYLE[digest.status])
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("step")
    table.add_column("subject")
    table.add_column("status")
    table.add_column("details", overflow="fold")
    for line in lines:
        details = ", ".join(f"{fact_label(name)}: {value}" for name, value in line.facts)
        if line.text:
            details = f"{details} — {line.text}" if details else str(line.text)
        table.add_row(
            Text(line.kind.value),
            Text(line.subject),
            Text(line.status.value, style=_STEP_STYLE[line.status]),
            Text(details),
        )
    if section is DigestSection.SUMMARY:
        totals = ", ".join(f"{fact_label(name)}: {value}" for name, value in digest.totals)
        table.caption = Text(totals, style="table.caption")
        table.caption_justify = "left"
    return table
