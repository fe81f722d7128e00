"""The persistent command line: users, broker connections, sync, positions and trades, on a real
database (SQLite, and PostgreSQL when ``TRADECORE_TEST_POSTGRES_URL`` is set).

Most tests go through click's runner with their own environment mapping; a few run the installed
``tradecore`` script as a real process. Secrets are tested with ``vault``, a small broker plugin
declaring two secrets that these tests install by putting a distribution (a module plus its
``.dist-info`` with an entry point) on ``sys.path``, exactly as an installed plugin is found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.e2e.cli_runner import Cli, error_line

CANARY = "canary-7f3a9c1e-never-print-me"


@pytest.fixture
def home(tmp_path: Path) -> Cli:
    """An initialised home on SQLite."""
    tradecore = Cli({"TRADECORE_HOME": str(tmp_path / "home")})
    tradecore.ok("init")
    return tradecore


@pytest.fixture(params=["sqlite", "postgresql"])
def any_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    """An initialised home on SQLite, then on PostgreSQL (skipped without a server)."""
    env = {"TRADECORE_HOME": str(tmp_path / "home")}
    if request.param == "postgresql":
        env["TRADECORE_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    tradecore = Cli(env)
    tradecore.ok("init")
    return tradecore


@pytest.fixture
def alice(home: Cli) -> Cli:
    """Alice with one synced paper connection ``p1``."""
    home.ok("user", "add", "alice")
    home.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    home.ok("sync", "--user", "alice")
    return home


# -- the vault plugin: a broker that declares secrets ------------------------------------------

VAULT_MODULE = '''
"""A test broker plugin declaring a required and an optional secret."""

from tradecore.errors import AuthenticationFailed, ConfigurationError
from tradecore.plugins import BrokerFactory, SecretSpec, hookimpl
from tradecore.testing import FakeBroker
from tradecore.testing.builders import make_trade


def create(connection, context):
    trades = [
        make_trade(connection_id=connection.id, account_id="main", broker_trade_id=str(n))
        for n in range(3)
    ]
    broker = FakeBroker(
        clock=context.clock, connection_id=connection.id, name="vault", trades=trades
    )
    passphrase = connection.secrets.get("passphrase")
    if passphrase is not None and passphrase.reveal().startswith("bad"):
        # Another careless message quoting a secret, when the connection is built.
        raise ConfigurationError(f"passphrase {passphrase.reveal()} is malformed")
    key = connection.secrets["api_key"].reveal()
    if not key.startswith("good"):
        # A careless adapter puts the key in its message; the CLI must still never print it.
        refused = AuthenticationFailed(f"api key {key} was refused", broker="vault", code="401")
        broker.fail("authenticate", refused)
        broker.fail("get_accounts", refused)
    return broker


@hookimpl
def tradecore_register_brokers():
    return [
        BrokerFactory(
            name="vault",
            description="Test broker with secrets",
            create=create,
            secrets=(
                SecretSpec(name="api_key", description="Vault API key", env_var="VAULT_API_KEY"),
                SecretSpec(
                    name="passphrase",
                    description="Vault passphrase",
                    env_var="VAULT_PASSPHRASE",
                    required=False,
                ),
            ),
        )
    ]
'''


@pytest.fixture(scope="session")
def vault_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the ``vault`` plugin as an installed distribution."""
    root = tmp_path_factory.mktemp("vault-plugin")
    (root / "tradecore_vaultbroker.py").write_text(textwrap.dedent(VAULT_MODULE))
    info = root / "tradecore_vaultbroker-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tradecore-vaultbroker\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text("[tradecore.plugins]\nvault = tradecore_vaultbroker\n")
    return root


@pytest.fixture
def vault(vault_path: Path, monkeypatch: pytest.MonkeyPatch, home: Cli) -> Cli:
    """A home where the ``vault`` plugin is installed, with the user alice."""
    monkeypatch.syspath_prepend(str(vault_path))
    assert "vault" in {entry["name"] for entry in home.json("plugins")}
    home.ok("user", "add", "alice")
    return home


def database_bytes(home: Cli) -> bytes:
    files = Path(home.env["TRADECORE_HOME"]).glob("tradecore.db*")
    return b"".join(path.read_bytes() for path in files)


# -- the issue's flow ---------------------------------------------------------------------------


def test_the_issue_flow_syncs_once_and_a_second_sync_adds_nothing(any_backend: Cli) -> None:
    tradecore = any_backend
    assert "Added user alice" in tradecore.ok("user", "add", "alice")
    added = tradecore.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    assert "Added paper connection p1 for alice" in added

    first = tradecore.ok("sync", "--user", "alice")
    table = tradecore.ok("trades", "--user", "alice")
    stored = tradecore.json("trades", "--user", "alice")

    assert first.startswith("p1 (paper): 1 account(s), ")
    assert f"{len(stored)} trade(s) seen, {len(stored)} new." in first
    assert stored
    assert "Trades of alice" in table
    assert f"{len(stored)} trade(s), newest first." in table  # one page: all 25
    assert table.count("p1 / paper") == len(stored)

    second = tradecore.ok("sync", "--user", "alice")

    assert "0 new." in second
    assert len(tradecore.json("trades", "--user", "alice")) == len(stored)


def test_sync_without_active_connections_says_how_to_add_one(home: Cli) -> None:
    home.ok("user", "add", "alice")
    out = home.ok("sync", "--user", "alice")
    assert "alice has no active broker connections" in out
    assert "tradecore broker add" in out


# -- positions and trades ------------------------------------------------------------------------


def test_trades_and_positions_json_have_exact_amounts_and_utc_times(alice: Cli) -> None:
    trades = alice.json("trades", "--user", "alice")
    positions = alice.json("positions", "--user", "alice")

    assert positions
    for trade in trades:
        assert trade["connection"] == "p1"
        for key in ("quantity", "price", "fee"):
            assert isinstance(trade[key], str)
            assert "E" not in trade[key]
            Decimal(trade[key])
        assert datetime.fromisoformat(trade["executed_at"]).utcoffset() == timedelta(0)
    for position in positions:
        assert isinstance(position["quantity"], str)
        assert Decimal(position["quantity"]) != 0
        assert datetime.fromisoformat(position["as_of"]).utcoffset() == timedelta(0)
    times = [trade["executed_at"] for trade in trades]
    assert times == sorted(times), "oldest first"


def minute_after(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso) + timedelta(minutes=1)
    return moment.replace(second=0, microsecond=0)


def test_trades_filter_by_symbol_dates_and_limit(alice: Cli) -> None:
    everything = alice.json("trades", "--user", "alice")
    assert len(everything) >= 6
    symbol = everything[0]["symbol"]
    since = minute_after(everything[1]["executed_at"])
    until = minute_after(everything[-3]["executed_at"])
    as_arg = "%Y-%m-%dT%H:%M"

    by_symbol = alice.json("trades", "--user", "alice", "--symbol", symbol.lower())
    dated = alice.json(
        "trades",
        "--user",
        "alice",
        "--since",
        since.strftime(as_arg),
        "--until",
        until.strftime(as_arg),
    )
    newest = alice.json("trades", "--user", "alice", "--limit", "3")
    newest_of_symbol = alice.json("trades", "--user", "alice", "--symbol", symbol, "--limit", "1")

    assert by_symbol == [trade for trade in everything if trade["symbol"] == symbol]
    assert dated == [
        trade
        for trade in everything
        if since <= datetime.fromisoformat(trade["executed_at"]) < until
    ]
    assert 0 < len(dated) < len(everything)
    assert newest == everything[-3:]
    assert newest_of_symbol == by_symbol[-1:]


def test_trades_and_positions_filter_by_connection(alice: Cli) -> None:
    alice.ok("broker", "add", "paper", "--name", "p2", "--user", "alice", "--setting", "seed=7")
    alice.ok("sync", "--user", "alice", "--connection", "p2")

    p1 = alice.json("trades", "--user", "alice", "--connection", "p1")
    p2 = alice.json("trades", "--user", "alice", "--connection", "p2")
    both = alice.json("trades", "--user", "alice")
    positions = alice.json("positions", "--user", "alice", "--connection", "p2")

    assert {trade["connection"] for trade in p1} == {"p1"}
    assert {trade["connection"] for trade in p2} == {"p2"}
    assert len(both) == len(p1) + len(p2)
    assert positions
    assert {position["connection"] for position in positions} == {"p2"}


def test_positions_table_and_symbol_filter(alice: Cli) -> None:
    positions = alice.json("positions", "--user", "alice")
    symbol = positions[0]["symbol"]

    table = alice.ok("positions", "--user", "alice")
    one = alice.json("positions", "--user", "alice", "--symbol", symbol)
    none = alice.ok("positions", "--user", "alice", "--symbol", "NO-SUCH")

    assert "Positions of alice" in table
    assert table.count("p1 / paper") == len(positions)
    assert [position["symbol"] for position in one] == [symbol]
    assert "No positions stored for alice (symbol NO-SUCH)" in none


def test_trades_of_a_user_who_never_synced_say_how_to_sync(home: Cli) -> None:
    home.ok("user", "add", "alice")
    out = home.ok("trades", "--user", "alice")
    assert "No trades stored for alice." in out
    assert "tradecore sync --user alice" in out
    assert home.json("trades", "--user", "alice") == []


# -- users ---------------------------------------------------------------------------------------


def test_user_list_shows_each_user_and_their_connections(alice: Cli) -> None:
    alice.ok("user", "add", "bob")

    listed = alice.json("user", "list")
    table = alice.ok("user", "list")

    assert [(user["name"], user["connections"]) for user in listed] == [("alice", 1), ("bob", 0)]
    assert "alice" in table
    assert "bob" in table


def test_user_remove_asks_with_the_counts_and_removes_everything(alice: Cli) -> None:
    trades = len(alice.json("trades", "--user", "alice"))

    declined = alice("user", "remove", "alice", input="n\n", interactive=True)

    assert declined.exit_code == 1
    assert f"broker connections (1), strategies (0) and trades ({trades})?" in declined.stdout
    assert "Nothing removed." in declined.stdout
    assert len(alice.json("trades", "--user", "alice")) == trades

    removed = alice.ok("user", "remove", "alice", "--yes")

    assert (
        f"Removed user alice with its broker connections (1), strategies (0) and trades ({trades})."
        in removed
    )
    assert alice.json("user", "list") == []
    alice.ok("user", "add", "alice")
    assert alice.json("broker", "list", "--user", "alice") == []
    assert alice.json("trades", "--user", "alice") == []
    assert alice.json("positions", "--user", "alice") == []


def test_without_user_the_only_user_is_meant_and_with_several_the_command_asks(
    alice: Cli,
) -> None:
    assert alice.json("broker", "list")[0]["name"] == "p1"
    alice.ok("user", "add", "bob")

    line = error_line(alice("broker", "list"))

    assert "there are 2 users; say which with --user (alice, bob)" in line


# -- broker connections --------------------------------------------------------------------------


def test_broker_list_shows_settings_and_never_secret_values(home: Cli) -> None:
    home.ok("user", "add", "alice")
    home.ok(
        "broker", "add", "dummy", "--name", "d1", "--user", "alice", "--setting", "currency=EUR"
    )

    listed = home.json("broker", "list", "--user", "alice")
    table = home.ok("broker", "list", "--user", "alice")

    assert listed == [
        {
            "id": listed[0]["id"],
            "name": "d1",
            "type": "dummy",
            "active": True,
            "settings": {"currency": "EUR"},
            "secrets": {},
            "secrets_unreadable": False,
            "created_at": listed[0]["created_at"],
        }
    ]
    assert isinstance(listed[0]["id"], str)
    assert listed[0]["id"]
    assert "currency=EUR" in table


def test_broker_add_reads_a_setting_from_its_variable_unless_it_is_given(home: Cli) -> None:
    home.ok("user", "add", "alice")
    from_env = {"DUMMY_CURRENCY": "EUR"}

    out = home.ok("broker", "add", "dummy", "--name", "d1", "--user", "alice", env=from_env)
    home.ok(
        "broker",
        "add",
        "dummy",
        "--name",
        "d2",
        "--user",
        "alice",
        "--setting",
        "currency=USD",
        env=from_env,
    )
    home.ok("broker", "add", "dummy", "--name", "d3", "--user", "alice", env={"DUMMY_CURRENCY": ""})
    invalid = home(
        "broker", "add", "dummy", "--name", "d4", "--user", "alice", env={"DUMMY_CURRENCY": "GBP"}
    )

    assert "setting currency: read from DUMMY_CURRENCY." in out
    assert "(settings currency=EUR)" in out
    listed = {c["name"]: c["settings"] for c in home.json("broker", "list", "--user", "alice")}
    assert listed == {"d1": {"currency": "EUR"}, "d2": {"currency": "USD"}, "d3": {}}
    assert "setting 'currency' must be one of USD, EUR; got 'GBP'" in error_line(invalid)


def test_broker_test_reports_the_accounts(alice: Cli) -> None:
    out = alice.ok("broker", "test", "p1", "--user", "alice")
    assert "Connection p1 (paper) works: 1 account(s) found." in out
    assert "  paper (Paper account, USD)" in out


def test_broker_remove_asks_then_removes_the_connection_and_its_trades(alice: Cli) -> None:
    trades = len(alice.json("trades", "--user", "alice"))

    out = alice.ok("broker", "remove", "p1", "--user", "alice", input="y\n", interactive=True)

    assert f"trades ({trades})? This cannot be undone" in out
    assert "Removed connection p1 of alice" in out
    assert alice.json("broker", "list", "--user", "alice") == []
    assert alice.json("trades", "--user", "alice") == []
    assert alice.json("positions", "--user", "alice") == []


def test_a_user_sees_and_touches_only_their_own_data(alice: Cli) -> None:
    trades = alice.json("trades", "--user", "alice")
    alice.ok("user", "add", "bob")

    assert alice.json("broker", "list", "--user", "bob") == []
    assert alice.json("trades", "--user", "bob") == []
    assert alice.json("positions", "--user", "bob") == []
    for command in (
        ("broker", "remove", "p1", "--user", "bob", "--yes"),
        ("broker", "test", "p1", "--user", "bob"),
        ("sync", "--user", "bob", "--connection", "p1"),
        ("trades", "--user", "bob", "--connection", "p1"),
        ("positions", "--user", "bob", "--connection", "p1"),
    ):
        assert "bob has no broker connection named 'p1'" in error_line(alice(*command))
    assert "bob has no active broker connections" in alice.ok("sync", "--user", "bob")
    # bob may use the same connection name; it is a different connection.
    alice.ok("broker", "add", "paper", "--name", "p1", "--user", "bob")
    alice.ok("broker", "remove", "p1", "--user", "bob", "--yes")

    assert alice.json("broker", "list", "--user", "alice")[0]["name"] == "p1"
    assert alice.json("trades", "--user", "alice") == trades


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("broker", "add", "acme", "--name", "x", "--user", "alice"),
            # The list names every installed broker plugin, samples included (nox installs two).
            "'acme' is not an installed broker plugin (installed: binance, ",
        ),
        (
            ("broker", "add", "paper", "--name", "x", "--user", "alice", "--setting", "colour=red"),
            "broker 'paper': unknown setting(s) colour; allowed: activity_minutes, currency",
        ),
        (
            ("broker", "add", "paper", "--name", "x", "--user", "alice", "--setting", "seed=abc"),
            "setting 'seed' must be a whole number; got 'abc'",
        ),
        (
            ("broker", "add", "paper", "--name", "x", "--user", "alice", "--setting", "seed"),
            "'seed' is not KEY=VALUE",
        ),
        (
            (
                "broker",
                "add",
                "dummy",
                "--name",
                "x",
                "--user",
                "alice",
                "--setting",
                "currency=GBP",
            ),
            "setting 'currency' must be one of USD, EUR; got 'GBP'",
        ),
        (
            ("broker", "add", "paper", "--name", "p1", "--user", "alice"),
            "alice already has a broker connection named 'p1'",
        ),
        (("broker", "add", "paper", "--name", "x", "--user", "carol"), "no user named 'carol'"),
        (("sync", "--user", "carol"), "there is no user named 'carol'"),
        (("user", "remove", "carol", "--yes"), "there is no user named 'carol'"),
        (("user", "add", "alice"), "there is already a user named 'alice'"),
        # Names are trimmed (docs/names.md): " alice " is alice, who exists.
        (("user", "add", " alice "), "there is already a user named 'alice'"),
        (("user", "add", "  "), "a user name must not be empty"),
        (("user", "add", "bob\tsmith"), "only printable characters, not U+0009"),
        (("user", "add", "b" * 65), "at most 64 characters long, got 65"),
        (
            ("broker", "add", "paper", "--name", "", "--user", "alice"),
            "a connection name must not be empty",
        ),
        (
            ("broker", "add", "paper", "--name", "p\x1b[31m", "--user", "alice"),
            "a connection name must hold only printable characters, not U+001B",
        ),
        (
            ("trades", "--user", "alice", "--connection", "nope"),
            "no broker connection named 'nope'",
        ),
        (("broker", "test", "nope", "--user", "alice"), "no broker connection named 'nope'"),
        (("broker", "remove", "nope", "--user", "alice"), "no broker connection named 'nope'"),
        (("trades", "--user", "alice", "--since", "2024-13-01"), "'2024-13-01' is not a UTC date"),
        (("trades", "--user", "alice", "--until", "yesterday"), "'yesterday' is not a UTC date"),
        (
            ("trades", "--user", "alice", "--since", "2024-02-01", "--until", "2024-01-01"),
            "--since must be earlier than --until",
        ),
        (("trades", "--user", "alice", "--limit", "0"), "--limit"),
    ],
)
def test_bad_input_is_one_clear_sentence_and_changes_nothing(
    alice: Cli, args: Sequence[str], expected: str
) -> None:
    connections = alice.json("broker", "list", "--user", "alice")
    users = alice.json("user", "list")

    line = error_line(alice(*args))

    assert expected in line
    assert alice.json("broker", "list", "--user", "alice") == connections
    assert alice.json("user", "list") == users


def test_commands_before_init_say_what_to_run(tmp_path: Path) -> None:
    tradecore = Cli({"TRADECORE_HOME": str(tmp_path / "never-initialised")})
    line = error_line(tradecore("user", "list"))
    assert "tradecore init" in line


# -- secrets -------------------------------------------------------------------------------------


def test_secrets_from_the_environment_are_stored_and_never_shown(vault: Cli) -> None:
    env = {"VAULT_API_KEY": f"good-{CANARY}", "VAULT_PASSPHRASE": CANARY}
    outputs = [
        vault(
            "broker", "add", "vault", "--name", "v1", "--user", "alice", env=env, interactive=False
        ),
        vault("broker", "list", "--user", "alice"),
        vault("broker", "list", "--user", "alice", "--json"),
        vault("broker", "test", "v1", "--user", "alice"),
        vault("sync", "--user", "alice"),
        vault("trades", "--user", "alice", "--json"),
        vault("positions", "--user", "alice"),
        vault("user", "list"),
    ]

    for result in outputs:
        assert result.exit_code == 0, result.output
        assert CANARY not in result.output
    added, _, listed, tested, synced = (result.stdout for result in outputs[:5])
    assert "api_key: read from VAULT_API_KEY." in added
    assert "passphrase: read from VAULT_PASSPHRASE." in added
    assert "secrets api_key, passphrase stored encrypted" in added
    assert json.loads(listed)[0]["secrets"] == {"api_key": "set", "passphrase": "set"}
    assert "works: 1 account(s) found" in tested
    assert "3 trade(s) seen, 3 new" in synced
    assert CANARY.encode() not in database_bytes(vault)


def test_secrets_are_asked_for_at_a_hidden_prompt(vault: Cli) -> None:
    result = vault(
        "broker",
        "add",
        "vault",
        "--name",
        "v1",
        "--user",
        "alice",
        input=f"good-{CANARY}\n\n",
        interactive=True,
    )

    assert result.exit_code == 0, result.output
    assert "api_key (Vault API key): " in result.stdout
    assert "passphrase (Vault passphrase) [optional]: " in result.stdout
    assert CANARY not in result.output
    assert vault.json("broker", "list", "--user", "alice")[0]["secrets"] == {"api_key": "set"}
    assert "works" in vault.ok("broker", "test", "v1", "--user", "alice")


def test_a_missing_secret_without_a_terminal_names_the_variable_to_set(vault: Cli) -> None:
    line = error_line(
        vault("broker", "add", "vault", "--name", "v1", "--user", "alice", interactive=False)
    )

    assert "needs the secret 'api_key' (Vault API key)" in line
    assert "set VAULT_API_KEY" in line
    assert vault.json("broker", "list", "--user", "alice") == []


def test_a_secret_is_never_taken_from_the_command_line(vault: Cli) -> None:
    args = ("broker", "add", "vault", "--name", "v1", "--user", "alice")
    line = error_line(vault(*args, "--setting", f"api_key={CANARY}", interactive=False))

    assert "unknown setting(s) api_key" in line
    assert CANARY not in line


def test_a_connection_the_plugin_refuses_is_not_stored_and_its_secrets_stay_masked(
    vault: Cli,
) -> None:
    env = {"VAULT_API_KEY": "good-key", "VAULT_PASSPHRASE": f"bad-{CANARY}"}
    args = ("broker", "add", "vault", "--name", "v1", "--user", "alice")

    result = vault(*args, env=env, interactive=False)

    assert result.exit_code == 2
    assert error_line(result) == "Error: passphrase ********** is malformed"
    assert CANARY not in result.output
    assert vault.json("broker", "list", "--user", "alice") == []


def test_a_refused_key_is_one_sentence_with_the_secret_masked(vault: Cli) -> None:
    env = {"VAULT_API_KEY": f"bad-{CANARY}"}
    vault.ok(
        "broker", "add", "vault", "--name", "v1", "--user", "alice", env=env, interactive=False
    )

    result = vault("broker", "test", "v1", "--user", "alice")

    line = error_line(result)
    assert result.exit_code == 1
    assert line == (
        "Error: connection v1 (vault) does not work: "
        "AuthenticationFailed: api key ********** was refused (code 401)"
    )
    assert CANARY not in result.output


def test_sync_reports_a_failing_connection_and_still_syncs_the_others(vault: Cli) -> None:
    env = {"VAULT_API_KEY": f"bad-{CANARY}"}
    vault.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    vault.ok(
        "broker", "add", "vault", "--name", "v1", "--user", "alice", env=env, interactive=False
    )

    result = vault("sync", "--user", "alice")

    line = error_line(result)
    assert result.exit_code == 1
    assert line.startswith("Error: sync of v1 (vault) failed: AuthenticationFailed: ")
    assert CANARY not in result.output
    assert result.stdout.startswith("p1 (paper): 1 account(s)")
    assert vault.json("trades", "--user", "alice", "--connection", "p1")


# -- as real processes ---------------------------------------------------------------------------


def tradecore_executable() -> str:
    script = Path(sys.executable).with_name("tradecore")
    if not script.exists():
        pytest.fail(f"the tradecore console script is not installed next to {sys.executable}")
    return str(script)


def clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADECORE_")}
    env["COLUMNS"] = "160"
    return env


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


def test_the_issue_flow_as_real_processes(tmp_path: Path) -> None:
    env = {**clean_env(), "TRADECORE_HOME": str(tmp_path / "home")}
    steps = [
        ("init",),
        ("user", "add", "alice"),
        ("broker", "add", "paper", "--name", "p1", "--user", "alice"),
        ("sync", "--user", "alice"),
        ("trades", "--user", "alice"),
    ]
    for step in steps:
        done = run_tradecore(*step, env=env)
        assert done.returncode == 0, (step, done.stderr)
    assert "Trades of alice" in done.stdout
    count = len(json.loads(run_tradecore("trades", "--user", "alice", "--json", env=env).stdout))

    again = run_tradecore("sync", "--user", "alice", env=env)

    assert again.returncode == 0, again.stderr
    assert "0 new." in again.stdout
    after = json.loads(run_tradecore("trades", "--user", "alice", "--json", env=env).stdout)
    assert len(after) == count > 0


def test_secrets_and_progress_in_a_real_process(tmp_path: Path, vault_path: Path) -> None:
    pythonpath = os.pathsep.join(filter(None, [str(vault_path), os.environ.get("PYTHONPATH")]))
    env = {**clean_env(), "TRADECORE_HOME": str(tmp_path / "home"), "PYTHONPATH": pythonpath}
    assert run_tradecore("init", env=env).returncode == 0
    assert run_tradecore("user", "add", "alice", env=env).returncode == 0
    add = ("broker", "add", "vault", "--name", "v1", "--user", "alice")

    missing = run_tradecore(*add, env=env)  # standard input is not a terminal
    added = run_tradecore(*add, env={**env, "VAULT_API_KEY": f"good-{CANARY}"})
    # FORCE_COLOR makes rich treat standard error as a terminal, so the progress display draws.
    synced = run_tradecore("sync", "--user", "alice", env={**env, "FORCE_COLOR": "1"})

    assert missing.returncode == 2
    assert "set VAULT_API_KEY" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert added.returncode == 0, added.stderr
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout == "v1 (vault): 1 account(s), 0 position(s), 3 trade(s) seen, 3 new.\n"
    assert "v1 (vault)" in synced.stderr
    assert "trades fetched" in synced.stderr
    for done in (missing, added, synced):
        assert CANARY not in done.stdout + done.stderr
    assert CANARY.encode() not in b"".join(
        path.read_bytes() for path in (tmp_path / "home").glob("tradecore.db*")
    )


def test_progress_is_not_drawn_when_standard_error_is_not_a_terminal(alice: Cli) -> None:
    result = alice("sync", "--user", "alice")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout.startswith("p1 (paper): ")


def test_utc_is_the_zone_of_every_time_printed(alice: Cli) -> None:
    trade = alice.json("trades", "--user", "alice", "--limit", "1")[0]
    executed = datetime.fromisoformat(trade["executed_at"]).astimezone(UTC)
    table = alice.ok("trades", "--user", "alice", "--limit", "1")
    assert executed.strftime("%Y-%m-%d %H:%M:%S") in table


# -- changing what exists --------------------------------------------------------------------------


def test_user_rename_keeps_what_the_user_owns_and_refuses_a_taken_name(home: Cli) -> None:
    home.ok("user", "add", "alice")
    home.ok("user", "add", "bob")
    home.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")

    assert "Renamed user alice to alicia." in home.ok("user", "rename", "alice", " alicia ")

    assert [c["name"] for c in home.json("broker", "list", "--user", "alicia")] == ["p1"]
    assert "there is already a user named 'bob'" in error_line(
        home("user", "rename", "alicia", "bob")
    )
    assert "there is no user named 'alice'" in error_line(home("user", "rename", "alice", "x"))
    assert sorted(u["name"] for u in home.json("user", "list")) == ["alicia", "bob"]


def test_broker_edit_checks_the_result_before_storing_it(home: Cli) -> None:
    home.ok("user", "add", "alice")
    home.ok("broker", "add", "dummy", "--name", "d1", "--user", "alice")

    out = home.ok("broker", "edit", "d1", "--user", "alice", "--setting", "currency=EUR")
    assert "now has settings currency=EUR" in out
    refused = home("broker", "edit", "d1", "--user", "alice", "--setting", "currency=GBP")
    assert "setting 'currency' must be one of USD, EUR; got 'GBP'" in error_line(refused)
    assert home.json("broker", "list", "--user", "alice")[0]["settings"] == {"currency": "EUR"}
    home.ok("broker", "edit", "d1", "--user", "alice", "--unset", "currency")
    assert home.json("broker", "list", "--user", "alice")[0]["settings"] == {}
    assert "nothing to change" in home("broker", "edit", "d1", "--user", "alice").output


def test_a_disabled_connection_is_kept_but_not_synced_until_enabled(home: Cli) -> None:
    home.ok("user", "add", "alice")
    home.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")

    assert "is disabled" in home.ok("broker", "disable", "p1", "--user", "alice")
    assert home.json("broker", "list", "--user", "alice")[0]["active"] is False
    assert "has no active broker connections" in home.ok("sync", "--user", "alice")

    home.ok("broker", "enable", "p1", "--user", "alice")
    assert "p1 (paper):" in home.ok("sync", "--user", "alice")
