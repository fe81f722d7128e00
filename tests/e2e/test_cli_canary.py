"""A canary secret stored with ``broker add`` is nowhere but where it belongs: not in a raw dump
of the database (``sqlite3 .dump``, ``pg_dump``: the stored runs and steps included), not in any
command's output (the digest included), not in the logs at DEBUG (the log file included), not in
an error. Runs on SQLite and PostgreSQL with the sample ``dummy`` broker plugin, whose
``api_token`` secret comes from ``DUMMY_API_TOKEN``, set to misbehave (``echo_secrets=true``):
like a careless vendor library it quotes its token in every error message and logs it at DEBUG
on the ``dummyvendor`` logger. So each guard is held: the masking of broker errors in the
services, the masking of step results, and the redacting log filter fed with every secret the
repository decrypts."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest
from click.testing import Result
from tests.e2e.cli_runner import Cli

MASK = "**********"
CANARY = "dummy-canary-3b8e51f0aa"  # a token the dummy venue accepts
REFUSED = "refused-canary-91c2d7e4"  # one it refuses
SECRETS = (CANARY, REFUSED)


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    environ = {
        "TRADECORE_HOME": str(tmp_path / "home"),
        "AUTOMATION_LOG_LEVEL": "DEBUG",
        "AUTOMATION_LOG_FILE": str(tmp_path / "logs" / "tradecore.log"),
    }
    if request.param == "postgresql":
        environ["TRADECORE_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return environ


def raw_dump(env: dict[str, str]) -> str:
    url = env.get("TRADECORE_DATABASE_URL")
    if url is None:
        path = Path(env["TRADECORE_HOME"]) / "tradecore.db"
        command = ["sqlite3", str(path), ".dump"]
    else:
        command = ["pg_dump", "--inserts", url]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


class Recorder:
    """Runs commands and keeps everything they printed, on standard output and error."""

    def __init__(self, env: dict[str, str]) -> None:
        self.cli = Cli(env)
        self.printed: list[str] = []

    def __call__(self, *args: str, status: int = 0, token: str | None = None) -> Result:
        result = self.cli(*args, env=None if token is None else {"DUMMY_API_TOKEN": token})
        self.printed += [result.stdout, result.stderr]
        assert result.exit_code == status, result.output
        return result


def test_a_canary_secret_never_leaves_its_encrypted_column(
    env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    run = Recorder(env)
    run("init")
    run("user", "add", "alice")
    for name, token in (("d1", CANARY), ("d2", REFUSED)):
        run(
            "broker", "add", "dummy", "--name", name, "--user", "alice",
            "--setting", "echo_secrets=true", token=token,
        )  # fmt: skip
    run("broker", "test", "d1", "--user", "alice")
    refused = run("broker", "test", "d2", "--user", "alice", status=1)
    assert "refused the API token" in refused.output
    # The venue quoted the token: what shows is the mask (else the test would prove nothing).
    assert f"(token {MASK})" in refused.output
    run("broker", "list", "--user", "alice")
    run("broker", "list", "--user", "alice", "--json")

    synced = run("sync", "--user", "alice", status=1)  # d1 syncs, d2 fails
    assert "d1" in synced.output
    assert f"(token {MASK})" in synced.output
    trades = run("trades", "--user", "alice", "--connection", "d1", "--json")
    assert '"DUMMY1"' in trades.stdout  # the sync with the canary token really ran
    run("positions", "--user", "alice")
    run("check", "--user", "alice", status=1)

    cycled = run("cycle", "--user", "alice", status=1)  # the digest, on the console
    assert f"(token {MASK})" in cycled.stdout
    run("cycle", "--user", "alice", "--json", status=1)
    run("automation", "start", "--user", "alice")
    run("run", "-vv", status=1)
    logs = run("automation", "logs", "--user", "alice", "--json")
    assert f"(token {MASK})" in logs.stdout  # the stored steps

    log_file = Path(env["AUTOMATION_LOG_FILE"]).read_text(encoding="utf-8")
    dump = raw_dump(env)
    everything = {
        "standard output and error": "\n".join(run.printed),
        "the log file": log_file,
        "the captured log records": caplog.text,
        "the raw database dump": dump,
    }
    for secret in SECRETS:
        for where, text in everything.items():
            assert secret not in text, f"{secret} in {where}"
        assert secret not in repr([record.__dict__ for record in caplog.records])
    # What proves the checks above could have failed:
    assert f"signed with api token {MASK}" in log_file, "the vendor logger was not heard"
    assert any(record.name == "dummyvendor" for record in caplog.records)
    assert "broker_connections" in dump
    assert "run_steps" in dump
