"""What commands that configure a plugin's adapter share: its settings from ``--setting
KEY=VALUE`` and the environment, and its secrets from the environment or a hidden prompt.

A setting not given with ``--setting`` is read from the environment variable its plugin declares
for it, when that is set and not empty; a setting given on the command line always wins.

Secrets never come from command-line arguments (they would end up in the shell history and in
``ps``): each secret is read from its environment variable when that is set, otherwise asked for
at a hidden prompt. Without a terminal to prompt on, a missing required secret is an error naming
the variable to set. (Tests, whose standard input is never a terminal, say whether to prompt with
``obj["interactive"]``.)
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import click

from tradecore.domain import Secret
from tradecore.ports import SecretSpec, SettingSpec

__all__ = [
    "ask_secrets",
    "interactive",
    "interruptible",
    "key_value_settings",
    "settings_from_environment",
    "settings_text",
]


def key_value_settings(
    ctx: click.Context, param: click.Parameter, values: Sequence[str]
) -> dict[str, str]:
    """The ``--setting KEY=VALUE`` values as a dict (a click callback); a key given twice or a
    value without ``=`` is a usage error."""
    settings: dict[str, str] = {}
    for value in values:
        key, sep, setting = value.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", ctx=ctx, param=param)
        if key in settings:
            raise click.BadParameter(f"{key!r} is given twice", ctx=ctx, param=param)
        settings[key] = setting.strip()
    return settings


def interactive(ctx: click.Context) -> bool:
    """``True`` when a hidden prompt can be shown (a terminal, or tests saying so)."""
    flag = ctx.find_root().obj.get("interactive")
    if flag is None:
        return sys.stdin is not None and sys.stdin.isatty()
    return bool(flag)


@contextmanager
def interruptible() -> Iterator[None]:
    """While a command waits for the person at the terminal, Ctrl-C interrupts it at once
    (``KeyboardInterrupt``, which the command group turns into exit status 130).

    ``asyncio.run`` replaces Python's SIGINT handler with one that cancels the main task; a
    prompt blocks that very task, so the first Ctrl-C would be lost until the answer came.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def settings_from_environment(
    specs: Sequence[SettingSpec], given: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, str]:
    """The settings given, plus each one not given whose declared variable is set and not
    empty (saying so)."""
    settings = dict(given)
    for spec in specs:
        if spec.name in settings or not spec.env_var:
            continue
        value = environ.get(spec.env_var, "").strip()
        if value:
            click.echo(f"setting {spec.name}: read from {spec.env_var}.")
            settings[spec.name] = value
    return settings


def ask_secrets(
    specs: Sequence[SecretSpec], environ: Mapping[str, str], *, interactive: bool, owner: str
) -> dict[str, Secret]:
    """Each secret from its variable, else from a hidden prompt; never echoed, never an
    argument. :raises click.UsageError: a required one is missing and there is no terminal."""
    secrets: dict[str, Secret] = {}
    for spec in specs:
        value = environ.get(spec.env_var, "").strip() if spec.env_var else ""
        if value:
            click.echo(f"{spec.name}: read from {spec.env_var}.")
        elif interactive:
            with interruptible():
                value = click.prompt(
                    f"{spec.name} ({spec.description})" + ("" if spec.required else " [optional]"),
                    hide_input=True,
                    default=None if spec.required else "",
                    show_default=False,
                ).strip()
        elif spec.required:
            where = f"set {spec.env_var}" if spec.env_var else "run it in a terminal"
            raise click.UsageError(
                f"{owner} needs the secret {spec.name!r} ({spec.description}) and there is no "
                f"terminal to ask for it; {where}"
            )
        if value:
            secrets[spec.name] = Secret(value)
    return secrets


def settings_text(settings: Mapping[str, str]) -> str:
    """``key=value, …`` by key, for lists and confirmations (settings are never secret)."""
    return ", ".join(f"{key}={value}" for key, value in sorted(settings.items()))
