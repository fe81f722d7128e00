"""What the shared-limits tests against a fake Binance share: a home with a user and a Binance
connection made through the command line, and the ``tradecore`` script run as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, API_SECRET, market

from tradecore_cli.main import cli

__all__ = ["KEYS", "Tradecore", "funded_fake", "prepare_home"]

KEYS = {"BINANCE_API_KEY": API_KEY, "BINANCE_API_SECRET": API_SECRET}


def funded_fake(**options: object) -> FakeBinance:
    """A fake Binance with the test market and the test account holding four assets."""
    fake = FakeBinance(**options)  # type: ignore[arg-type]
    market(fake)
    account = fake.add_account(
        API_KEY,
        secret=API_SECRET,
        balances={"BTC": ("0.5", "0"), "USDT": ("10", "0"), "ETH": ("1", "0"), "BNB": ("2", "0")},
    )
    account.add_trades("BTCUSDT", 3)
    return fake


def prepare_home(home: Path, users: dict[str, str], *, symbols: str) -> None:
    """``tradecore init`` in ``home``, then each user with a ``binance`` connection ``b1`` to
    the base URL given (``users``: name -> base URL), syncing ``symbols``."""

    def ok(*args: str, env: dict[str, str] | None = None) -> None:
        environ = {"TRADECORE_HOME": str(home), **(env or {})}
        result = CliRunner().invoke(cli, list(args), obj={"environ": environ})
        assert result.exit_code == 0, result.output

    ok("init")
    for name, base_url in users.items():
        ok("user", "add", name)
        ok(
            "broker", "add", "binance", "--name", "b1", "--user", name,
            "--setting", f"base_url={base_url}", "--setting", f"symbols={symbols}",
            env=KEYS,
        )  # fmt: skip


class Tradecore:
    """The installed ``tradecore`` script run as its own process on ``home``."""

    def __init__(self, home: Path) -> None:
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("TRADECORE_", "AUTOMATION_", "BINANCE_"))
        }
        self.env["TRADECORE_HOME"] = str(home)
        self.script = str(Path(sys.executable).with_name("tradecore"))

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start it; read its outcome with ``communicate``."""
        return subprocess.Popen(
            [self.script, *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """Run it to its end."""
        return subprocess.run(
            [self.script, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
