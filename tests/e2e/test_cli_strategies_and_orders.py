"""The command line of strategies, orders and risk (issue 7): ``tradecore strategy …``, ``tradecore
order …`` and ``tradecore risk …`` on a real SQLite database, against the simulated ``paper``
broker (nothing reaches the network).

Most tests go through click's runner, each command a new application exactly as a new process
would be (the paper venue, which keeps orders in memory, is new for every command); the resting
limit order's story runs the installed ``tradecore`` script as real processes. Uncertain outcomes
and several accounts come from ``shaky``, a small broker plugin these tests install as a
distribution on ``sys.path``: its ``place_order`` times out with an error quoting its API key.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tradecore.domain import Instrument, OrderStatus, OrderType, Side
from tradecore.services import ManualOrder, cancel_recorded_order, open_broker, place_manual_order
from tradecore_adapters.bootstrap import open_application
from tradecore_cli.main import cli
from tradecore_cli.settings import load_settings

CANARY = "canary-51c0ffee-never-print-me"


class Cli:
    """``tradecore`` through click's runner, in one home, with its own environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, input: str | None = None) -> Result:
        obj: dict[str, Any] = {"environ": dict(self.env)}
        if input is not None:  # answers typed at a terminal: the command may ask
            obj["interactive"] = True
        return CliRunner().invoke(cli, list(args), obj=obj, input=input, catch_exceptions=False)

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self(*args, input=input)
        assert result.exit_code == 0, result.output
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))


def error_line(result: Result, status: int) -> str:
    """The one ``Error:`` line of a command that failed with ``status``; no traceback."""
    assert result.exit_code == status, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture
def home(tmp_path: Path) -> Cli:
    """An initialised home on SQLite with the user alice and her paper connection ``p1``."""
    tradecore = Cli({"TRADECORE_HOME": str(tmp_path / "home")})
    tradecore.ok("init")
    tradecore.ok("user", "add", "alice")
    tradecore.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    return tradecore


DCA = ("--param", "instrument=BTC-USD", "--param", "amount=50")


def add_dca(home: Cli, name: str, *extra: str) -> str:
    return home.ok(
        "strategy", "add", "dca", "--name", name, "--connection", "p1", "--user", "alice",
        *DCA, *extra,
    )  # fmt: skip


def place(home: Cli, *args: str, input: str | None = None) -> Result:
    return home(
        "order", "place", "--connection", "p1", "--user", "alice", "--symbol", "BTC-USD", *args,
        input=input,
    )  # fmt: skip


def orders(home: Cli, *args: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = home.json("order", "list", "--user", "alice", *args)
    return listed


# -- strategy add: validated when added ---------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "sentence"),
    [
        (
            ("--param", "instrument=BTC-USD", "--param", "amount=lots"),
            "strategy 'btc' (dca): parameter 'amount' must be a decimal number such as 100 or "
            "0.25; got 'lots'",
        ),
        (
            ("--param", "instrument=BTC-USD", "--param", "amount=50", "--param", "every=5s"),
            "strategy 'btc' (dca): parameter 'every' must be a duration such as 30m, 4h, 1d or "
            "1w; got '5s'",
        ),
        (
            ("--param", "instrument=BTC-USD", "--param", "amount=50", "--param", "sometimes=1"),
            "strategy 'btc' (dca): unknown parameter(s) sometimes; allowed: amount, every, "
            "instrument,",
        ),
        (("--param", "instrument=BTC-USD"), "strategy 'btc' (dca): parameter 'amount' is required"),
    ],
)
def test_a_bad_parameter_is_refused_with_its_sentence_and_nothing_is_stored(
    home: Cli, params: tuple[str, ...], sentence: str
) -> None:
    result = home(
        "strategy", "add", "dca", "--name", "btc", "--connection", "p1", "--user", "alice",
        *params,
    )  # fmt: skip

    assert sentence in error_line(result, 2)
    assert home.json("strategy", "list", "--user", "alice") == []
    assert "alice has no strategies" in home.ok("strategy", "list", "--user", "alice")


def test_an_unknown_type_lists_the_installed_ones(home: Cli) -> None:
    result = home("strategy", "add", "hodl", "--name", "x", "--connection", "p1", *DCA)

    line = error_line(result, 2)
    assert "'hodl' is not an installed strategy type" in line
    assert "dca" in line
    assert "rebalance" in line


def test_an_unknown_connection_is_a_usage_error(home: Cli) -> None:
    result = home("strategy", "add", "dca", "--name", "x", "--connection", "nope", *DCA)

    assert "alice has no broker connection named 'nope'" in error_line(result, 2)


def test_dca_added_as_a_dry_run_and_live_shows_its_parameters_with_defaults(home: Cli) -> None:
    dry = add_dca(home, "btc-dry", "--dry-run")
    live = add_dca(home, "btc-live", "--param", "every=1w")

    assert "Added dca strategy btc-dry for alice on connection p1 (paper), dry run" in dry
    assert "places nothing" in dry
    assert "instrument=BTC-USD, amount=50, every=1d (default)" in dry
    assert "Added dca strategy btc-live for alice on connection p1 (paper), live" in live
    assert "every=1w," in live
    assert "every=1w (default)" not in live
    listed = {each["name"]: each for each in home.json("strategy", "list", "--user", "alice")}
    assert listed["btc-dry"]["mode"] == "dry-run"
    assert listed["btc-live"]["mode"] == "live"
    assert listed["btc-live"]["connection"] == "p1"
    assert listed["btc-live"]["active"] is True
    assert listed["btc-live"]["parameters"] == {
        "amount": "50",
        "every": "1w",
        "instrument": "BTC-USD",
    }
    assert listed["btc-dry"]["effective"]["every"] == "1d"
    table = home.ok("strategy", "list", "--user", "alice")
    row = next(line for line in table.splitlines() if "btc-dry" in line)
    assert "dca" in row
    assert "p1" in row
    assert "yes" in row
    assert "dry-run" in row


def test_a_duplicate_name_is_a_clear_error(home: Cli) -> None:
    add_dca(home, "btc")

    result = home("strategy", "add", "dca", "--name", "btc", "--connection", "p1", *DCA)

    assert "alice already has a strategy named 'btc'" in error_line(result, 1)
    assert len(home.json("strategy", "list")) == 1


def test_show_lists_every_parameter_its_state_and_its_orders(home: Cli) -> None:
    add_dca(home, "btc")

    before = home.ok("strategy", "show", "btc", "--user", "alice")
    home.ok("cycle", "--user", "alice")  # the first period is due: one market buy on paper
    after = home.ok("strategy", "show", "btc", "--user", "alice")

    assert "Strategy btc of alice" in before
    assert "connection: p1 (paper)" in before
    assert "mode:       live" in before
    for parameter in ("instrument", "amount", "every", "quantity_step", "max_price"):
        assert parameter in before
    assert "1d (default)" in before
    assert "How much to spend per buy" in before
    assert "State: nothing remembered yet." in before
    assert "Orders: none yet." in before
    assert "State (what it remembers between cycles):" in after
    assert "Last orders of btc" in after
    assert "BTC-USD" in after
    assert "filled" in after
    [placed] = orders(home)
    assert placed["strategy"] == "btc"
    assert placed["manual"] is False
    assert placed["status"] == "filled"


def test_show_of_an_unknown_strategy_is_a_usage_error(home: Cli) -> None:
    result = home("strategy", "show", "ghost", "--user", "alice")

    assert "alice has no strategy named 'ghost'" in error_line(result, 2)


def test_disable_enable_set_mode_and_remove(home: Cli) -> None:
    add_dca(home, "btc")

    disabled = home.ok("strategy", "disable", "btc", "--user", "alice")
    assert "disabled" in disabled
    assert home.json("strategy", "list")[0]["active"] is False
    assert "is active" in home.ok("strategy", "enable", "btc")
    assert home.json("strategy", "list")[0]["active"] is True

    assert "now dry-run" in home.ok("strategy", "set-mode", "btc", "--dry-run")
    assert home.json("strategy", "list")[0]["mode"] == "dry-run"
    assert "already dry-run" in home.ok("strategy", "set-mode", "btc", "--dry-run")
    assert "now live" in home.ok("strategy", "set-mode", "btc", "--live")
    assert "say which mode" in error_line(home("strategy", "set-mode", "btc"), 2)

    declined = home("strategy", "remove", "btc", "--user", "alice", input="n\n")
    assert declined.exit_code == 1
    assert "Its orders (0) stay in the ledger" in declined.stdout
    assert "Nothing removed." in declined.stdout
    assert len(home.json("strategy", "list")) == 1

    removed = home.ok("strategy", "remove", "btc", "--user", "alice", "--yes")
    assert "Removed strategy btc of alice. Its orders (0) stay in the ledger" in removed
    assert home.json("strategy", "list") == []
    assert "no strategy named 'btc'" in error_line(home("strategy", "enable", "btc"), 2)


def test_edit_changes_parameters_checked_by_the_type_and_a_mistake_changes_nothing(
    home: Cli,
) -> None:
    add_dca(home, "btc", "--param", "every=1w")

    edited = home.ok("strategy", "edit", "btc", "--param", "amount=75", "--unset", "every")
    refused = home("strategy", "edit", "btc", "--param", "amount=lots")

    assert "now has the parameters: amount=75, instrument=BTC-USD." in edited
    assert "parameter 'amount' must be a decimal number" in error_line(refused, 2)
    [listed] = home.json("strategy", "list")
    assert listed["parameters"] == {"amount": "75", "instrument": "BTC-USD"}
    assert listed["effective"]["every"] == "1d"
    assert "no strategy named 'ghost'" in error_line(
        home("strategy", "edit", "ghost", "--param", "amount=1"), 2
    )


def test_a_removed_strategys_orders_stay_in_the_ledger(home: Cli) -> None:
    add_dca(home, "btc")
    home.ok("cycle", "--user", "alice")

    removed = home.ok("strategy", "remove", "btc", "--yes")

    assert "Its orders (1) stay in the ledger" in removed
    [kept] = orders(home)
    assert kept["strategy"] == "(removed strategy)"
    assert kept["manual"] is False


def test_types_lists_the_installed_types_with_their_parameters(home: Cli) -> None:
    text = home.ok("strategy", "types")
    types = {each["name"]: each for each in home.json("strategy", "types")}

    assert "dca: " in text
    assert "rebalance: " in text
    assert "every (duration, default 1d, at least 5m):" in text
    assert "amount (decimal, required):" in text
    dca = {spec["name"]: spec for spec in types["dca"]["parameters"]}
    assert dca["amount"]["required"] is True
    assert dca["every"]["default"] == "1d"
    assert dca["every"]["minimum"] == "5m"
    assert {"targets", "band"} <= {spec["name"] for spec in types["rebalance"]["parameters"]}


# -- order place --------------------------------------------------------------------------------


def test_a_manual_market_order_fills_on_paper_and_is_listed_as_manual(home: Cli) -> None:
    result = place(home, "--side", "buy", "--quantity", "0.01", "--yes")

    assert result.exit_code == 0, result.output
    assert "buy 0.01 BTC-USD at market on p1 (paper), account paper" in result.stdout
    assert "status:        filled" in result.stdout
    assert "filled:        0.01 of 0.01" in result.stdout
    assert "average price: " in result.stdout
    [listed] = orders(home)
    assert listed["status"] == "filled"
    assert listed["manual"] is True
    assert listed["strategy"] is None
    assert listed["quantity"] == listed["filled_quantity"] == "0.01"
    assert Decimal(listed["average_fill_price"]) > 0
    assert listed["created_at"].endswith("+00:00")
    assert listed["client_order_id"] in result.stdout
    table = home.ok("order", "list", "--user", "alice")
    row = next(line for line in table.splitlines() if listed["client_order_id"] in line)
    assert "manual" in row
    assert "filled" in row
    assert "market" in row
    assert "1 order(s)." in table


def test_place_asks_first_and_a_no_sends_nothing(home: Cli) -> None:
    declined = place(home, "--side", "buy", "--quantity", "0.01", input="n\n")

    assert declined.exit_code == 1
    assert "About to send an order to p1 (paper), account paper:" in declined.stdout
    assert "buy 0.01 BTC-USD at market" in declined.stdout
    assert "worth about " in declined.stdout
    assert " USD at the current ask" in declined.stdout
    assert "Nothing sent." in declined.stdout
    assert orders(home) == []

    accepted = place(home, "--side", "buy", "--quantity", "0.01", input="y\n")

    assert accepted.exit_code == 0, accepted.output
    assert len(orders(home)) == 1


def test_the_same_key_twice_places_one_order(home: Cli) -> None:
    first = place(home, "--side", "buy", "--quantity", "0.01", "--key", "k-1", "--yes")
    second = place(home, "--side", "buy", "--quantity", "0.01", "--key", "k-1", "--yes")

    assert first.exit_code == second.exit_code == 0, second.output
    assert "already recorded" not in first.stdout
    assert "already recorded under key k-1" in second.stdout
    assert "not sent again" in second.stdout
    [only] = orders(home)
    assert only["client_order_id"] in first.stdout
    assert only["client_order_id"] in second.stdout


def test_a_reused_key_with_another_order_says_the_recorded_one_counts(home: Cli) -> None:
    place(home, "--side", "buy", "--quantity", "0.01", "--key", "k-1", "--yes")

    again = place(home, "--side", "sell", "--quantity", "0.02", "--key", "k-1", "--yes")

    assert "already recorded under key k-1" in again.stdout
    assert "the recorded order is not the one this command describes" in again.stdout
    assert "buy 0.01 BTC-USD" in again.stdout
    assert len(orders(home)) == 1


def test_a_key_used_on_another_connection_is_refused(home: Cli) -> None:
    home.ok("broker", "add", "paper", "--name", "p2", "--user", "alice")
    place(home, "--side", "buy", "--quantity", "0.01", "--key", "k-1", "--yes")

    result = home(
        "order", "place", "--connection", "p2", "--side", "buy", "--symbol", "BTC-USD",
        "--quantity", "0.01", "--key", "k-1", "--yes",
    )  # fmt: skip

    assert "key 'k-1' was already used for order" in error_line(result, 2)
    assert len(orders(home)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--side", "buy", "--quantity", "0"), "is not a number greater than 0"),
        (("--side", "buy", "--quantity", "1e-2"), "is not a number greater than 0"),
        (("--side", "buy", "--quantity", "a lot"), "is not a number greater than 0"),
        (("--side", "buy", "--quantity", "1", "--type", "limit"), "a limit order needs --price"),
        (("--side", "buy", "--quantity", "1", "--price", "5"), "a market order has no --price"),
        (("--side", "hold", "--quantity", "1"), "'hold' is not one of 'buy', 'sell'"),
    ],
)
def test_a_malformed_order_is_a_usage_error(home: Cli, args: tuple[str, ...], message: str) -> None:
    assert message in error_line(place(home, *args, "--yes"), 2)
    assert orders(home) == []


def test_an_absurd_quantity_is_refused_before_anything_is_recorded(home: Cli) -> None:
    result = place(home, "--side", "buy", "--quantity", "9" * 32, "--yes")

    line = error_line(result, 2)
    assert "a quantity must be less than 1,000,000,000,000,000" in line
    assert orders(home) == []
    assert "No orders recorded for alice." in home.ok("order", "list")


def test_sides_in_any_case_and_symbols_checked_against_the_broker(home: Cli) -> None:
    upper = place(home, "--side", "BUY", "--quantity", "0.01", "--yes")
    unknown = home(
        "order", "place", "--connection", "p1", "--side", "Sell", "--symbol", "NOPE-USD",
        "--quantity", "1", "--yes",
    )  # fmt: skip

    assert upper.exit_code == 0, upper.output
    assert "buy 0.01 BTC-USD at market" in upper.stdout
    assert "p1 (paper) does not list the symbol 'NOPE-USD'" in error_line(unknown, 1)
    [placed] = orders(home)
    assert placed["side"] == "buy"


# -- risk ---------------------------------------------------------------------------------------


def test_risk_show_says_no_limit_and_the_defaults(home: Cli) -> None:
    shown = home.ok("risk", "show", "--user", "alice")

    assert "max order notional:   no limit" in shown
    assert "max cycle notional:   no limit" in shown
    assert "max orders per cycle: 10" in shown
    assert "allowed instruments:  all" in shown
    assert "Kill switch: not engaged." in shown
    assert "Automation of alice: not paused." in shown


def test_risk_set_changes_only_the_options_given(home: Cli) -> None:
    home.ok("risk", "set", "--user", "alice", "--max-order-notional", "250.50")
    changed = home.ok("risk", "set", "--allowed-instruments", "BTC-USD,ETH-USD")
    shown = home.ok("risk", "show")

    assert "max order notional:   250.50" in changed
    assert "allowed instruments:  BTC-USD, ETH-USD" in changed
    assert "max orders per cycle: 10" in shown
    cleared = home.ok(
        "risk", "set", "--max-order-notional", "none", "--allowed-instruments", "all",
        "--max-orders-per-cycle", "3",
    )  # fmt: skip
    assert "max order notional:   no limit" in cleared
    assert "allowed instruments:  all" in cleared
    assert "max orders per cycle: 3" in cleared


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--max-order-notional", "0"),
        ("--max-order-notional", "-5"),
        ("--max-order-notional", "1e3"),
        ("--max-cycle-notional", "much"),
        ("--max-orders-per-cycle", "2.5"),
        ("--max-orders-per-cycle", "-1"),
        ("--allowed-instruments", " , "),
    ],
)
def test_risk_set_refuses_a_bad_value(home: Cli, option: str, value: str) -> None:
    line = error_line(home("risk", "set", option, value), 2)

    assert option in line
    assert "max order notional:   no limit" in home.ok("risk", "show")


def test_risk_set_without_an_option_is_a_usage_error(home: Cli) -> None:
    assert "nothing to change" in error_line(home("risk", "set"), 2)


def test_an_order_above_the_max_order_notional_is_blocked_and_not_recorded(home: Cli) -> None:
    home.ok("risk", "set", "--user", "alice", "--max-order-notional", "100")

    result = place(home, "--side", "buy", "--quantity", "1", "--yes")

    line = error_line(result, 1)
    assert "blocked by max_order_notional" in line
    assert "exceeds the limit of 100" in line
    assert "nothing was recorded or sent" in line
    assert orders(home) == []


def test_the_kill_switch_blocks_every_order_until_resumed(home: Cli) -> None:
    halted = home.ok("risk", "halt", "--reason", "exchange incident")
    assert "Kill switch engaged" in halted
    assert "no order is placed for any user" in halted
    assert "Kill switch: ENGAGED since " in home.ok("risk", "show")
    assert "(exchange incident)" in home.ok("risk", "show")

    blocked = place(home, "--side", "buy", "--quantity", "0.01", "--yes")

    line = error_line(blocked, 1)
    assert "blocked by kill_switch" in line
    assert "exchange incident" in line
    assert orders(home) == []

    resumed = home.ok("risk", "resume")
    assert "Kill switch released" in resumed
    assert place(home, "--side", "buy", "--quantity", "0.01", "--yes").exit_code == 0
    assert len(orders(home)) == 1
    assert "was not engaged" in home.ok("risk", "resume")


def test_an_instrument_outside_the_allowed_ones_is_blocked(home: Cli) -> None:
    home.ok("risk", "set", "--allowed-instruments", "ETH-USD")

    line = error_line(place(home, "--side", "buy", "--quantity", "0.01", "--yes"), 1)

    assert "blocked by allowed_instruments" in line
    assert orders(home) == []


# -- order list, status, cancel -----------------------------------------------------------------


def test_order_list_filters_and_says_when_empty(home: Cli) -> None:
    assert "No orders recorded for alice." in home.ok("order", "list")
    for _ in range(3):
        place(home, "--side", "buy", "--quantity", "0.01", "--yes")

    newest = orders(home, "--limit", "2")
    every = orders(home)

    assert len(every) == 3
    assert [each["client_order_id"] for each in newest] == [
        each["client_order_id"] for each in every[1:]
    ]
    assert orders(home, "--open") == []
    assert "No orders recorded for alice (open)." in home.ok("order", "list", "--open")
    assert len(orders(home, "--connection", "p1")) == 3


def test_status_and_cancel_of_an_unknown_client_id_are_usage_errors(home: Cli) -> None:
    for command in ("status", "cancel"):
        result = home("order", command, "tc-nothing", "--user", "alice")
        assert "alice has no order with client id 'tc-nothing'" in error_line(result, 2)


def test_status_of_a_filled_order_is_shown_as_recorded(home: Cli) -> None:
    place(home, "--side", "buy", "--quantity", "0.01", "--yes")
    [placed] = orders(home)

    shown = home.ok("order", "status", placed["client_order_id"])
    cancelled = home("order", "cancel", placed["client_order_id"])

    assert "status:        filled" in shown
    assert "not looked up again" in shown
    assert cancelled.exit_code == 1
    assert "is already filled: nothing to cancel" in cancelled.stdout


# -- a resting limit order, as real processes ---------------------------------------------------


def tradecore_executable() -> str:
    script = Path(sys.executable).with_name("tradecore")
    if not script.exists():
        pytest.fail(f"the tradecore console script is not installed next to {sys.executable}")
    return str(script)


def run_tradecore(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tradecore_executable(), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_a_resting_limit_order_is_found_and_cancelled_by_later_processes(
    tmp_path: Path,
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADECORE_")}
    env |= {"TRADECORE_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    for step in (
        ("init",),
        ("user", "add", "alice"),
        ("broker", "add", "paper", "--name", "p1", "--user", "alice"),
    ):
        assert run_tradecore(*step, env=env).returncode == 0, step

    placed = run_tradecore(
        "order", "place", "--connection", "p1", "--side", "buy", "--symbol", "BTC-USD",
        "--quantity", "0.01", "--type", "limit", "--price", "1000", "--yes", env=env,
    )  # fmt: skip

    assert placed.returncode == 0, placed.stderr
    assert "buy 0.01 BTC-USD limit 1000 (good till cancelled)" in placed.stdout
    assert "status:        open" in placed.stdout
    assert "It is working at the broker" in placed.stdout
    [listed] = json.loads(run_tradecore("order", "list", "--open", "--json", env=env).stdout)
    client_id = listed["client_order_id"]
    assert listed["status"] == "open"
    assert listed["limit_price"] == "1000"

    # The paper venue is in the database: a new process finds the order resting.
    status = run_tradecore("order", "status", client_id, env=env)

    assert status.returncode == 0, status.stderr
    assert "status:        open" in status.stdout
    assert "It is working at the broker" in status.stdout
    assert "does not know this order" not in status.stdout

    cancel = run_tradecore("order", "cancel", client_id, env=env)

    assert cancel.returncode == 0, cancel.stdout + cancel.stderr
    assert "status:        canceled" in cancel.stdout
    [done] = json.loads(run_tradecore("order", "list", "--json", env=env).stdout)
    assert (done["client_order_id"], done["status"]) == (client_id, "canceled")
    assert done["missing_lookups"] == 0


def test_a_paper_order_of_settings_since_changed_is_unknown_and_never_resent(home: Cli) -> None:
    placed = place(
        home, "--side", "buy", "--quantity", "0.01", "--type", "limit", "--price", "1000", "--yes"
    )
    assert placed.exit_code == 0, placed.output
    [listed] = orders(home, "--open")
    home.ok("broker", "edit", "p1", "--user", "alice", "--setting", "seed=7")

    status = home.ok("order", "status", listed["client_order_id"], "--user", "alice")

    assert "status:        open" in status
    assert "p1 (paper) does not know this order any more" in status
    assert "never sent again" in status
    assert "trades on a new simulated account" in status
    assert orders(home)[0]["missing_lookups"] == 1


def test_a_limit_order_is_cancelled_within_the_process_that_placed_it(home: Cli) -> None:
    # Within one application the paper venue knows the order; the command line is one process
    # per command, so this is shown with the services the commands call, then the commands.
    async def scenario() -> tuple[OrderStatus, OrderStatus]:
        app = await open_application(load_settings(home.env), environ=home.env)
        try:
            async with app.repository.unit_of_work() as uow:
                user = await uow.users.get_by_name("alice")
                connection = await uow.connections.get_by_name(user.id, "p1")
            async with open_broker(
                connection, brokers=app.registry.brokers, repository=app.repository, clock=app.clock
            ) as broker:
                wanted = ManualOrder(
                    connection_id=connection.id,
                    account_id="paper",
                    instrument=Instrument(symbol="BTC-USD"),
                    side=Side.BUY,
                    quantity=Decimal("0.01"),
                    order_type=OrderType.LIMIT,
                    limit_price=Decimal(1000),
                )
                placed = await place_manual_order(
                    repository=app.repository,
                    broker=broker,
                    user_id=user.id,
                    wanted=wanted,
                    clock=app.clock,
                )
                cancelled = await cancel_recorded_order(
                    repository=app.repository,
                    broker=broker,
                    user_id=user.id,
                    order=placed.order,
                    clock=app.clock,
                )
            return placed.order.status, cancelled.status
        finally:
            await app.aclose()

    assert asyncio.run(scenario()) == (OrderStatus.OPEN, OrderStatus.CANCELED)
    [listed] = orders(home)
    assert listed["status"] == "canceled"
    shown = home.ok("order", "status", listed["client_order_id"])
    assert "status:        canceled" in shown
    assert "already canceled: nothing to cancel" in home.ok(
        "order", "cancel", listed["client_order_id"]
    )


# -- shaky: an uncertain outcome, several accounts, a careless adapter ---------------------------

SHAKY_MODULE = '''
"""A test broker plugin: place_order times out quoting the API key; optional extra accounts."""

from decimal import Decimal

from tradecore.domain import Account, Instrument, Quote
from tradecore.errors import BrokerUnavailable
from tradecore.plugins import BrokerFactory, SecretSpec, SettingSpec, hookimpl
from tradecore.testing import FakeBroker


def create(connection, context):
    count = int(connection.settings.get("accounts", "1"))
    accounts = [
        Account(connection_id=connection.id, account_id=f"acc{n}", currency="USD")
        for n in range(1, count + 1)
    ]
    quote = Quote(
        instrument=Instrument(symbol="BTC-USD"),
        last=Decimal("50000"),
        bid=Decimal("49990"),
        ask=Decimal("50010"),
        currency="USD",
        as_of=context.clock.now(),
    )
    broker = FakeBroker(
        clock=context.clock,
        connection_id=connection.id,
        name="shaky",
        accounts=accounts,
        quotes=[quote],
    )
    key = connection.secrets["api_key"].reveal()
    broker.fail(
        "place_order",
        BrokerUnavailable(f"read timed out; the request was signed with {key}", broker="shaky"),
    )
    if connection.settings.get("prices") == "down":
        broker.fail(
            "get_asset_price", BrokerUnavailable(f"no quotes today, {key}", broker="shaky")
        )
    return broker


@hookimpl
def tradecore_register_brokers():
    return [
        BrokerFactory(
            name="shaky",
            description="Test broker whose orders time out",
            create=create,
            settings=(
                SettingSpec(name="accounts", description="How many accounts", default="1"),
                SettingSpec(name="prices", description="up or down", default="up"),
            ),
            secrets=(
                SecretSpec(name="api_key", description="Shaky API key", env_var="SHAKY_API_KEY"),
            ),
        )
    ]
'''


@pytest.fixture(scope="session")
def shaky_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the ``shaky`` plugin as an installed distribution."""
    root = tmp_path_factory.mktemp("shaky-plugin")
    (root / "tradecore_shakybroker.py").write_text(textwrap.dedent(SHAKY_MODULE))
    info = root / "tradecore_shakybroker-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tradecore-shakybroker\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text("[tradecore.plugins]\nshaky = tradecore_shakybroker\n")
    return root


@pytest.fixture
def shaky(shaky_path: Path, monkeypatch: pytest.MonkeyPatch, home: Cli) -> Cli:
    """alice's home with the ``shaky`` plugin installed and a connection ``s1`` to it."""
    monkeypatch.syspath_prepend(str(shaky_path))
    home.env["SHAKY_API_KEY"] = CANARY
    home.ok("broker", "add", "shaky", "--name", "s1", "--user", "alice")
    return home


def test_an_unknown_outcome_explains_the_lookup_and_never_shows_the_secret(shaky: Cli) -> None:
    result = shaky(
        "order", "place", "--connection", "s1", "--side", "buy", "--symbol", "BTC-USD",
        "--quantity", "0.01", "--yes",
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    assert "status:        unknown" in result.stdout
    assert "The outcome is unknown" in result.stdout
    assert "It is never sent again" in result.stdout
    assert "tradecore order status tc-" in result.stdout
    assert "Running this command again would place a new order" in result.stdout
    assert "read timed out; the request was signed with **********" in result.stdout
    assert CANARY not in result.stdout + result.stderr
    [listed] = orders(shaky)
    assert listed["status"] == "unknown"
    assert CANARY not in json.dumps(listed)
    assert CANARY not in shaky.ok("order", "list")

    status = shaky("order", "status", listed["client_order_id"])

    assert status.exit_code == 0, status.output
    assert "s1 (shaky) does not know this order" in status.stdout
    assert "2 lookup(s) found nothing so far" in status.stdout
    assert "marked not_placed" in status.stdout
    assert CANARY not in status.stdout + status.stderr
    assert len(orders(shaky)) == 1


def test_several_accounts_need_account(shaky: Cli) -> None:
    shaky.ok("broker", "add", "shaky", "--name", "s2", "--user", "alice", "--setting", "accounts=2")
    args = ["order", "place", "--connection", "s2", "--side", "buy", "--symbol", "BTC-USD"]
    args += ["--quantity", "0.01", "--yes"]

    line = error_line(shaky(*args), 2)
    chosen = shaky(*args, "--account", "acc2")

    assert "connection s2 has 2 accounts; say which with --account (acc1, acc2)" in line
    assert "account acc2" in chosen.stdout
    [listed] = orders(shaky)
    assert listed["account"] == "acc2"


def test_a_failure_before_anything_is_recorded_says_nothing_was_sent(shaky: Cli) -> None:
    shaky.ok("broker", "add", "shaky", "--name", "s2", "--setting", "prices=down")

    result = shaky(
        "order", "place", "--connection", "s2", "--side", "buy", "--symbol", "BTC-USD",
        "--quantity", "0.01", "--yes",
    )  # fmt: skip

    line = error_line(result, 1)
    assert "placing order tc-" in line
    assert "at s2 (shaky) failed: BrokerUnavailable: no quotes today, **********" in line
    assert "nothing was recorded or sent" in line
    assert CANARY not in result.stdout + result.stderr
    assert orders(shaky) == []
