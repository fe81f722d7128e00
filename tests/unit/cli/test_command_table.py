"""The lazy command table says what the commands themselves say, and misses none of them."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

import tradecore_cli.commands
from tradecore_cli.command_table import COMMANDS
from tradecore_cli.lazy_group import LazyGroup, load_target
from tradecore_cli.main import cli

LIMITS = (*range(10, 130, 3), 10**6)


def fresh_group() -> LazyGroup:
    # A group with nothing loaded yet (``cli`` may have loaded commands in other tests).
    return LazyGroup(name="tradecore", lazy=COMMANDS, help=cli.help)


def eager_group() -> click.Group:
    # The same commands, imported and added up front as main.py used to do.
    group = fresh_group()
    ctx = click.Context(group)
    eager = click.Group(name="tradecore", help=cli.help)
    for name in COMMANDS:
        command = group.get_command(ctx, name)
        assert command is not None
        eager.add_command(command)
    return eager


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_short_help_is_the_commands_own(name: str) -> None:
    entry = COMMANDS[name]
    real = load_target(entry.target)
    placeholder = entry.placeholder(name)
    assert real.name == name
    assert placeholder.hidden == real.hidden
    for limit in LIMITS:
        assert placeholder.get_short_help_str(limit) == real.get_short_help_str(limit), limit


def module_commands() -> Iterator[tuple[str, click.Command]]:
    package = tradecore_cli.commands
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        for attribute, value in vars(module).items():
            callback = getattr(value, "callback", None)
            if (
                isinstance(value, click.Command)
                and getattr(callback, "__module__", None) == info.name
            ):
                yield f"{info.name}:{attribute}", value


def reachable(group: click.Group, ctx: click.Context) -> Iterator[click.Command]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield command
        if isinstance(command, click.Group):
            yield from reachable(command, click.Context(command, parent=ctx))


def test_every_command_defined_is_reachable_from_the_table() -> None:
    group = fresh_group()
    found = {id(command) for command in reachable(group, click.Context(group))}
    defined = dict(module_commands())
    assert defined, "no commands found"
    missing = [target for target, command in defined.items() if id(command) not in found]
    assert missing == []


def test_subcommands_from_other_modules_are_added_to_their_groups() -> None:
    group = fresh_group()
    ctx = click.Context(group)
    user = group.get_command(ctx, "user")
    broker = group.get_command(ctx, "broker")
    assert isinstance(user, click.Group)
    assert isinstance(broker, click.Group)
    assert {"passwd", "admin"} <= set(user.commands)
    assert {"login", "secrets", "edit", "enable", "disable"} <= set(broker.commands)


@pytest.mark.parametrize("width", [50, 80, 120])
def test_help_lists_the_same_lines_as_the_commands_imported(width: int) -> None:
    lazy = CliRunner().invoke(fresh_group(), ["--help"], terminal_width=width)
    eager = CliRunner().invoke(eager_group(), ["--help"], terminal_width=width)
    assert lazy.exit_code == eager.exit_code == 0
    assert lazy.output == eager.output
    assert "refresh-tokens" in lazy.output


def test_help_imports_no_command_module() -> None:
    group = fresh_group()
    result = CliRunner().invoke(group, ["--help"])
    assert result.exit_code == 0
    assert group.commands == {}


def test_a_mistyped_command_is_suggested_from_every_name() -> None:
    group = fresh_group()
    result = CliRunner().invoke(group, ["usr"])
    assert result.exit_code == 2
    assert "No such command 'usr'" in result.output
    if hasattr(click.exceptions, "NoSuchCommand"):  # click >= 8.4 suggests names
        assert "Did you mean 'user'?" in result.output
