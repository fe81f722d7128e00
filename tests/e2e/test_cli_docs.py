"""docs/cli.md and ``--help`` cannot drift apart: every command in click's tree has a place in
docs/cli.md (a heading or a table row naming it), every option ``--help`` shows for it is
mentioned there, and every option the heading or row gives it exists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from tradecore_cli.main import cli

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def commands(group: click.Group, path: str = "") -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group`` with its path (``broker login``), groups included."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        full = f"{path} {name}".strip()
        if command.hidden:
            continue
        yield full, command
        if isinstance(command, click.Group):
            yield from commands(command, full)


def options(command: click.Command) -> list[str]:
    """The long names (or the short one, when it has none) of the options ``--help`` shows."""
    shown: list[str] = []
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden:
            continue
        names = [*param.opts, *param.secondary_opts]
        longs = [name for name in names if name.startswith("--")]
        shown.extend(longs or names)
    return shown


def sections(text: str) -> list[str]:
    """The page cut into pieces: each heading with its text, and each table row on its own."""
    pieces: list[str] = []
    for block in re.split(r"\n(?=#{2,3} )", text):
        pieces.append(block)
        pieces.extend(line for line in block.splitlines() if line.startswith("| `tradecore"))
    return pieces


def _named(path: str) -> str:
    # `tradecore broker login …` or `broker login …` (not `broker login-x`), up to the backtick.
    return rf"`(?:tradecore )?{re.escape(path)}(?![\w-])([^`]*)`"


def about(path: str, text: str) -> list[str]:
    """The pieces of the page that document the command ``path``: a heading or a table row
    whose first line names it (``tradecore broker login``, or ``broker login`` after another
    command of the same heading)."""
    pattern = re.compile(_named(path))
    found = []
    for piece in sections(text):
        head = piece.splitlines()[0]
        if (head.startswith("#") or head.startswith("|")) and pattern.search(head):
            found.append(piece)
    return found


TEXT = DOCS.read_text(encoding="utf-8")
COMMANDS = [
    (path, command) for path, command in commands(cli) if not isinstance(command, click.Group)
]


def test_the_tree_is_walked() -> None:
    paths = {path for path, _ in COMMANDS}
    assert {"sync", "broker login", "order place", "risk show", "db current"} <= paths


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path for path, _ in COMMANDS])
def test_every_command_and_option_is_in_cli_md(path: str, command: click.Command) -> None:
    pieces = about(path, TEXT)
    assert pieces, f"docs/cli.md has no heading or table row for `tradecore {path}`"
    documented = "\n".join(pieces)
    missing = [name for name in options(command) if name != "--help" and name not in documented]
    assert not missing, f"docs/cli.md does not mention {missing} of `tradecore {path}`"


def test_the_global_options_are_in_cli_md() -> None:
    for name in options(cli):
        if name != "--help":
            assert name in TEXT, name


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path for path, _ in COMMANDS])
def test_no_heading_gives_a_command_an_option_it_does_not_have(
    path: str, command: click.Command
) -> None:
    real = set(options(command)) | {"--help"}
    for piece in about(path, TEXT):
        for match in re.finditer(_named(path), piece.splitlines()[0]):
            given = set(re.findall(r"--[a-z][a-z-]*", match.group(1)))
            assert given <= real, f"docs/cli.md gives `tradecore {path}` {sorted(given - real)}"
