"""A canary secret stored with ``broker add`` is nowhere but where it belongs: not in a raw dump
of the database (``sqlite3 .dump``, ``pg_dump``), not in any command's output, not in the logs at
DEBUG, not in an error. Runs on SQLite and PostgreSQL with the sample ``dummy`` broker plugin,
whose ``api_token`` secret comes from ``DUMMY_API_TOKEN``."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tradecore_cli.main import cli

CANARY = "dummy-canary-3b8e51f0aa"  # a token the dummy venue accepts
REFUSED = "refused-canary-91c2d7e4"  # one it refuses


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    environ = {"TRADECORE_HOME": str(tmp_path / "home"), "AUTOMATION_LOG_LEVEL": "DEBUG"}
    if request.param == "postgresql":
        environ["TRADECORE_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return environ


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj={"environ": env})


def raw_dump(env: dict[str, str]) -> str:
    url = env.get("TRADECORE_DATABASE_URL")
    if url is None:
        path = Path(env["TRADECORE_HOME"]) / "tradecore.db"
        command = ["sqlite3", str(path), ".dump"]
    else:
        command = ["pg_dump", "--inserts", url]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_a_canary_secret_never_leaves_its_encrypted_column(
    env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outputs: list[str] = []

    def ok(*args: str, extra: dict[str, str] | None = None) -> None:
        result = invoke({**env, **(extra or {})}, *args)
        outputs.append(result.output)
        assert result.exit_code == 0, result.output

    ok("init")
    ok("user", "add", "alice")
    ok(
        "broker",
        "add",
        "dummy",
        "--name",
        "d1",
        "--user",
        "alice",
        extra={"DUMMY_API_TOKEN": CANARY},
    )
    ok(
        "broker",
        "add",
        "dummy",
        "--name",
        "d2",
        "--user",
        "alice",
        extra={"DUMMY_API_TOKEN": REFUSED},
    )
    ok("broker", "test", "d1", "--user", "alice")
    ok("broker", "list", "--user", "alice")
    ok("broker", "list", "--user", "alice", "--json")
    ok("trades", "--user", "alice", "--json")
    ok("positions", "--user", "alice")

    refused = invoke(env, "broker", "test", "d2", "--user", "alice")
    outputs.append(refused.output)
    assert refused.exit_code == 1
    assert "refused" in refused.output
    synced = invoke(env, "sync", "--user", "alice")  # d1 syncs, d2 fails: exit 1
    outputs.append(synced.output)
    assert synced.exit_code == 1
    assert "d1" in synced.output

    trades = invoke(env, "trades", "--user", "alice", "--connection", "d1", "--json")
    assert trades.exit_code == 0
    assert '"DUMMY1"' in trades.output  # the sync with the canary token really ran

    dump = raw_dump(env)
    assert "broker_connections" in dump
    everything = "\n".join([*outputs, caplog.text, dump])
    assert caplog.records, "DEBUG logging produced nothing: the log check would prove nothing"
    for secret in (CANARY, REFUSED):
        assert secret not in everything
        assert secret not in repr([record.__dict__ for record in caplog.records])
