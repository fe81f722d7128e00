"""``tradecore trades`` and ``positions`` over many rows: ``--json`` written a page at a time is
the same document as before (byte for byte), ``--jsonl`` the same objects a line each; the
table shows the newest page and how to see more; ``--all`` every trade; options that ask for
two listings at once are refused; a reader that goes away (``| head``) ends it quietly."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.e2e.cli_runner import Cli

from tradecore.domain import Side
from tradecore.testing.builders import make_instrument, make_trade
from tradecore_adapters.bootstrap import open_application
from tradecore_cli.listing_output import BROKEN_PIPE
from tradecore_cli.render_trades import position_json, trade_json

START = datetime(2024, 3, 1, tzinfo=UTC)


def seed_trades(home: Cli, count: int) -> None:
    """``count`` trades of alice's connection p1, one a minute from ``START``, with exact
    amounts and text that JSON must escape."""

    async def run() -> None:
        async with await open_application(environ=home.env) as app:
            alice = await app.users.find("alice")
            async with app.repository.unit_of_work() as uow:
                (p1,) = await uow.connections.list(alice.id)
                trades = [
                    make_trade(
                        connection_id=p1.id,
                        account_id="spot",
                        broker_trade_id=f'{n}-"é\\',
                        instrument=make_instrument("BTCUSDT" if n % 2 else "ÉTH/€"),
                        side=Side.BUY if n % 3 else Side.SELL,
                        quantity=Decimal("0.00000001") * (n + 1),
                        price=Decimal("67696.10"),
                        fee=Decimal("0E-8") if n % 5 else Decimal("0.000123"),
                        executed_at=START + timedelta(minutes=n),
                    )
                    for n in range(count)
                ]
                await uow.trades.add_new(alice.id, trades)
                await uow.commit()

    asyncio.run(run())


@pytest.fixture
def alice(tmp_path: Path) -> Cli:
    """Alice with a paper connection p1 (never synced) holding 120 trades."""
    home = Cli({"TRADECORE_HOME": str(tmp_path / "home"), "COLUMNS": "200"})
    home.ok("init")
    home.ok("user", "add", "alice")
    home.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    seed_trades(home, 120)
    return home


def old_json(home: Cli, **filters: object) -> str:
    """What ``trades --json`` printed before streaming: the whole list through
    ``json.dumps(indent=2)``, from ``Portfolio.trades``."""

    async def run() -> str:
        async with await open_application(environ=home.env) as app:
            alice = await app.users.find("alice")
            found = await app.portfolio.trades(alice.id, **filters)  # type: ignore[arg-type]
            names = found.connection_names
            rows = [trade_json(t, connection=names[t.connection_id]) for t in found.trades]
            return json.dumps(rows, indent=2) + "\n"

    return asyncio.run(run())


def test_json_is_the_same_document_as_before_byte_for_byte(alice: Cli) -> None:
    streamed = alice.ok("trades", "--user", "alice", "--json")
    assert streamed == old_json(alice)
    parsed = json.loads(streamed)
    assert len(parsed) == 120
    assert parsed[0]["quantity"] == "0.00000001"
    assert parsed[0]["executed_at"] == "2024-03-01T00:00:00+00:00"
    assert parsed[1]["fee"] == "0.00000000"
    limited = alice.ok("trades", "--user", "alice", "--json", "--limit", "7", "--symbol", "btcusdt")
    assert limited == old_json(alice, limit=7, symbol="btcusdt")
    since = alice.ok("trades", "--user", "alice", "--json", "--since", "2024-03-01T01:00")
    assert since == old_json(alice, since=START + timedelta(hours=1))
    assert alice.ok("trades", "--user", "alice", "--json", "--since", "2025-01-01") == "[]\n"


def test_json_over_several_pages_is_the_same_document(tmp_path: Path) -> None:
    home = Cli({"TRADECORE_HOME": str(tmp_path / "home")})
    home.ok("init")
    home.ok("user", "add", "alice")
    home.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    seed_trades(home, 1234)  # three pages of the stream (500 a page)
    assert home.ok("trades", "--user", "alice", "--json") == old_json(home)
    limited = home.ok("trades", "--user", "alice", "--json", "--limit", "1001")
    assert limited == old_json(home, limit=1001)
    lines = home.ok("trades", "--user", "alice", "--jsonl").splitlines()
    assert [json.loads(line) for line in lines] == json.loads(old_json(home))


def test_jsonl_holds_the_same_objects_one_per_line(alice: Cli) -> None:
    lines = alice.ok("trades", "--user", "alice", "--jsonl").splitlines()
    assert [json.loads(line) for line in lines] == json.loads(old_json(alice))
    assert alice.ok("trades", "--user", "alice", "--jsonl", "--since", "2025-01-01") == ""


def test_positions_json_is_the_same_document_as_before(tmp_path: Path) -> None:
    home = Cli({"TRADECORE_HOME": str(tmp_path / "home")})
    home.ok("init")
    home.ok("user", "add", "alice")
    home.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    home.ok("sync", "--user", "alice")

    async def before() -> str:
        async with await open_application(environ=home.env) as app:
            alice = await app.users.find("alice")
            held = await app.portfolio.positions(alice.id)
            names = held.connection_names
            rows = [position_json(p, connection=names[p.connection_id]) for p in held.positions]
            return json.dumps(rows, indent=2) + "\n"

    streamed = home.ok("positions", "--user", "alice", "--json")
    assert streamed == asyncio.run(before())
    assert len(json.loads(streamed)) > 1
    lines = home.ok("positions", "--user", "alice", "--jsonl").splitlines()
    assert [json.loads(line) for line in lines] == json.loads(streamed)


def test_the_table_shows_the_newest_page_and_how_to_see_more(alice: Cli) -> None:
    first = alice.ok("trades", "--user", "alice")
    assert first.count("p1 / spot") == 50
    assert "2024-03-01 01:59:00" in first  # the newest trade (minute 119)
    assert "2024-03-01 01:09:00" not in first  # minute 69: on the next page
    assert "50 trade(s), newest first." in first
    assert "Every trade, oldest first: the same command with --all" in first
    [hint] = [line for line in first.splitlines() if line.startswith("Older trades:")]
    cursor = hint.rsplit(" ", 1)[1]
    second = alice.ok("trades", "--user", "alice", "--cursor", cursor)
    assert second.count("p1 / spot") == 50
    assert "2024-03-01 01:09:00" in second
    last_hint = [line for line in second.splitlines() if line.startswith("Older trades:")]
    third = alice.ok("trades", "--user", "alice", "--cursor", last_hint[0].rsplit(" ", 1)[1])
    assert third.count("p1 / spot") == 20
    assert "No older trades." in third
    assert "--all" not in third


def test_all_prints_every_trade_oldest_first(alice: Cli) -> None:
    every = alice.ok("trades", "--user", "alice", "--all")
    assert every.count("p1 / spot") == 120
    assert every.index("2024-03-01 00:00:00") < every.index("2024-03-01 01:59:00")
    assert "Trades of alice, oldest first" in every
    assert every.rstrip().endswith("120 trade(s), oldest first.")
    none = alice.ok("trades", "--user", "alice", "--all", "--since", "2025-01-01")
    assert "No trades stored for alice (in that period)." in none


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--json", "--jsonl"), "--json and --jsonl do not go together: choose one"),
        (("--all", "--limit", "5"), "--all lists every trade and --limit the newest N"),
        (("--all", "--page-size", "5"), "--all lists every trade at once; it does not go with"),
        (("--all", "--cursor", "x"), "--all lists every trade at once; it does not go with"),
        (("--jsonl", "--page-size", "5"), "--jsonl lists every trade; for one page and its"),
        (("--limit", "5", "--cursor", "x"), "--limit does not go with --page-size or --cursor"),
    ],
)
def test_options_that_ask_for_two_listings_are_refused(
    alice: Cli, options: tuple[str, ...], message: str
) -> None:
    result = alice("trades", "--user", "alice", *options)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert message in result.stderr
    assert result.stdout == ""
    both = alice("positions", "--user", "alice", "--json", "--jsonl")
    assert both.exit_code == 2
    assert "--json and --jsonl do not go together" in both.stderr


def test_a_page_with_json_keeps_its_cursor_document(alice: Cli) -> None:
    page = alice.json("trades", "--user", "alice", "--page-size", "3")
    assert [t["executed_at"][11:16] for t in page["trades"]] == ["01:59", "01:58", "01:57"]
    assert page["next_cursor"]


@pytest.mark.parametrize("output", ["--json", "--jsonl", "--all"])
def test_a_reader_that_goes_away_ends_the_listing_quietly(tmp_path: Path, output: str) -> None:
    script = Path(sys.executable).with_name("tradecore")
    home = Cli({"TRADECORE_HOME": str(tmp_path / "home")})
    home.ok("init")
    home.ok("user", "add", "alice")
    home.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    seed_trades(home, 3000)  # about 1.3 MB of JSON: far more than a pipe holds
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADECORE_")}
    with subprocess.Popen(
        [str(script), "trades", "--user", "alice", output],
        env={**env, **home.env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        head = child.stdout.read(100)  # what `| head -c 100` reads, then it goes away
        child.stdout.close()
        errors = child.stderr.read().decode()
        status = child.wait(timeout=120)
    assert head
    assert errors == ""
    assert status == BROKEN_PIPE
