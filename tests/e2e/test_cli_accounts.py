"""``tradecore user passwd|admin`` and ``tradecore token create|list|revoke`` end to end: the
password set by the command line logs in through the application, a token is shown once and
never again, another user's token is not found, and nothing secret is printed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from tests.e2e.cli_runner import Cli, error_line

from tradecore.errors import LoginRefused
from tradecore.services import TokenUse
from tradecore_adapters.bootstrap import open_application

PASSWORD = "correct horse battery"


@pytest.fixture
def home(tmp_path: Path) -> Cli:
    """An initialised home with the users alice and bob."""
    tradecore = Cli({"TRADECORE_HOME": str(tmp_path / "home")})
    tradecore.ok("init")
    tradecore.ok("user", "add", "alice")
    tradecore.ok("user", "add", "bob")
    return tradecore


def log_in(home: Cli, name: str, password: str) -> str:
    """The name of the user ``password`` logs in as, through the application on the home."""

    async def run() -> str:
        async with await open_application(environ=home.env) as app:
            return (await app.passwords.authenticate(name, password, address="test")).name

    return asyncio.run(run())


def use_token(home: Cli, secret: str) -> TokenUse:
    async def run() -> TokenUse:
        async with await open_application(environ=home.env) as app:
            return await app.api_tokens.authenticate(secret)

    return asyncio.run(run())


def test_passwd_reads_one_line_from_stdin_and_logs_in(home: Cli) -> None:
    result = home("user", "passwd", "alice", "--stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert result.output == "Password set for user alice.\n"
    assert log_in(home, "alice", PASSWORD) == "alice"
    with pytest.raises(LoginRefused):
        log_in(home, "bob", PASSWORD)


def test_passwd_asks_twice_at_a_hidden_prompt(home: Cli) -> None:
    result = home("user", "passwd", "alice", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden: never echoed
    assert "Repeat the new password" in result.output
    assert log_in(home, "alice", PASSWORD) == "alice"


def test_passwd_refuses_a_confirmation_that_differs(home: Cli) -> None:
    result = home("user", "passwd", "alice", input=f"{PASSWORD}\n{PASSWORD}x\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert PASSWORD not in result.output
    with pytest.raises(LoginRefused):
        log_in(home, "alice", PASSWORD)


def test_passwd_refuses_a_short_password_without_showing_it(home: Cli) -> None:
    result = home("user", "passwd", "alice", "--stdin", input="short pass\n")
    assert error_line(result) == "Error: a password must be at least 12 characters long"
    assert "short pass" not in result.output


def test_passwd_of_no_user_says_so(home: Cli) -> None:
    result = home("user", "passwd", "carol", "--stdin", input=PASSWORD + "\n")
    assert "there is no user named 'carol'" in result.output
    assert result.exit_code != 0


def test_admin_flag_is_set_revoked_and_listed(home: Cli) -> None:
    assert "an administrator" in home.ok("user", "add", "root", "--admin")
    assert home.ok("user", "admin", "alice") == "User alice is now an administrator.\n"
    assert {u["name"]: u["admin"] for u in home.json("user", "list")} == {
        "alice": True,
        "bob": False,
        "root": True,
    }
    assert home.ok("user", "admin", "root", "--revoke") == (
        "User root is no longer an administrator.\n"
    )
    assert [u["name"] for u in home.json("user", "list") if u["admin"]] == ["alice"]
    assert "admin" in home.ok("user", "list")


def test_a_token_is_shown_once_listed_without_it_and_revoked(home: Cli) -> None:
    out = home.ok(
        "token", "create", "--user", "alice", "--scope", "read", "--scope", "execute",
        "--name", "ci", "--expires", "30",
    )  # fmt: skip
    secret = out.splitlines()[-1]
    assert secret.startswith("tc_")
    assert "shown this once" in out
    assert use_token(home, secret).scopes == {"read", "execute"}

    listed = home.ok("token", "list", "--user", "alice")
    assert secret not in listed
    [entry] = home.json("token", "list", "--user", "alice")
    assert secret not in json.dumps(entry)
    assert entry["name"] == "ci"
    assert entry["scopes"] == ["read", "execute"]
    assert entry["last_used_at"] is not None
    assert entry["expires_at"] is not None

    result = home("token", "revoke", entry["id"], "--user", "bob")
    assert error_line(result) == f"Error: there is no API token {entry['id']!r} of this user"
    assert home.ok("token", "revoke", entry["id"], "--user", "alice").startswith("Revoked")
    assert home.json("token", "list", "--user", "alice") == []
    with pytest.raises(LoginRefused):
        use_token(home, secret)


def test_token_create_json_holds_the_token_once(home: Cli) -> None:
    created = home.json("token", "create", "--user", "bob", "--scope", "write")
    assert created["token"].startswith("tc_")
    assert created["user"] == "bob"
    assert created["scopes"] == ["write"]
    assert use_token(home, created["token"]).user.name == "bob"


def test_token_create_refuses_a_bad_scope_or_lifetime(home: Cli) -> None:
    result = home("token", "create", "--user", "bob", "--scope", "admin")
    assert result.exit_code == 2
    assert "admin" in result.output
    result = home("token", "create", "--user", "bob", "--scope", "read", "--expires", "0")
    assert error_line(result) == "Error: a token's lifetime must be 1 to 3650 days"
    assert home.json("token", "list", "--user", "bob") == []
