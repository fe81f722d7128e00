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


def imported_modules(*args: str) -> tuple[list[str], str]:
    """The modules the installed ``tradecore ARGS`` imports, in order, and its standard output."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADECORE_")}
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


def forbidden_in(modules: list[str]) -> list[str]:
    return [
        module
        for module in modules
        if any(module == name or module.startswith(f"{name}.") for name in FORBIDDEN)
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
