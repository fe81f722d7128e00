"""``tradecore --version`` and ``--help`` start at once: the installed console script, run in a
fresh interpreter with ``PYTHONPROFILEIMPORTTIME=1`` (one line per imported module on standard
error), imports none of the heavy libraries, nor the core, an adapter or a plugin module.

The start-up time itself is measured in ``benchmarks/startup.py``, not here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Packages --version and --help must not import (nor anything under them): the heavy libraries,
# and the core itself (its services import asyncio and every use case: an error is described
# lazily, when a command has failed).
FORBIDDEN = (
    "tradecore",
    "sqlalchemy",
    "alembic",
    "httpx",
    "httpcore",
    "telegram",
    "cryptography",
    "psycopg",
    "rich",
    "litestar",
    "jinja2",
    "argon2",
    "aiosqlite",
    "msgspec",
    "orjson",
    "prometheus_client",
    "pluggy",
    "tenacity",
    "tradecore_adapters",
    "tradecore_web",
    "tradecore_dummybroker",
    "tradecore_cli.commands",
)


def tradecore_executable() -> str:
    script = Path(sys.executable).with_name("tradecore")
    if not script.exists():
        pytest.fail(f"the tradecore console script is not installed next to {sys.executable}")
    return str(script)


def imported_modules(*args: str, home: Path | None = None) -> tuple[list[str], str]:
    """The modules the installed ``tradecore ARGS`` imports, in order, and its standard output.

    Python reports the modules imported by ``import`` statements; one loaded with
    ``importlib.import_module`` (a command's module, a plugin's) is not listed itself, but what
    it imports is.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADECORE_")}
    if home is not None:
        env["TRADECORE_HOME"] = str(home)
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    done = subprocess.run(
        [tradecore_executable(), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = [
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "imported package" not in line
    ]
    return modules, done.stdout


def forbidden_in(modules: list[str], forbidden: tuple[str, ...] = FORBIDDEN) -> list[str]:
    return [
        module
        for module in modules
        if any(module == name or module.startswith(f"{name}.") for name in forbidden)
    ]


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("--version",), "tradecore, version"),
        (("--help",), "refresh-tokens"),
    ],
)
def test_version_and_help_import_no_heavy_module(args: tuple[str, ...], shown: str) -> None:
    modules, out = imported_modules(*args)
    assert shown in out
    # The profile was read: the command line itself is in it (else this test could not fail).
    assert {"click", "tradecore_cli.main"} <= set(modules), modules[-20:]
    assert forbidden_in(modules) == [], "imported by `tradecore " + " ".join(args) + "`"


# A command's own --help loads its module (and the core, and rich for the commands that print
# tables), but not the adapters: those are imported when the command opens the application.
COMMAND_HELP_FORBIDDEN = tuple(
    name for name in FORBIDDEN if name not in {"tradecore", "rich", "tradecore_cli.commands"}
)


def test_each_commands_help_imports_no_adapter() -> None:
    from tradecore_cli.command_table import COMMANDS

    offenders = {}
    for name in COMMANDS:
        modules, out = imported_modules(name, "--help")
        assert f"Usage: tradecore {name}" in out
        assert "click" in modules  # the profile was read
        found = forbidden_in(modules, COMMAND_HELP_FORBIDDEN)
        if found:
            offenders[name] = found[:5]
    assert offenders == {}


# What a command on the database needs is SQLAlchemy, the key (cryptography) and the plugins'
# declarations; not the web front end, HTTP, Telegram, rich or a broker it does not use, and not
# Alembic: the schema check reads the version row and the migration files as text
# (tradecore_adapters.sqlalchemy.schema_version).
NOT_FOR_STATUS = (
    "alembic",
    "httpx",
    "httpcore",
    "tenacity",
    "telegram",
    "rich",
    "litestar",
    "jinja2",
    "prometheus_client",
    "tradecore_web",
    "tradecore_adapters.binance.broker",
    "tradecore_adapters.saxo.broker",
    "tradecore_adapters.saxo.login",
    "tradecore_adapters.telegram.notifier",
)


@pytest.mark.parametrize("args", [("automation", "status"), ("run",)])
def test_status_and_a_cron_pass_import_only_what_they_use(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    for setup in (("init",), ("user", "add", "alice")):
        imported_modules(*setup, home=tmp_path)
    modules, _ = imported_modules(*args, home=tmp_path)
    assert "sqlalchemy" in modules  # it did open the database
    assert forbidden_in(modules, NOT_FOR_STATUS) == []
