"""Names that look like rich console markup are shown literally by every command that shows them
(issue 17): a user named ``[/]`` once crashed ``user list`` for everybody, ``[bold red]x[/]`` was
shown as a red ``x`` and a connection named ``[link=http://e]x[/link]`` as a link.

One home on SQLite, shared by the module's tests: the users ``[bold red]x[/]`` and ``[/]``;
``[/]`` has the paper connection ``[link=http://e]x[/link]``, a console notification target
``[i]t[/i]``, and a dca strategy ``[bold red]x[/]`` whose first cycle bought once, so there
are positions, trades, an order and a run to list. Every listing runs through click's runner as a
new process would; one runs the installed ``tradecore`` script as a real process on a forced
colour terminal, where a style or a link would show as escape codes.

Every table (and the console digest) turns red when its strings reach rich unescaped; the two
listings printed as plain lines (``automation status --user``, ``automation logs``) do not use
rich today and are here so that they stay literal if they ever do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tradecore_cli.main import cli

STYLED = "[bold red]x[/]"
CLOSING = "[/]"
LINK = "[link=http://e]x[/link]"
TARGET = "[i]t[/i]"


class Cli:
    """``tradecore`` through click's runner, in one home, with its own environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str) -> Result:
        obj: dict[str, Any] = {"environ": dict(self.env)}
        return CliRunner().invoke(cli, list(args), obj=obj, catch_exceptions=False)

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        return result.stdout


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """The home described in the module's docstring, before its cycle."""
    tradecore = Cli({"TRADECORE_HOME": str(tmp_path_factory.mktemp("literal") / "home")})
    tradecore.ok("init")
    tradecore.ok("user", "add", STYLED)
    tradecore.ok("user", "add", CLOSING)
    tradecore.ok("broker", "add", "paper", "--name", LINK, "--user", CLOSING)
    tradecore.ok("notify", "add", "console", "--name", TARGET, "--user", CLOSING)
    tradecore.ok(
        "strategy", "add", "dca", "--name", STYLED, "--connection", LINK, "--user", CLOSING,
        "--param", "instrument=BTC-USD", "--param", "amount=50",
    )  # fmt: skip
    return tradecore


@pytest.fixture(scope="module")
def cycled(home: Cli) -> str:
    """What the first cycle of ``[/]`` printed: it syncs, and the strategy places its first order."""
    return home.ok("cycle", "--user", CLOSING)


LISTINGS = [
    (("user", "list"), (STYLED, CLOSING)),
    (("broker", "list", "--user", CLOSING), (LINK,)),
    (("notify", "list", "--user", CLOSING), (TARGET,)),
    (("positions", "--user", CLOSING), (LINK,)),
    (("trades", "--user", CLOSING), (LINK,)),
    (("automation", "status"), (STYLED, CLOSING)),
    (("automation", "status", "--user", CLOSING), (CLOSING,)),
    (("automation", "logs", "--user", CLOSING), (LINK, STYLED)),
    (("strategy", "list", "--user", CLOSING), (STYLED, LINK)),
    # Its own lines name the strategy and the connection; its table of orders names them again.
    (("strategy", "show", STYLED, "--user", CLOSING), (f"Last orders of {STYLED}", LINK, LINK)),
    (("order", "list", "--user", CLOSING), (LINK, STYLED)),
]


@pytest.mark.parametrize(("args", "shown"), LISTINGS, ids=[" ".join(args) for args, _ in LISTINGS])
def test_a_listing_shows_the_names_literally(
    home: Cli, cycled: str, args: tuple[str, ...], shown: tuple[str, ...]
) -> None:
    out = home.ok(*args)

    for name in set(shown):  # a name given twice is shown (at least) twice
        assert out.count(name) >= shown.count(name), out


def test_the_cycle_digest_on_the_console_shows_the_names_literally(cycled: str) -> None:
    assert f"Summary — {CLOSING}" in cycled
    assert LINK in cycled
    assert STYLED in cycled


def test_the_installed_script_on_a_colour_terminal_prints_no_style_and_no_link(
    home: Cli,
) -> None:
    script = Path(sys.executable).with_name("tradecore")
    if not script.exists():
        pytest.fail(f"the tradecore console script is not installed next to {sys.executable}")
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADECORE_")}
    # rich treats FORCE_COLOR as a colour terminal: a parsed [link] would become an OSC 8
    # hyperlink and [bold red] the escape code ESC[1;31m.
    env.update(home.env, FORCE_COLOR="1", COLUMNS="160")
    env.pop("NO_COLOR", None)
    for args, shown in LISTINGS[:2]:
        done = subprocess.run(
            [str(script), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert "\x1b[" in done.stdout  # the terminal is in colour indeed (the table's header)
        assert "\x1b]8;" not in done.stdout
        assert "\x1b[1;31m" not in done.stdout
        for name in shown:
            assert name in done.stdout, done.stdout
