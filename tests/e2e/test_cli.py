"""The command line as a user runs it: through click's runner and as a real subprocess."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradecore_cli.main import cli

DUMMY_HINT = "install tests/fixtures/tradecore-dummybroker (nox -s tests does)"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), obj={"environ": env or {}}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def plugins_json(env: dict[str, str] | None = None) -> dict[str, dict[str, object]]:
    code, out, _ = run("plugins", "--json", env=env)
    assert code == 0
    return {entry["name"]: entry for entry in json.loads(out)}


def test_version_is_the_installed_one() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert out.strip() == f"tradecore, version {importlib.metadata.version('tradecore')}"


def test_plugins_lists_the_built_ins_with_their_distribution() -> None:
    plugins = plugins_json()
    assert plugins["paper"]["brokers"] == ["paper"]
    assert plugins["paper"]["distribution"] == "tradecore"
    assert plugins["console"]["notifiers"] == ["console"]
    assert plugins["console"]["distribution"] == "tradecore"


def test_plugins_lists_an_installed_third_party_broker() -> None:
    plugins = plugins_json()
    assert "dummy" in plugins, DUMMY_HINT
    assert plugins["dummy"]["brokers"] == ["dummy"]
    assert plugins["dummy"]["distribution"] == "tradecore-dummybroker"
    assert plugins["dummy"]["version"] == "0.1.0"


def test_plugins_table_names_plugin_provides_and_distribution() -> None:
    code, out, _ = run("plugins")
    assert code == 0
    paper_row = next(line for line in out.splitlines() if " paper " in line)
    assert "broker paper" in paper_row
    assert "tradecore" in paper_row
    assert "notifier console" in out


def test_a_disabled_plugin_is_not_loaded() -> None:
    plugins = plugins_json({"TRADECORE_DISABLE_PLUGINS": "dummy"})
    assert "dummy" not in plugins
    assert "paper" in plugins


def test_the_allow_list_loads_only_what_it_names() -> None:
    assert set(plugins_json({"TRADECORE_PLUGINS": "paper"})) == {"paper"}


def test_demo_runs_a_full_cycle_and_prints_digest_and_positions() -> None:
    code, out, err = run("demo")
    assert code == 0, err
    assert "Summary — demo" in out
    assert "SUCCESS" in out
    assert "API responses — demo" in out
    assert "Errors" not in out
    positions = int(re.search(r"positions: (\d+)", out).group(1))  # type: ignore[union-attr]
    trades = int(re.search(r"trades new: (\d+)", out).group(1))  # type: ignore[union-attr]
    assert positions > 0
    assert trades > 0
    table = out[out.index("Positions of demo") :]
    rows = [line for line in table.splitlines() if re.match(r"^[│┃|] paper-demo / paper ", line)]
    assert len(rows) == positions


def test_a_bad_environment_value_is_a_clear_error_and_exit_2() -> None:
    code, out, err = run("demo", env={"AUTOMATION_DEFAULT_FREQUENCY": "500"})
    assert code == 2
    assert out == ""
    assert (
        "Error: AUTOMATION_DEFAULT_FREQUENCY must be a whole number of minutes from 5 to 120" in err
    )


def tradecore_executable() -> str:
    script = Path(sys.executable).with_name("tradecore")
    if not script.exists():
        pytest.fail(f"the tradecore console script is not installed next to {sys.executable}")
    return str(script)


def clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADECORE_")}
    env["COLUMNS"] = "160"
    return env


def test_demo_as_a_real_subprocess() -> None:
    env = clean_env()
    done = subprocess.run(
        [tradecore_executable(), "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Summary — demo" in done.stdout
    assert "Positions of demo" in done.stdout


def test_plugins_as_a_real_subprocess_shows_the_third_party_plugin() -> None:
    done = subprocess.run(
        [tradecore_executable(), "plugins", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names = {entry["name"] for entry in json.loads(done.stdout)}
    assert {"paper", "console"} <= names
    assert "dummy" in names, DUMMY_HINT


def test_plugin_tracing_shows_each_hook_call_on_stderr() -> None:
    code, out, err = run("plugins", "--json", env={"TRADECORE_TRACE_PLUGINS": "1"})
    assert code == 0
    assert "tradecore_register_brokers" in err
    assert "BrokerFactory(name='paper'" in err
    assert json.loads(out)  # the JSON on stdout is untouched by the trace


def test_demo_keeps_its_history_in_its_own_home_and_grows_it_without_duplicates(
    tmp_path: Path,
) -> None:
    env = {"TRADECORE_HOME": str(tmp_path)}
    stored, new = [], []
    for _ in range(2):
        code, out, err = run("demo", env=env)
        assert code == 0, err
        assert f"kept in {tmp_path / 'demo'}" in out
        stored.append(int(re.search(r"(\d+) trades stored in the demo", out).group(1)))  # type: ignore[union-attr]
        new.append(int(re.search(r"trades new: (\d+)", out).group(1)))  # type: ignore[union-attr]
    assert stored[0] == new[0] > 0
    # The second run adds only the paper market's fills since the first one, none twice.
    assert stored[1] == stored[0] + new[1]
    assert new[1] < new[0]
    assert (tmp_path / "demo" / "tradecore.db").exists()
    assert not (tmp_path / "tradecore.db").exists()  # the demo never touches the real database


def test_the_demo_runs_a_live_and_a_dry_run_dca_and_a_risk_limit_blocks_the_oversized_one(
    tmp_path: Path,
) -> None:
    env = {"TRADECORE_HOME": str(tmp_path)}
    code, out, err = run("demo", env=env)
    assert code == 0, err
    for name in ("dca-btc-live", "dca-eth-dry-run", "dca-btc-oversized"):
        assert name in out
    assert "strategies: 3, orders placed: 1" in out
    assert "max_order_notional" in out
    text = " ".join(re.sub(r"[│┃]", " ", out).split())  # the digest's table cells, unwrapped
    assert text.count("dry run, would buy") == 2
    assert "blocked by max_order_notional: notional" in text

    # The demo's home is an ordinary tradecore home: its ledger is there to inspect.
    home = {"TRADECORE_HOME": str(tmp_path / "demo")}
    code, listed, err = run("order", "list", "--user", "demo", "--json", env=home)
    assert code == 0, err
    (order,) = json.loads(listed)
    assert (order["symbol"], order["side"], order["status"]) == ("BTC-USD", "buy", "filled")
    code, strategies, err = run("strategy", "list", "--user", "demo", "--json", env=home)
    assert code == 0, err
    modes = {entry["name"]: entry["mode"] for entry in json.loads(strategies)}
    assert modes == {
        "dca-btc-live": "live",
        "dca-eth-dry-run": "dry-run",
        "dca-btc-oversized": "dry-run",
    }

    code, again, err = run("demo", env=env)  # within the hour: nothing is due, nothing is placed
    assert code == 0, err
    assert "strategies: 3, orders placed: 0" in again
    code, listed, err = run("order", "list", "--user", "demo", "--json", env=home)
    assert len(json.loads(listed)) == 1
