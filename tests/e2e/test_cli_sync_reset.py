"""``tradecore sync --reset-cursor``: a Binance connection whose stored trade cursor is corrupt
(a next trade id of 10^23, as an older version could store) is refused with a sentence that says
how to get out, and is reset without removing the connection or losing any stored trade; a
poisoned trade id refuses its symbol's page alone (nothing of it stored, its cursor kept) while
the connection's other symbols are synced."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.cli_runner import Cli, error_line
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, API_SECRET, market

KEYS = {"BINANCE_API_KEY": API_KEY, "BINANCE_API_SECRET": API_SECRET}


@pytest.fixture
def fake() -> FakeBinance:
    exchange = FakeBinance()
    market(exchange)
    account = exchange.add_account(
        API_KEY, secret=API_SECRET, balances={"BTC": ("0.50000000", "0"), "USDT": ("10", "0")}
    )
    account.add_trades("BTCUSDT", 5)
    account.add_trades("BNBUSDT", 3)
    return exchange


@pytest.fixture
def cli(tmp_path: Path, fake: FakeBinance) -> Iterator[Cli]:
    with fake.serve() as url:
        run = Cli({"TRADECORE_HOME": str(tmp_path), **KEYS})
        run.ok("init")
        run.ok("user", "add", "alice")
        run.ok(
            "broker", "add", "binance", "--name", "b1", "--user", "alice",
            "--setting", f"base_url={url}", "--setting", "symbols=BTCUSDT,BNBUSDT",
        )  # fmt: skip
        yield run


def _stored_cursor(home: Path) -> dict[str, object]:
    with sqlite3.connect(home / "tradecore.db") as db:
        (text,) = db.execute("SELECT cursor FROM sync_cursors WHERE account_id = 'spot'").fetchone()
    cursor: dict[str, object] = json.loads(text)
    return cursor


def _corrupt_cursor(home: Path, symbol: str, next_id: int) -> None:
    cursor = _stored_cursor(home)
    cursor["next"] = {**cursor["next"], symbol: next_id}  # type: ignore[dict-item]
    with sqlite3.connect(home / "tradecore.db") as db:
        db.execute(
            "UPDATE sync_cursors SET cursor = ? WHERE account_id = 'spot'", (json.dumps(cursor),)
        )


def _trade_ids(cli: Cli) -> list[tuple[str, str]]:
    trades = cli.json("trades", "--user", "alice")
    return sorted((t["symbol"], t["broker_trade_id"]) for t in trades)


def test_a_corrupt_cursor_is_reset_from_the_command_line_without_losing_history(
    cli: Cli, fake: FakeBinance, tmp_path: Path
) -> None:
    cli.ok("sync", "--user", "alice")
    before = _trade_ids(cli)
    assert len(before) == 8
    _corrupt_cursor(tmp_path, "BTCUSDT", 10**23)
    fake.accounts[API_KEY].add_trades("BTCUSDT", 2)  # two new fills wait behind the cursor

    line = error_line(cli("sync", "--user", "alice"))
    assert "the next trade id of BTCUSDT is 100000000000000000000000" in line
    assert "tradecore sync --reset-cursor ACCOUNT --connection NAME" in line
    assert fake.count("GET", "/api/v3/myTrades") == 2, "no fromId Binance would refuse was sent"

    refused = cli("sync", "--user", "alice", "--reset-cursor", "spot")
    assert "--reset-cursor needs --connection NAME" in refused.output
    assert refused.exit_code == 2
    wrong = error_line(
        cli("sync", "--user", "alice", "--connection", "b1", "--reset-cursor", "BTCUSDT")
    )
    assert "accounts with one are: 'spot'" in wrong

    out = cli.ok("sync", "--user", "alice", "--connection", "b1", "--reset-cursor", "spot")
    assert "Reset the sync cursor of b1 / spot" in out
    assert "10 trade(s) seen, 2 new" in out
    after = _trade_ids(cli)
    assert set(before) < set(after), "nothing stored before was lost"
    assert len(after) == 10, "and nothing stored twice"
    assert _stored_cursor(tmp_path)["next"] == {"BNBUSDT": 4, "BTCUSDT": 8}
    assert "0 new" in cli.ok("sync", "--user", "alice")
    assert cli.ok("broker", "list", "--user", "alice").count("b1") == 1, "the connection stayed"


def test_a_poisoned_trade_id_refuses_its_symbol_only_and_the_other_symbols_are_synced(
    cli: Cli, fake: FakeBinance, tmp_path: Path
) -> None:
    cli.ok("sync", "--user", "alice")
    cli.ok(
        "strategy", "add", "dca", "--name", "stack", "--connection", "b1", "--user", "alice",
        "--param", "instrument=BTCUSDT", "--param", "amount=50", "--param", "every=1h",
    )  # fmt: skip
    account = fake.accounts[API_KEY]
    account.add_trades("BTCUSDT", 1)
    account.add_trades("BTCUSDT", 1, first_id=99999999999999999999999)
    account.add_trades("BNBUSDT", 2)  # the other symbol's new fills

    line = error_line(cli("sync", "--user", "alice"))
    assert "GET /api/v3/myTrades BTCUSDT: row 1: 'id' is 99999999999999999999999" in line
    assert "Binance sent an invalid value, so none of BTCUSDT's new trades were stored" in line
    assert "resetting the cursor does not help" in line
    assert "BNBUSDT" not in line, "only the poisoned symbol is named"
    stored = _trade_ids(cli)
    assert len(stored) == 10, "the other symbol's two new fills were stored"
    assert {("BNBUSDT", "4"), ("BNBUSDT", "5")} <= set(stored)
    assert not [t for t in stored if t[0] == "BTCUSDT" and int(t[1]) > 5], "nor the good one"
    assert _stored_cursor(tmp_path)["next"] == {"BNBUSDT": 6, "BTCUSDT": 6}, "BTCUSDT's kept"

    # Each sync asks again and still refuses it; the cycle blocks the connection's strategies
    # (its sync failed), as for any failed sync: no order reaches Binance.
    again = error_line(cli("sync", "--user", "alice"))
    assert "BTCUSDT's new trades were stored" in again
    cycle = cli("cycle", "--user", "alice", "--json")
    assert cycle.exit_code != 0
    (run,) = json.loads(cycle.stdout)["runs"]
    steps = {step["kind"]: step for step in run["run"]["steps"]}
    assert steps["sync"]["status"] == "failure"
    assert "BTCUSDT" in steps["sync"]["error"]
    assert steps["strategy"]["status"] == "skipped"
    assert steps["strategy"]["error"] == "connection 'b1' did not sync"
    assert fake.count("POST", "/api/v3/order") == 0
    assert len(_trade_ids(cli)) == 10, "nothing stored twice"
