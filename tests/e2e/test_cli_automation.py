"""The automation command line (issue 8) on a real SQLite home with the paper broker:
``tradecore automation …`` controls and ledger, ``tradecore run`` for cron and its exit status,
``tradecore cycle`` respecting a held lease, and the log file with run ids."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tradecore.domain import AutomationRun, Trigger
from tradecore_adapters.bootstrap import open_application
from tradecore_cli.main import cli
from tradecore_cli.settings import load_settings


class Cli:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str) -> Result:
        obj: dict[str, Any] = {"environ": dict(self.env)}
        return CliRunner().invoke(cli, list(args), obj=obj, catch_exceptions=False)

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))


@pytest.fixture
def home(tmp_path: Path) -> Cli:
    tradecore = Cli({"TRADECORE_HOME": str(tmp_path / "home")})
    tradecore.ok("init")
    tradecore.ok("user", "add", "alice")
    tradecore.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    tradecore.ok(
        "strategy", "add", "dca", "--name", "stack", "--connection", "p1", "--user", "alice",
        "--param", "instrument=BTC-USD", "--param", "amount=50", "--param", "every=1h",
    )  # fmt: skip
    return tradecore


def test_a_new_user_is_stopped_and_a_cron_pass_runs_nothing(home: Cli) -> None:
    status = home.json("automation", "status")
    assert status["state"] == "stopped"
    assert status["next_run"] is None
    assert "No cycle was due." in home.ok("run")
    assert home.json("automation", "logs") == []


def test_start_then_two_cron_passes_run_the_due_cycle_once(home: Cli) -> None:
    started = home.ok("automation", "start")
    assert "automation active, every 30 min; next run" in started
    first = home("run")
    assert first.exit_code == 0, first.output
    assert re.search(r"alice: success \(run \w+, cron\)", first.stdout)
    second = home("run")
    assert second.exit_code == 0
    assert "No cycle was due." in second.stdout

    status = home.json("automation", "status")
    assert status["state"] == "active"
    assert status["frequency_minutes"] == 30
    assert status["recent"] == {"success": 1, "partial": 0, "failure": 0}
    assert status["success_rate"] == 1.0
    assert status["last_run"]["trigger"] == "cron"
    runs = home.json("automation", "logs")
    assert len(runs) == 1
    assert [step["kind"] for step in runs[0]["steps"]] == ["sync", "strategy", "notify"]
    assert runs[0]["steps"][1]["counts"]["orders_placed"] == 1
    text = home.ok("automation", "status")
    assert "100% of the last 1 run(s) succeeded: 1 success, 0 partial, 0 failure" in text
    assert "last duration:" in text


@pytest.mark.parametrize("minutes", ["4", "121", "0"])
def test_a_frequency_out_of_bounds_is_a_usage_error_and_changes_nothing(
    home: Cli, minutes: str
) -> None:
    home.ok("automation", "start")
    result = home("automation", "frequency", minutes)
    assert result.exit_code == 2
    assert f"frequency must be between 5 and 120 minutes, got {minutes}" in result.stderr
    assert home.json("automation", "status")["frequency_minutes"] == 30


def test_frequency_pause_resume_run_now_and_stop(home: Cli) -> None:
    home.ok("automation", "start")
    home.ok("run")
    assert "every 60 min" in home.ok("automation", "frequency", "60")
    paused = home.ok("automation", "pause")
    assert "schedule kept" in paused
    assert home.json("automation", "status")["next_run"] is None
    home.ok("automation", "resume")
    assert home.json("automation", "status")["state"] == "active"
    assert "No cycle was due." in home.ok("run")

    queued = home.ok("automation", "run-now")
    assert "a cycle is queued" in queued
    assert "No daemon is running" in queued
    assert re.search(r"alice: success \(run \w+, manual\)", home.ok("run"))
    assert "No cycle was due." in home.ok("run")  # the request is served once

    home.ok("automation", "stop")
    status = home.json("automation", "status")
    assert status["state"] == "stopped"
    assert status["next_run"] is None
    result = home("automation", "pause")
    assert result.exit_code == 2
    assert "stopped" in result.stderr


def test_run_exits_1_when_a_cycle_is_partial(home: Cli) -> None:
    home.ok("risk", "set", "--user", "alice", "--max-order-notional", "1")
    home.ok("automation", "start")
    result = home("run")
    assert result.exit_code == 1, result.output
    assert "alice: partial" in result.stdout
    runs = home.json("automation", "logs")
    assert runs[0]["status"] == "partial"
    assert "max_order_notional" in runs[0]["steps"][1]["error"]


def test_run_force_runs_a_stopped_user_and_an_unknown_user_is_a_usage_error(home: Cli) -> None:
    assert re.search(r"alice: success \(run \w+, cron\)", home.ok("run", "--force"))
    result = home("run", "--user", "bob")
    assert result.exit_code == 2
    assert "no user named 'bob'" in result.stderr


def test_cycle_and_a_forced_run_leave_a_cycle_held_by_another_scheduler_alone(
    home: Cli,
) -> None:
    async def hold() -> None:
        app = await open_application(load_settings(home.env))
        try:
            async with app.repository.unit_of_work() as uow:
                (user,) = await uow.users.list()
            async with app.repository.unit_of_work() as uow:
                lease = await uow.leases.claim(
                    user.id, "elsewhere:42:ab", ttl=timedelta(minutes=5), trigger=Trigger.SCHEDULE
                )
                await uow.commit()
            assert lease is not None
        finally:
            await app.aclose()

    home.ok("automation", "start")
    asyncio.run(hold())
    cycle = home("cycle")
    assert cycle.exit_code == 1
    assert "its cycle is running by elsewhere:42:ab" in cycle.stderr
    forced = home("run", "--force")
    assert forced.exit_code == 1
    assert "alice: skipped, its cycle is running by elsewhere:42:ab" in forced.stdout
    assert home.json("automation", "logs") == []
    running = home.json("automation", "status")["running"]
    assert running["owner"] == "elsewhere:42:ab"


def test_a_cycle_held_by_a_dead_process_of_this_host_is_taken_over_at_once(home: Cli) -> None:
    # After a kill -9 the holder's lease would keep the cycle for a whole lease time (10 min
    # here); a process of this host that no longer exists is known to be gone, so `cycle` takes
    # the cycle over at once and closes the run it left. While it lives, it keeps its cycle.
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    owner = f"{socket.gethostname()}:{holder.pid}:ab"

    async def hold() -> str:
        app = await open_application(load_settings(home.env))
        try:
            (summary,) = await app.users.list()
            async with app.repository.unit_of_work() as uow:
                lease = await uow.leases.claim(
                    summary.user.id, owner, ttl=timedelta(minutes=10), trigger=Trigger.SCHEDULE
                )
                assert lease is not None
                await uow.runs.add(
                    AutomationRun(
                        id=lease.run_id,
                        user_id=summary.user.id,
                        trigger=Trigger.SCHEDULE,
                        started_at=lease.claimed_at,
                    )
                )
                await uow.commit()
            return lease.run_id
        finally:
            await app.aclose()

    try:
        home.ok("automation", "start")
        left = asyncio.run(hold())
        busy = home("cycle")
        assert busy.exit_code == 1
        assert f"its cycle is running by {owner}" in busy.stderr
    finally:
        holder.kill()  # kill -9: its lease is left behind, unexpired
        holder.wait()

    taken = home("cycle")

    assert taken.exit_code == 0, taken.output
    runs = {run["id"]: run for run in home.json("automation", "logs")}
    assert runs[left]["status"] == "failure"
    assert any("interrupted" in (step.get("error") or "") for step in runs[left]["steps"])
    assert [run["status"] for run_id, run in runs.items() if run_id != left] == ["success"]


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_a_pass_writes_its_run_id_on_every_log_line_of_the_log_file(
    home: Cli, tmp_path: Path
) -> None:
    log_file = tmp_path / "logs" / "tradecore.log"
    home.env["AUTOMATION_LOG_FILE"] = str(log_file)
    home.ok("automation", "start")
    output = home.ok("run", "-vv")
    run_id = re.search(r"alice: success \(run (\w+), cron\)", output)
    assert run_id is not None
    lines = [
        line
        for line in log_file.read_text().splitlines()
        if "tradecore.cycle" in line or "claimed the cycle" in line
    ]
    assert len(lines) >= 4  # claimed, started, each step, finished
    assert all(f"[run {run_id.group(1)}]" in line for line in lines)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AUTOMATION_LEASE_SECONDS", "1"),
        ("AUTOMATION_MAX_CONCURRENT_CYCLES", "0"),
        ("AUTOMATION_IDLE_CHECK_SECONDS", "soon"),
        ("AUTOMATION_RUN_RETENTION_DAYS", "-3"),
        ("AUTOMATION_SHUTDOWN_GRACE", "forever"),
    ],
)
def test_a_bad_scheduler_setting_names_the_variable(home: Cli, variable: str, value: str) -> None:
    home.env[variable] = value
    result = home("run")
    assert result.exit_code == 2
    assert variable in result.stderr
    assert "Traceback" not in result.output


def test_prune_applies_the_retention(home: Cli) -> None:
    home.ok("run", "--force")
    home.ok("run", "--force")
    home.env["AUTOMATION_RUN_RETENTION_COUNT"] = "1"
    assert "Pruned 1 run(s)" in home.ok("automation", "prune")
    assert len(home.json("automation", "logs")) == 1
