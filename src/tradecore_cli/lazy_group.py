"""A click group that imports a command's module only when that command runs.

``tradecore --help`` and ``--version`` must start at once (cron runs the command line every few
minutes, people type ``--help``), so the group knows its commands from a table of names, import
targets and one-line help (:data:`tradecore_cli.command_table.COMMANDS`) and imports a command's
module, with everything it needs (SQLAlchemy, httpx…), only when that command is resolved. This is
click's documented lazy-loading pattern (``list_commands`` / ``get_command``); the help listing is
rendered from the table, so it imports nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from gettext import gettext as clicks_own_text
from typing import NamedTuple

import click

__all__ = ["LazyCommand", "LazyGroup", "load_target"]


class LazyCommand(NamedTuple):
    """Where a command lives and what ``--help`` says about it before it is imported.

    :param target: ``"module:attribute"`` of the click command (or group).
    :param help: the first sentence of its docstring, as its ``--help`` listing shows it; ``None``
        when the command sets ``short_help`` instead.
    :param short_help: the command's own ``short_help``, when it sets one.
    :param extra: ``"module:attribute"`` of subcommands defined in other modules and added to the
        group when it is loaded (``user passwd``, ``broker login``…).
    """

    target: str
    help: str | None = None
    short_help: str | None = None
    extra: tuple[str, ...] = ()

    def placeholder(self, name: str) -> click.Command:
        """A command with this entry's help and nothing else, to list without importing."""
        return click.Command(name, help=self.help, short_help=self.short_help)


def load_target(target: str) -> click.Command:
    """Import ``"module:attribute"`` and return the click command it names.

    :raises TypeError: the attribute is not a click command (the table is wrong).
    """
    module_name, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is {type(command).__name__}, not a click command")
    return command


class LazyGroup(click.Group):
    """A group whose commands come from a table of :class:`LazyCommand` and are imported on use.

    Commands added with :meth:`add_command` (tests do) are served as usual and take precedence.
    """

    def __init__(self, *args: object, lazy: Mapping[str, LazyCommand], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted, with nothing imported."""
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called ``cmd_name``, importing its module the first time."""
        command = self.commands.get(cmd_name)
        if command is not None or cmd_name not in self.lazy:
            return command
        entry = self.lazy[cmd_name]
        command = load_target(entry.target)
        if command.name != cmd_name:
            raise TypeError(f"{entry.target} is the command {command.name!r}, not {cmd_name!r}")
        if entry.extra:
            if not isinstance(command, click.Group):
                raise TypeError(f"{entry.target} has subcommands to add but is not a group")
            for extra in entry.extra:
                command.add_command(load_target(extra))
        self.add_command(command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, but "Did you mean" suggestions come from every name, loaded or not."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            # click >= 8.4 suggests close names from ``self.commands``: the loaded ones only.
            no_such_command = getattr(click.exceptions, "NoSuchCommand", None)
            if no_such_command is None or not isinstance(exc, no_such_command):
                raise
            raise no_such_command(
                exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands' one-line help, from the table for those not loaded yet (no import)."""
        commands = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name) or self.lazy[name].placeholder(name)
            if not command.hidden:
                commands.append((name, command))
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in commands)
        rows = [(name, command.get_short_help_str(limit)) for name, command in commands]
        # click's own heading, translated as click translates it (the default gettext domain);
        # not a msgid of tradecore's catalogue, so not under a name its extractor looks for.
        with formatter.section(clicks_own_text("Commands")):
            formatter.write_dl(rows)
