"""One confirmation behaviour and Ctrl-C (issue 17, item 6).

Every command that deletes something asks first unless given ``--yes``: a no (or the end of
input) changes nothing and exits 1; with no terminal on standard input it does not wait but says
``no terminal to confirm on; pass --yes``. Ctrl-C (SIGINT) stops any command at once with exit
status 130 and the one line ``Interrupted.``, never a traceback.
"""

from __future__ import annotations

import os
import pty
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.cli_runner import Cli


@pytest.fixture
def home(tmp_path: Path) -> Cli:
    """Alice with a paper connection ``p1``, a dca strategy ``btc`` and a console target."""
    tradecore = Cli({"TRADECORE_HOME": str(tmp_path / "home")})
    tradecore.ok("init")
    tradecore.ok("user", "add", "alice")
    tradecore.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    tradecore.ok(
        "strategy", "add", "dca", "--name", "btc", "--connection", "p1", "--user", "alice",
        "--param", "instrument=BTC-USD", "--param", "amount=50",
    )  # fmt: skip
    tradecore.ok("notify", "add", "console", "--name", "c1", "--user", "alice")
    return tradecore


# What each deleting command removes, and how to see whether it is still there.
REMOVALS = [
    (("user", "remove", "alice"), ("user", "list"), "alice"),
    (("broker", "remove", "p1", "--user", "alice"), ("broker", "list", "--user", "alice"), "p1"),
    (
        ("strategy", "remove", "btc", "--user", "alice"),
        ("strategy", "list", "--user", "alice"),
        "btc",
    ),
    (("notify", "remove", "c1", "--user", "alice"), ("notify", "list", "--user", "alice"), "c1"),
]


@pytest.mark.parametrize(("remove", "listing", "name"), REMOVALS)
def test_without_a_terminal_nothing_is_asked_nor_removed(
    home: Cli, remove: tuple[str, ...], listing: tuple[str, ...], name: str
) -> None:
    result = home(*remove, interactive=False, input="y\n")  # an answer is not read

    assert result.exit_code == 1
    assert "no terminal to confirm on; pass --yes" in result.stderr
    assert "Nothing removed." in result.stdout
    assert "Traceback" not in result.output
    assert name in home.ok(*listing)


@pytest.mark.parametrize(("remove", "listing", "name"), REMOVALS)
@pytest.mark.parametrize("answer", ["n\n", "", "maybe\n\n"])
def test_a_no_or_no_answer_removes_nothing(
    home: Cli, remove: tuple[str, ...], listing: tuple[str, ...], name: str, answer: str
) -> None:
    result = home(*remove, interactive=True, input=answer)

    assert result.exit_code == 1
    assert "[y/N]" in result.stdout
    assert "Nothing removed." in result.stdout
    assert name in home.ok(*listing)


@pytest.mark.parametrize(("remove", "listing", "name"), REMOVALS)
def test_a_yes_or_yes_flag_removes(
    home: Cli, remove: tuple[str, ...], listing: tuple[str, ...], name: str
) -> None:
    result = home(*remove, interactive=True, input="y\n")

    assert result.exit_code == 0, result.output
    assert "Removed" in result.stdout
    assert name not in home.ok(*listing).replace("alice's", "")


def test_yes_removes_without_asking_even_without_a_terminal(home: Cli) -> None:
    result = home("notify", "remove", "c1", "--user", "alice", "--yes", interactive=False)

    assert result.exit_code == 0, result.output
    assert "[y/N]" not in result.output
    assert "Removed notification target c1 of alice." in result.stdout


def test_order_place_without_a_terminal_sends_nothing(home: Cli) -> None:
    result = home(
        "order", "place", "--connection", "p1", "--user", "alice", "--symbol", "BTC-USD",
        "--side", "buy", "--quantity", "0.01", interactive=False,
    )  # fmt: skip

    assert result.exit_code == 1
    assert "no terminal to confirm on; pass --yes" in result.stderr
    assert "Nothing sent." in result.stdout
    assert home.ok("order", "list", "--user", "alice", "--json").strip() == "[]"


# -- Ctrl-C -------------------------------------------------------------------------------------

SCRIPT = Path(sys.executable).with_name("tradecore")


@pytest.fixture
def hanging_server() -> Iterator[str]:
    """A loopback server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        server.close()


def tradecore(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def interrupt(
    env: dict[str, str], *args: str, after: float, stdin: int = subprocess.PIPE
) -> tuple[int, str, float]:
    """Start ``tradecore args``, send SIGINT ``after`` seconds later: its status, its standard
    error and how long it took to stop. Standard input stays open and silent."""
    process = subprocess.Popen(
        [str(SCRIPT), *args],
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(after)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    try:
        _, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("tradecore did not stop within 10 s of SIGINT")
    return process.returncode, stderr, time.monotonic() - sent


@pytest.fixture
def process_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADECORE_")}
    env |= {"TRADECORE_HOME": str(tmp_path / "home")}
    for step in (("init",), ("user", "add", "alice")):
        done = tradecore(env, *step)
        assert done.returncode == 0, done.stderr
    return env


def test_ctrl_c_stops_a_sync_waiting_on_a_silent_broker_with_130(
    process_env: dict[str, str], hanging_server: str
) -> None:
    keys = {"BINANCE_API_KEY": "key-0123456789", "BINANCE_API_SECRET": "secret-0123456789"}
    added = tradecore(
        {**process_env, **keys},
        "broker", "add", "binance", "--name", "b1", "--user", "alice",
        "--setting", f"base_url={hanging_server}",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr

    status, stderr, took = interrupt(process_env, "sync", "--user", "alice", after=3)

    assert status == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == "Interrupted."
    assert took < 5


def test_ctrl_c_at_a_confirmation_on_a_terminal_exits_130_and_removes_nothing(
    process_env: dict[str, str],
) -> None:
    # On a terminal (a pseudo-terminal here) the question waits; Ctrl-C is not a "no" (exit 1)
    # but an interruption.
    controller, terminal = pty.openpty()
    try:
        status, stderr, took = interrupt(
            process_env, "user", "remove", "alice", after=2, stdin=terminal
        )
    finally:
        os.close(terminal)
        os.close(controller)

    assert status == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == "Interrupted."
    assert took < 5
    assert "alice" in tradecore(process_env, "user", "list").stdout
