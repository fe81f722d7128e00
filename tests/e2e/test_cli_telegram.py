"""Telegram from the command line, against a fake Bot API on loopback: ``notify add|list|test``,
``check``, and ``demo`` sending its digest to a chat; the bot token in no output and no log."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.fakes.telegram_server import FakeTelegram

from tradecore_cli.main import cli

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
TOKEN_SHAPE = re.compile(r"\d+:[\w-]{20,}")


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram(tokens={TOKEN}, chats={"42": "private", "-100777": "supergroup"})


@pytest.fixture
def url(fake: FakeTelegram) -> Iterator[str]:
    with fake.serve() as served:
        yield served


def _no_token(text: str) -> None:
    assert TOKEN not in text
    assert TOKEN.split(":")[1] not in text
    assert not TOKEN_SHAPE.search(text)


def run(home: Path, *args: str, env: dict[str, str] | None = None, **options: object) -> Result:
    environ = {"TRADECORE_HOME": str(home), **(env or {})}
    obj = {"environ": environ, "interactive": options.pop("interactive", False)}
    result = CliRunner().invoke(cli, list(args), obj=obj, catch_exceptions=False, **options)  # type: ignore[arg-type]
    _no_token(result.output)
    return result


def ok(home: Path, *args: str, env: dict[str, str] | None = None, **options: object) -> str:
    result = run(home, *args, env=env, **options)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    ok(home, "init")
    ok(home, "user", "add", "alice")
    ok(home, "broker", "add", "paper", "--name", "p1", "--user", "alice")
    return home


def test_a_prompted_token_is_stored_encrypted_and_the_test_message_arrives(
    home: Path, fake: FakeTelegram, url: str
) -> None:
    out = ok(
        home, "notify", "add", "telegram", "--user", "alice",
        "--setting", "chat_id=42", "--setting", f"api_url={url}", "--setting", "language=fr",
        interactive=True, input=f"{TOKEN}\n",
    )  # fmt: skip
    assert "Added telegram target telegram for alice" in out
    assert "bot_token stored encrypted" in out
    assert "Checked: bot @tradecore_test_bot can write to chat 42 (private)." in out
    assert fake.messages() == []  # checked, nothing sent
    raw = (home / "tradecore.db").read_bytes()
    assert TOKEN.encode() not in raw
    assert TOKEN.split(":")[1].encode() not in raw

    assert "sent: telegram" in ok(home, "notify", "test", "--user", "alice")
    (message,) = fake.messages("42")
    assert "Message de test de tradecore pour alice" in message.plain_text

    listed = ok(home, "notify", "list", "--user", "alice")
    assert "bot_token stored" in listed
    assert "chat_id=42" in listed


def test_a_token_from_the_environment_is_not_stored(
    home: Path, fake: FakeTelegram, url: str
) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": url}
    out = ok(
        home, "notify", "add", "telegram", "--user", "alice", "--setting", "chat_id=42", env=env
    )
    assert "bot_token: read from the environment at each run (not stored)." in out
    with sqlite3.connect(home / "tradecore.db") as db:
        (secrets_enc,) = db.execute("select secrets_enc from notification_targets").fetchone()
    assert secrets_enc  # encrypted, even when empty

    ok(home, "notify", "test", "--user", "alice", env=env)
    assert len(fake.messages("42")) == 1
    failed = run(home, "notify", "test", "--user", "alice")  # the variable is gone
    assert failed.exit_code == 1
    assert "no bot token; set TELEGRAM_BOT_TOKEN" in failed.output


def test_a_wrong_chat_or_token_is_refused_at_add_time_and_nothing_is_saved(
    home: Path, url: str
) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": url}
    refused = run(
        home, "notify", "add", "telegram", "--user", "alice", "--setting", "chat_id=9", env=env
    )
    assert refused.exit_code == 1
    assert "does not know chat 9 (chat not found)" in refused.output
    assert "nothing saved" in refused.output
    wrong = {**env, "TELEGRAM_BOT_TOKEN": "987654321:BBHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"}
    refused = run(
        home, "notify", "add", "telegram", "--user", "alice", "--setting", "chat_id=42", env=wrong
    )
    assert "Telegram refused the bot token (Unauthorized)" in refused.output
    assert "987654321:BBH" not in refused.output
    assert "digests go nowhere yet" in ok(home, "notify", "list", "--user", "alice")


def test_check_prints_one_line_per_check(home: Path, fake: FakeTelegram, url: str) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": "42", "TELEGRAM_API_URL": url}
    out = ok(home, "check", env=env)
    lines = out.splitlines()
    assert lines[0].startswith("ok    secret key: 1 key(s) from ")
    assert re.match(r"ok    database sqlite:///.*: at revision \d+ \(the newest\)", lines[1])
    assert "ok    alice / connection p1 (paper): logged in, 1 account(s)" in out
    assert "ok    alice / notify telegram: bot @tradecore_test_bot can write to chat 42" in out
    assert lines[-1] == "4 passed, 0 failed."

    fake.block("42")
    failed = run(home, "check", env=env)
    assert failed.exit_code == 1
    assert "FAIL  alice / notify telegram: Telegram refused to deliver to chat 42" in failed.output


def test_check_says_what_to_do_about_an_empty_database(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    home.mkdir()
    result = run(home, "check", env={"TRADECORE_SECRET_KEY": ""})
    assert result.exit_code == 1
    assert "FAIL  database" in result.output


def test_the_demo_sends_its_digest_to_telegram_when_configured(
    tmp_path: Path, fake: FakeTelegram, url: str
) -> None:
    # The installed script, at DEBUG: its whole log holds no bot token.
    env = {
        **os.environ,
        "TRADECORE_HOME": str(tmp_path / "home"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_CHAT_ID": "-100777",
        "TELEGRAM_API_URL": url,
        "AUTOMATION_LOG_LEVEL": "DEBUG",
    }
    env.pop("TRADECORE_DATABASE_URL", None)
    script = Path(sys.executable).with_name("tradecore")
    done = subprocess.run(
        [str(script), "demo"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    _no_token(done.stdout + done.stderr)
    assert "Digest sent to telegram." in done.stdout
    assert "Summary" not in done.stdout  # not printed: it went to the chat
    summary, api = fake.messages("-100777")
    assert summary.plain_text.startswith("✅ Summary — demo")
    assert "paper-demo · sync:" in summary.plain_text
    assert api.disable_notification


def test_the_demo_prints_its_digest_without_telegram(tmp_path: Path) -> None:
    out = ok(tmp_path / "home", "demo")
    assert "Summary — demo" in out
    assert "Digest sent to" not in out


def test_the_demo_prints_its_digest_when_telegram_refuses_it(
    tmp_path: Path, fake: FakeTelegram, url: str
) -> None:
    fake.block("42")
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": "42", "TELEGRAM_API_URL": url}
    out = ok(tmp_path / "home", "demo", env=env)  # the run itself succeeded
    assert "The digest could not be sent to telegram: NotificationError: Telegram refused" in out
    assert "Summary — demo" in out
