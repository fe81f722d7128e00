"""The ``saxo`` broker from the command line, against a fake Saxo on loopback: the browser login
through the real ``tradecore broker login`` process and its callback listener, the ``--paste``
variant, failed logins that change nothing, and token refreshes shared by two processes
(docs/brokers/saxo.md, "Log in" and "Staying logged in")."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from tests.fakes.saxo_exchange import FakeSaxo

from tradecore.domain import BrokerConnection, OAuthTokens, Secret
from tradecore.services import save_login
from tradecore_adapters.bootstrap import open_application
from tradecore_cli.settings import load_settings

APP_SECRET = "app-s3cret-canary-7731"
SCRIPT = Path(sys.executable).with_name("tradecore")
ROOT = Path(__file__).resolve().parents[2]
FOLLOW = """
import sys, httpx
answer = httpx.get(sys.argv[1], follow_redirects=True, timeout=20)
sys.exit(0 if answer.status_code == 200 else 1)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Home:
    """A tradecore home (SQLite, or PostgreSQL) driven through the installed script."""

    def __init__(self, tmp_path: Path, database_url: str | None) -> None:
        self.env = {**os.environ, "TRADECORE_HOME": str(tmp_path / "home")}
        self.env.pop("TRADECORE_DATABASE_URL", None)
        if database_url:
            self.env["TRADECORE_DATABASE_URL"] = database_url
        self.env["SAXO_CLIENT_SECRET"] = APP_SECRET
        self.outputs: list[str] = []

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(SCRIPT), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        self.outputs.append(done.stdout + done.stderr)
        return done

    def ok(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = self.run(*args, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            args,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )

    def tokens(self) -> OAuthTokens | None:
        return asyncio.run(self._connection()).tokens

    def store_tokens(self, tokens: OAuthTokens) -> None:
        async def store() -> None:
            connection = await self._connection()
            app = await open_application(load_settings(self.env))
            try:
                await save_login(app.repository, connection, tokens)
            finally:
                await app.aclose()

        asyncio.run(store())

    async def _connection(self) -> BrokerConnection:
        app = await open_application(load_settings(self.env))
        try:
            async with app.repository.unit_of_work() as uow:
                user = await uow.users.get_by_name("alice")
                return await uow.connections.get_by_name(user.id, "s1")
        finally:
            await app.aclose()

    def stored_bytes(self) -> bytes:
        home = Path(self.env["TRADECORE_HOME"])
        return b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def fake(port: int) -> FakeSaxo:
    saxo = FakeSaxo(app_secret=APP_SECRET, redirect_uris=(f"http://127.0.0.1:{port}/callback",))
    saxo.add_instrument(
        211, "Stock", "AAPL:xnas", "Apple Inc.", "USD", Decimal("189.51"), Decimal("189.53")
    )
    account = saxo.add_account("LZTc7DdejXODf-WSl2aCyQ==", "192134INET", "EUR")
    saxo.add_account("Qm9nLWFjY291bnQ+Lw|2==", "192134USD", "USD")
    account.add_net_position(211, "Stock", Decimal(150), Decimal("172.3456"))
    return saxo


@pytest.fixture
def saxo_url(fake: FakeSaxo) -> Iterator[str]:
    with fake.serve() as url:
        yield url


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str | None:
    """SQLite unless a test asks for ``postgresql`` (``indirect`` parametrisation)."""
    backend = getattr(request, "param", "sqlite")
    return request.getfixturevalue("postgres_url") if backend == "postgresql" else None


BOTH_DATABASES = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def home(tmp_path: Path, saxo_url: str, port: int, fake: FakeSaxo, database: str | None) -> Home:
    """alice with a ``saxo`` connection ``s1`` to the fake (not logged in yet)."""
    url = database
    home = Home(tmp_path, url)
    home.ok("init")
    home.ok("user", "add", "alice")
    home.ok(
        "broker", "add", "saxo", "--name", "s1", "--user", "alice",
        "--setting", f"auth_base_url={saxo_url}",
        "--setting", f"api_base_url={saxo_url}/sim/openapi",
        "--setting", f"redirect_uri=http://127.0.0.1:{port}/callback",
        env={"SAXO_CLIENT_ID": fake.app_key},
    )  # fmt: skip
    return home


def browser(tmp_path: Path) -> dict[str, str]:
    """A BROWSER that follows the login page's redirect to the callback, as a person's would."""
    script = tmp_path / "follow.py"
    script.write_text(FOLLOW)
    return {"BROWSER": f"{sys.executable} {script} %s"}


def assert_no_secret(home: Home, tokens: OAuthTokens | None) -> None:
    shown = "\n".join(home.outputs)
    assert APP_SECRET not in shown
    if tokens is not None:
        for secret in (tokens.access_token, tokens.refresh_token):
            assert secret is not None
            assert secret.reveal() not in shown
            assert secret.reveal().encode() not in home.stored_bytes(), "a token stored in clear"


def test_login_through_the_browser_and_the_callback_listener(
    home: Home, fake: FakeSaxo, tmp_path: Path
) -> None:
    out = home.ok(
        "broker", "login", "s1", "--user", "alice", "--timeout", "60", env=browser(tmp_path)
    )

    assert "Logged in: connection s1 (saxo)" in out
    assert "/authorize?" in out
    tokens = home.tokens()
    assert tokens is not None
    assert fake.session_of(tokens.access_token.reveal()) is not None
    (exchange,) = [r for r in fake.requests if r.path == "/token"]
    assert exchange.param("grant_type") == "authorization_code"
    assert exchange.param("code_verifier")
    assert "works: 2 account(s)" in home.ok("broker", "test", "s1", "--user", "alice")
    assert_no_secret(home, tokens)


def test_login_by_pasting_the_redirected_address(home: Home, fake: FakeSaxo) -> None:
    login = home.popen(str(SCRIPT), "broker", "login", "s1", "--user", "alice", "--paste")
    assert login.stdout is not None
    assert login.stdin is not None
    url = ""
    while "/authorize?" not in url:
        url = login.stdout.readline()
        assert url, login.stderr.read() if login.stderr else "no output"
    answer = httpx.get(url.strip(), follow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303)
    out, err = login.communicate(answer.headers["location"] + "\n", timeout=60)

    assert login.returncode == 0, out + err
    assert "Logged in" in out
    tokens = home.tokens()
    assert tokens is not None
    home.outputs.append(url + out + err)
    assert_no_secret(home, tokens)


def test_a_refused_login_says_why_and_changes_nothing(
    home: Home, fake: FakeSaxo, tmp_path: Path
) -> None:
    fake.deny_next_login("access_denied", "The user cancelled")

    done = home.run(
        "broker", "login", "s1", "--user", "alice", "--timeout", "60", env=browser(tmp_path)
    )

    assert done.returncode == 1
    assert "did not authorize the login (access_denied: The user cancelled)" in done.stderr
    assert "nothing was changed" in done.stderr
    assert home.tokens() is None
    assert [r for r in fake.requests if r.path == "/token"] == []


def test_a_pasted_address_from_another_login_is_refused(home: Home, fake: FakeSaxo) -> None:
    forged = "http://127.0.0.1:1/callback?code=stolen-code&state=not-this-login"
    login = home.popen(str(SCRIPT), "broker", "login", "s1", "--user", "alice", "--paste")
    out, err = login.communicate(forged + "\n", timeout=60)

    assert login.returncode == 1
    assert "does not carry this login's state" in err
    assert "stolen-code" not in out + err
    assert home.tokens() is None
    assert [r for r in fake.requests if r.path == "/token"] == []


def logged_in(home: Home, fake: FakeSaxo) -> OAuthTokens:
    """Store a fresh login's tokens, then let the gateway refuse the access token (as after its
    twenty minutes) while the refresh token still works."""
    answer = fake.issue_tokens()
    now = datetime.now(UTC)
    tokens = OAuthTokens(
        access_token=Secret(answer["access_token"]),
        refresh_token=Secret(answer["refresh_token"]),
        access_expires_at=now + timedelta(seconds=answer["expires_in"]),
        refresh_expires_at=now + timedelta(seconds=answer["refresh_token_expires_in"]),
    )
    home.store_tokens(tokens)
    fake.expire_access_tokens()
    return tokens


def reader(home: Home, *extra: str) -> subprocess.Popen[str]:
    return home.popen(
        sys.executable, "-m", "tests.fakes.saxo_reader", "--user", "alice", "--connection", "s1",
        "--reads", "10", *extra,
    )  # fmt: skip


@BOTH_DATABASES
def test_concurrent_reads_in_two_processes_cause_exactly_one_refresh(
    home: Home, fake: FakeSaxo
) -> None:
    before = logged_in(home, fake)
    fake.token_latency = 0.5  # a slow token endpoint widens any race
    start_at = f"{time.time() + 3:.3f}"

    processes = [reader(home, "--start-at", start_at) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in processes]

    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, out + err
        assert out.strip() == "OK 2"
    assert fake.refresh_calls == 1
    after = home.tokens()
    assert after is not None
    assert after.version == before.version + 2  # the login (1), then the one refresh
    assert fake.session_of(after.access_token.reveal()) is not None


@BOTH_DATABASES
def test_a_crash_between_the_token_answer_and_the_commit_ends_in_log_in_again(
    home: Home, fake: FakeSaxo
) -> None:
    logged_in(home, fake)

    crashed = reader(home, "--crash-after-token")
    crashed.communicate(timeout=120)
    assert crashed.returncode == 3
    assert fake.refresh_calls == 1

    first = home.run("refresh-tokens", "--user", "alice")
    second = home.run("refresh-tokens", "--user", "alice")
    synced = home.run("sync", "--user", "alice")

    assert first.returncode == second.returncode == 1
    for done in (first, second):
        assert "must log in again" in done.stderr
        assert "run: tradecore broker login s1" in done.stderr
    assert "must log in again" in synced.stdout + synced.stderr
    # The crashed process recorded the refresh before calling Saxo; the next process sees that
    # it stopped on this host without saving, and never presents the spent token.
    assert "stopped before saving its new tokens" in first.stderr
    assert fake.refresh_calls == 1, "the spent refresh token was presented again"
    assert fake.refresh_token_reuse == 0
    tokens = home.tokens()
    assert tokens is not None
    assert tokens.login_required is not None
