"""What scripts expect from the command line (issue 17, item 6): ``--json`` prints one JSON
document on standard output and nothing else, holding what the text shows (amounts as exact
strings, times ISO 8601 in UTC), with the text mode's exit status; ``--quiet`` prints nothing on
success and only errors, on standard error.

Through click's runner on a temporary home with the simulated ``paper`` broker; a broker that
fails is a ``binance`` connection pointed at a closed port on loopback.
"""

from __future__ import annotations

import json
import socket
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from tests.e2e.cli_runner import Cli


@pytest.fixture
def home(tmp_path: Path) -> Cli:
    """An initialised home with the user alice and her paper connection ``p1``."""
    tradecore = Cli({"TRADECORE_HOME": str(tmp_path / "home")})
    tradecore.ok("init")
    tradecore.ok("user", "add", "alice")
    tradecore.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    return tradecore


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def add_failing_connection(home: Cli) -> None:
    """``b1``: a binance connection whose server refuses every connection."""
    keys = {"BINANCE_API_KEY": "key-0123456789", "BINANCE_API_SECRET": "secret-0123456789"}
    Cli({**home.env, **keys}).ok(
        "broker", "add", "binance", "--name", "b1", "--user", "alice",
        "--setting", f"base_url=http://127.0.0.1:{closed_port()}",
    )  # fmt: skip


# -- --json -----------------------------------------------------------------------------------


def test_sync_json_holds_the_counts_the_text_shows(home: Cli) -> None:
    first = home.json("sync", "--user", "alice")
    text = home.ok("sync", "--user", "alice")

    assert first["user"] == "alice"
    [p1] = first["connections"]
    assert p1["connection"] == "p1"
    assert p1["broker"] == "paper"
    assert p1["ok"] is True
    assert p1["accounts"] == ["paper"]
    assert p1["trades_new"] == p1["trades_seen"] > 0
    assert p1["error"] is None
    assert f"p1 (paper): 1 account(s), {p1['positions']} position(s)" in text
    assert "0 new." in text  # the second sync adds nothing


def test_sync_json_reports_a_failed_connection_and_exits_1(home: Cli) -> None:
    add_failing_connection(home)

    data = home.json("sync", "--user", "alice", status=1)

    by_name = {each["connection"]: each for each in data["connections"]}
    assert by_name["p1"]["ok"] is True
    assert by_name["b1"]["ok"] is False
    assert "did not answer" in by_name["b1"]["error"]
    assert by_name["b1"]["trades_new"] is None


def test_cycle_json_holds_the_run_and_its_steps_and_keeps_the_digest_off_stdout(
    home: Cli,
) -> None:
    result = home("cycle", "--user", "alice", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # the console digest went to standard error
    assert "p1" in result.stderr
    assert data["user"] == "alice"
    assert data["ok"] is True
    assert data["busy"] == []
    [run] = data["runs"]
    assert run["status"] == "success"
    assert run["trigger"] == "manual"
    assert run["error"] is None
    assert run["run"]["id"] == run["run_id"]
    assert run["run"]["started_at"].endswith("+00:00")
    steps = {(step["kind"], step["subject"]): step for step in run["run"]["steps"]}
    assert steps["sync", "p1"]["status"] == "success"
    logged = home.ok("automation", "logs", "--user", "alice", "--limit", "1")
    assert f"run {run['run_id']}" in logged


def test_run_json_lists_the_pass(home: Cli) -> None:
    assert home.json("run") == {"ok": True, "runs": [], "busy": []}
    assert home.ok("run") == "No cycle was due.\n"

    home.ok("automation", "start", "--user", "alice")
    data = home.json("run")

    [run] = data["runs"]
    assert data["ok"] is True
    assert (run["user"], run["status"], run["trigger"]) == ("alice", "success", "cron")
    assert next(step["kind"] for step in run["run"]["steps"]) == "sync"


def test_check_json_holds_every_check(home: Cli) -> None:
    data = home.json("check")
    text = home.ok("check")

    assert data["ok"] is True
    assert data["failed"] == 0
    assert data["passed"] == len(data["checks"]) >= 3
    for check in data["checks"]:
        assert f"ok    {check['subject']}: {check['text']}" in text
    assert f"{data['passed']} passed, 0 failed." in text


def test_risk_show_json_holds_the_limits_and_the_kill_switch(home: Cli) -> None:
    home.ok(
        "risk", "set", "--user", "alice", "--max-order-notional", "250.50",
        "--allowed-instruments", "ETH-USD,BTC-USD",
    )  # fmt: skip
    home.ok("risk", "halt", "--reason", "maintenance")

    data = home.json("risk", "show", "--user", "alice")

    assert data["limits"] == {
        "max_order_notional": "250.50",
        "max_cycle_notional": None,
        "max_orders_per_cycle": 10,
        "allowed_instruments": ["BTC-USD", "ETH-USD"],
    }
    assert data["kill_switch"]["engaged"] is True
    assert data["kill_switch"]["reason"] == "maintenance"
    assert data["kill_switch"]["since"].endswith("+00:00")
    assert data["automation_paused"] is False


def place(home: Cli, *extra: str, **kwargs: Any) -> Result:
    return home(
        "order", "place", "--connection", "p1", "--symbol", "BTC-USD", "--side", "buy",
        "--user", "alice", *extra, **kwargs,
    )  # fmt: skip


def test_order_place_json_holds_the_order_and_asks_on_standard_error(home: Cli) -> None:
    result = place(
        home, "--quantity", "0.01", "--key", "k-1", "--json", input="y\n", interactive=True
    )

    assert result.exit_code == 0, result.output
    assert "About to send an order to p1 (paper)" in result.stderr
    assert "Send it?" in result.stderr
    data = json.loads(result.stdout)
    order = data["order"]
    assert (data["existed"], data["accepted"], data["broker"]) == (False, True, "paper")
    assert order["status"] == "filled"
    assert order["manual"] is True
    assert order["quantity"] == order["filled_quantity"] == "0.01"
    assert Decimal(order["average_fill_price"]) > 0
    assert order["created_at"].endswith("+00:00")

    again = place(home, "--quantity", "0.01", "--key", "k-1", "--yes", "--json")

    assert again.exit_code == 0, again.output
    repeated = json.loads(again.stdout)
    assert repeated["existed"] is True
    assert repeated["order"]["client_order_id"] == order["client_order_id"]


def test_order_status_and_cancel_json_say_what_the_broker_answered(home: Cli) -> None:
    placed = json.loads(
        place(
            home, "--quantity", "0.01", "--type", "limit", "--price", "1000", "--yes", "--json"
        ).stdout
    )
    client_id = placed["order"]["client_order_id"]
    assert placed["order"]["status"] == "open"
    assert placed["order"]["limit_price"] == "1000"

    # Each command is a new process; the paper venue, in the database, knows the order.
    status = home.json("order", "status", client_id, "--user", "alice")
    assert status["order"]["client_order_id"] == client_id
    assert status["asked_broker"] is True
    assert status["known_to_broker"] is True
    assert status["order"]["status"] == "open"

    cancel = home.json("order", "cancel", client_id, "--user", "alice")
    assert cancel["cancelled"] is True
    assert cancel["working"] is False
    assert cancel["known_to_broker"] is True
    assert cancel["order"]["status"] == "canceled"

    # A new simulated account (the settings changed) does not know it: said, never resent.
    placed = json.loads(
        place(
            home, "--quantity", "0.01", "--type", "limit", "--price", "1000", "--yes", "--json"
        ).stdout
    )
    home.ok("broker", "edit", "p1", "--user", "alice", "--setting", "seed=7")
    status = home.json("order", "status", placed["order"]["client_order_id"], "--user", "alice")
    assert status["known_to_broker"] is False
    assert status["order"]["status"] == "open"
    cancel = home.json(
        "order", "cancel", placed["order"]["client_order_id"], "--user", "alice", status=1
    )
    assert (cancel["cancelled"], cancel["working"], cancel["known_to_broker"]) == (
        False,
        True,
        False,
    )


def test_strategy_show_json_holds_parameters_state_and_orders(home: Cli) -> None:
    home.ok(
        "strategy", "add", "dca", "--name", "btc", "--connection", "p1", "--user", "alice",
        "--param", "instrument=BTC-USD", "--param", "amount=50",
    )  # fmt: skip
    home.ok("cycle", "--user", "alice")

    data = home.json("strategy", "show", "btc", "--user", "alice")
    text = home.ok("strategy", "show", "btc", "--user", "alice")

    assert (data["name"], data["type"], data["connection"]) == ("btc", "dca", "p1")
    assert data["installed"] is True
    assert data["mode"] == "live"
    assert data["active"] is True
    assert data["parameters"] == {"amount": "50", "instrument": "BTC-USD"}
    assert data["effective"]["every"] == "1d"
    assert data["state"]
    for key, value in data["state"].items():
        assert f"{key}: {value}" in text
    [order] = data["orders"]
    assert order["strategy"] == "btc"
    assert order["manual"] is False
    assert order["client_order_id"] in text


def test_db_current_json_says_whether_the_schema_is_the_newest(home: Cli) -> None:
    data = home.json("db", "current")

    assert data["up_to_date"] is True
    assert data["revision"] == data["newest"]
    assert f"revision {data['revision']} (the newest)" in home.ok("db", "current")


def test_notify_test_json_lists_each_target_and_keeps_the_message_off_stdout(home: Cli) -> None:
    home.ok("notify", "add", "console", "--name", "c1", "--user", "alice")

    result = home("notify", "test", "--user", "alice", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "user": "alice",
        "targets": [{"name": "c1", "sent": True, "error": None}],
    }
    assert "Test message from tradecore for alice." in result.stderr


def test_refresh_tokens_json_is_an_empty_list_without_oauth_connections(home: Cli) -> None:
    result = home("refresh-tokens", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert "No connection has OAuth tokens to renew." in result.stderr


# -- --quiet ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("sync", "--user", "alice"),
        ("cycle", "--user", "alice"),
        ("run",),
        ("run", "--force"),
        ("refresh-tokens",),
    ],
)
def test_quiet_prints_nothing_on_success(home: Cli, args: tuple[str, ...]) -> None:
    result = home(*args, "--quiet")

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == ""


@pytest.mark.parametrize("args", [("sync",), ("cycle",), ("run", "--force")])
def test_quiet_prints_only_the_failure_on_standard_error(home: Cli, args: tuple[str, ...]) -> None:
    add_failing_connection(home)

    result = home(*args, "--user", "alice", "-q")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "alice" in result.stderr or "b1" in result.stderr
    assert "p1 (paper):" not in result.stderr  # the success is not reported
