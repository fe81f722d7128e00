"""A lost ``secret.key`` from the command line: ``init`` refuses to pair the database with a new
key and changes nothing; ``init --new-key`` makes one explicitly; the connections are still
listed, and sync fails only the one whose secrets cannot be decrypted (without calling Binance)
while the paper one syncs throughout; ``secrets forget`` drops what the lost key sealed;
``broker secrets`` gives the connection its keys again and sync works; and nothing stops a user
from removing a connection or a user whose secrets are unreadable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, API_SECRET, market

from tradecore_adapters.encryption import KeyRing
from tradecore_cli.main import cli

KEYS = {"BINANCE_API_KEY": API_KEY, "BINANCE_API_SECRET": API_SECRET}


@pytest.fixture
def binance_url() -> Iterator[str]:
    fake = FakeBinance()
    market(fake)
    account = fake.add_account(API_KEY, secret=API_SECRET, balances={"BTC": ("0.5", "0")})
    account.add_trades("BNBUSDT", 3)
    with fake.serve() as url:
        yield url


def run(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    environ = {"TRADECORE_HOME": str(home), **(env or {})}
    result = CliRunner().invoke(cli, list(args), obj={"environ": environ}, catch_exceptions=False)
    assert "Traceback" not in result.output
    assert API_SECRET not in result.output
    return result


def ok(home: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = run(home, *args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def alice_with_paper_and_binance(home: Path, binance_url: str) -> None:
    ok(home, "init")
    ok(home, "user", "add", "alice")
    ok(home, "broker", "add", "paper", "--name", "p1", "--user", "alice")
    ok(
        home, "broker", "add", "binance", "--name", "b1", "--user", "alice",
        "--setting", f"base_url={binance_url}", "--setting", "symbols=BNBUSDT", env=KEYS,
    )  # fmt: skip
    synced = ok(home, "sync", "--user", "alice")
    assert "p1 (paper)" in synced
    assert "b1 (binance)" in synced


def test_lose_the_key_refuse_renew_forget_add_again_and_sync(
    tmp_path: Path, binance_url: str
) -> None:
    home = tmp_path / "home"
    alice_with_paper_and_binance(home, binance_url)
    (home / "secret.key").unlink()
    database = home / "tradecore.db"
    before = database.read_bytes()

    refused = run(home, "init")
    assert refused.exit_code == 2
    assert "there is no secret key" in refused.output
    assert "2 connection(s) and 0 notification target(s)" in refused.output
    assert "tradecore init --new-key" in refused.output
    assert "tradecore secrets forget" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert not (home / "secret.key").exists()  # nothing was changed
    assert database.read_bytes() == before

    renewed = ok(home, "init", "--new-key")
    assert "Secret key: created" in renewed
    assert "were sealed by a key you no longer have" in renewed

    listed = json.loads(ok(home, "broker", "list", "--user", "alice", "--json"))
    assert sorted(c["name"] for c in listed) == ["b1", "p1"]
    assert {c["name"]: c["secrets_unreadable"] for c in listed} == {"b1": True, "p1": False}
    table = "".join(ch for ch in ok(home, "broker", "list", "--user", "alice") if ch.isalnum())
    assert "UNREADABLElostkeytradecorebrokersecretsb1givesitnewones" in table

    synced = run(home, "sync", "--user", "alice")
    assert synced.exit_code == 1
    assert "p1 (paper): 1 account(s)" in synced.output  # paper needs no secret
    assert "sync of b1 (binance) failed" in synced.output
    assert "its secrets cannot be decrypted with the current key" in synced.output
    assert "tradecore broker secrets b1" in synced.output

    cycle = run(home, "cycle", "--user", "alice")
    assert cycle.exit_code == 1  # partial: the paper connection synced
    assert "PARTIAL" in cycle.output
    letters = "".join(ch for ch in cycle.output if ch.isalnum())  # the table wraps the text
    assert "b1itssecretscannotbedecryptedwiththecurrentkey" in letters

    forgotten = ok(home, "secrets", "forget", "--yes")
    assert "connection b1 (binance)" in forgotten
    assert "connection p1 (paper, needs none)" in forgotten
    assert "tradecore broker secrets b1 --user alice" in forgotten
    assert "broker secrets p1" not in forgotten
    assert "nothing to forget" in ok(home, "secrets", "forget", "--yes")
    assert "were sealed by a key" not in ok(home, "init")  # init is happy again

    # Without the keys in the environment and no terminal, it says where to put them.
    missing = run(home, "broker", "secrets", "b1", "--user", "alice")
    assert missing.exit_code == 2
    assert "BINANCE_API_KEY" in missing.output
    added = ok(home, "broker", "secrets", "b1", "--user", "alice", env=KEYS)
    assert "Stored new secrets for binance connection b1 of alice" in added
    assert API_KEY not in added

    synced = ok(home, "sync", "--user", "alice")
    assert "b1 (binance): 1 account(s)" in synced
    assert "p1 (paper): 1 account(s)" in synced


def test_a_connection_or_user_with_unreadable_secrets_can_still_be_removed(
    tmp_path: Path, binance_url: str
) -> None:
    home = tmp_path / "home"
    alice_with_paper_and_binance(home, binance_url)
    (home / "secret.key").unlink()
    ok(home, "init", "--new-key")
    ok(home, "broker", "remove", "b1", "--user", "alice", "--yes")
    assert [c["name"] for c in json.loads(ok(home, "broker", "list", "--json"))] == ["p1"]
    ok(home, "user", "remove", "alice", "--yes")
    assert "nothing to forget" in ok(home, "secrets", "forget", "--yes")


def test_forget_asks_first_and_is_scoped_to_a_user(tmp_path: Path, binance_url: str) -> None:
    home = tmp_path / "home"
    alice_with_paper_and_binance(home, binance_url)
    ok(home, "user", "add", "bob")
    ok(home, "broker", "add", "paper", "--name", "p2", "--user", "bob")
    (home / "secret.key").unlink()
    ok(home, "init", "--new-key")

    declined = CliRunner().invoke(
        cli,
        ["secrets", "forget"],
        obj={"environ": {"TRADECORE_HOME": str(home)}, "interactive": True},
        input="n\n",
        catch_exceptions=False,
    )
    assert declined.exit_code == 1
    assert "Nothing was changed." in declined.output
    assert "alice: connection b1 (binance)" in declined.output

    only_bob = ok(home, "secrets", "forget", "--user", "bob", "--yes")
    assert "Forgot the secrets of bob: connection p2 (paper, needs none)." in only_bob
    assert "alice" not in only_bob
    assert "alice: connection b1" in run(home, "secrets", "forget", "--user", "alice").output


def test_new_key_while_the_keys_come_from_the_environment_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = run(home, "init", "--new-key", env={"TRADECORE_SECRET_KEY": KeyRing.generate_key()})
    assert result.exit_code == 2
    assert "TRADECORE_SECRET_KEY" in result.output
    assert not home.exists()
