"""Where a command's words go: ``--json`` and ``--quiet``, shared by every command.

- Text (the default): the result and notes on standard output, errors on standard error.
- ``--json``: standard output holds one JSON document and nothing else; notes and progress go
  to standard error. Amounts are strings with their exact decimal digits and times ISO 8601 in
  UTC (the helpers of :mod:`tradecore_cli.render_trades`). The exit status is the text mode's.
- ``--quiet`` (for cron): nothing is printed on success; errors still go to standard error, and
  the exit status tells the rest.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Any, TypeVar

import click
from attrs import frozen

__all__ = ["Output", "json_option", "print_json", "quiet_option"]

_F = TypeVar("_F", bound=Callable[..., Any])

json_option: Callable[[_F], _F] = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON instead of text (described in docs/cli.md); nothing else goes to "
    "standard output.",
)

quiet_option: Callable[[_F], _F] = click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Print nothing on success, only errors (on standard error); the exit status tells "
    "the rest. For cron.",
)


def print_json(data: Any) -> None:
    """``data`` as one indented JSON document on standard output."""
    click.echo(json.dumps(data, indent=2))


@frozen
class Output:
    """How one command prints: text, ``--json`` or ``--quiet``."""

    as_json: bool = False
    quiet: bool = False

    @property
    def text(self) -> bool:
        """``True`` when the text result is printed (neither ``--json`` nor ``--quiet``)."""
        return not (self.as_json or self.quiet)

    def say(self, line: str) -> None:
        """A line of the text result: on standard output, unless ``--json`` or ``--quiet``."""
        if self.text:
            click.echo(line)

    def note(self, line: str) -> None:
        """A remark beside the result: standard output in text, standard error with
        ``--json``, nowhere with ``--quiet``."""
        if not self.quiet:
            click.echo(line, err=self.as_json)

    def error(self, line: str) -> None:
        """An error line, always on standard error."""
        click.echo(line, err=True)

    def data(self, payload: Any) -> None:
        """The JSON result, printed only with ``--json``."""
        if self.as_json:
            print_json(payload)

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """While the command works: what services or adapters print on standard output (the
        console digest) goes to standard error with ``--json`` and nowhere with ``--quiet``."""
        if self.quiet:
            with open(os.devnull, "w") as sink, redirect_stdout(sink):
                yield
        elif self.as_json:
            with redirect_stdout(sys.stderr):
                yield
        else:
            yield
