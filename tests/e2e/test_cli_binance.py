"""The ``binance`` broker from the command line, against a fake Binance on loopback that checks
signatures and timestamps: add, test, sync, read back, sync again; secrets never shown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, API_SECRET, market

from tradecore_cli.main import cli


@pytest.fixture
def binance_url() -> Iterator[str]:
    fake = FakeBinance()
    market(fake)
    account = fake.add_account(
        API_KEY, secret=API_SECRET, balances={"BTC": ("0.50000000", "0"), "USDT": ("10", "0")}
    )
    account.add_trades("BTCUSDT", 1500, price="43210.12345678", qty="0.00010000")
    account.add_trades("BNBUSDT", 3)
    with fake.serve() as url:
        yield url


def run(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    environ = {"TRADECORE_HOME": str(home), **(env or {})}
    return CliRunner().invoke(cli, list(args), obj={"environ": environ}, catch_exceptions=False)


def ok(home: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = run(home, *args, env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


KEYS = {"BINANCE_API_KEY": API_KEY, "BINANCE_API_SECRET": API_SECRET}


def test_add_test_sync_and_read_back_through_the_installed_script(
    tmp_path: Path, binance_url: str
) -> None:
    # The real `tradecore` executable: the binance plugin is found through its entry point.
    env = {**os.environ, "TRADECORE_HOME": str(tmp_path / "home"), **KEYS}
    env.pop("TRADECORE_DATABASE_URL", None)
    script = Path(sys.executable).with_name("tradecore")

    def tradecore(*args: str) -> str:
        done = subprocess.run(
            [str(script), *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert API_SECRET not in done.stdout + done.stderr
        assert API_KEY not in done.stdout + done.stderr
        return done.stdout

    tradecore("init")
    tradecore("user", "add", "alice")
    tradecore(
        "broker", "add", "binance", "--name", "b1", "--user", "alice",
        "--setting", f"base_url={binance_url}", "--setting", "symbols=BNBUSDT",
    )  # fmt: skip
    assert "spot" in tradecore("broker", "test", "b1", "--user", "alice")
    tradecore("sync", "--user", "alice")
    trades: list[dict[str, Any]] = json.loads(tradecore("trades", "--user", "alice", "--json"))
    assert len(trades) == 1503
    btc = [t for t in trades if t["symbol"] == "BTCUSDT"]
    assert {t["price"] for t in btc} == {"43210.12345678"}, "amounts exactly as Binance wrote them"
    assert sum(Decimal(t["quantity"]) for t in btc) == Decimal("0.15000000")
    positions = json.loads(tradecore("positions", "--user", "alice", "--json"))
    assert {p["symbol"]: p["quantity"] for p in positions} == {
        "BTC": "0.50000000",
        "USDT": "10.00000000",
    }

    tradecore("sync", "--user", "alice")
    again = json.loads(tradecore("trades", "--user", "alice", "--json"))
    assert len(again) == 1503, "a second sync adds nothing"


def test_testnet_comes_from_binance_testnet_and_a_wrong_secret_is_one_clear_line(
    tmp_path: Path, binance_url: str
) -> None:
    home = tmp_path / "home"
    ok(home, "init")
    ok(home, "user", "add", "alice")
    ok(
        home, "broker", "add", "binance", "--name", "t1", "--user", "alice",
        "--setting", f"base_url={binance_url}",
        env={**KEYS, "BINANCE_TESTNET": "true"},
    )  # fmt: skip
    listed = ok(home, "broker", "list", "--user", "alice")
    assert "testnet=true" in listed

    wrong = "not-the-right-secret-31337"
    ok(
        home, "broker", "add", "binance", "--name", "w1", "--user", "alice",
        "--setting", f"base_url={binance_url}",
        env={"BINANCE_API_KEY": API_KEY, "BINANCE_API_SECRET": wrong},
    )  # fmt: skip
    result = run(home, "broker", "test", "w1", "--user", "alice")
    assert result.exit_code != 0
    assert "-1022" in result.output
    assert "Signature for this request is not valid" in result.output
    assert wrong not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("market=margin", "must be one of spot, futures, both"),
        ("recv_window=90000", "recv_window"),
        ("base_url=ftp://example.com", "http(s) URL"),
        ("testnet=maybe", "true or false"),
    ],
)
def test_unusable_settings_are_refused_when_adding(
    tmp_path: Path, setting: str, message: str
) -> None:
    home = tmp_path / "home"
    ok(home, "init")
    ok(home, "user", "add", "alice")
    result = run(
        home, "broker", "add", "binance", "--name", "x", "--user", "alice", "--setting", setting,
        env=KEYS,
    )  # fmt: skip
    assert result.exit_code != 0
    assert message in result.output
    assert "x" not in ok(home, "broker", "list", "--user", "alice").split()


@pytest.mark.parametrize("setting", ["base_url", "futures_base_url"])
def test_plain_http_to_a_remote_host_is_refused_and_loopback_accepted(
    tmp_path: Path, binance_url: str, setting: str
) -> None:
    # The API key and signed queries would cross the network in clear text.
    home = tmp_path / "home"
    ok(home, "init")
    ok(home, "user", "add", "alice")
    result = run(
        home, "broker", "add", "binance", "--name", "b", "--user", "alice",
        "--setting", f"{setting}=http://203.0.113.5", env=KEYS,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert (
        f"setting {setting!r} must use https:// for a remote host (http:// is only allowed on "
        "this machine: 127.0.0.1, ::1, localhost); got http://203.0.113.5"
    ) in result.output
    assert "Traceback" not in result.output
    assert "b" not in ok(home, "broker", "list", "--user", "alice").split()

    assert binance_url.startswith("http://127.0.0.1:")
    ok(
        home, "broker", "add", "binance", "--name", "b", "--user", "alice",
        "--setting", f"{setting}={binance_url}", env=KEYS,
    )  # fmt: skip
    assert "b" in ok(home, "broker", "list", "--user", "alice").split()
    if setting == "base_url":
        assert "spot" in ok(home, "broker", "test", "b", "--user", "alice")
