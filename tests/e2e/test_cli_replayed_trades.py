"""A venue whose trade cursor replays overlapping pages: each sync sees fills it already stored
again, and stores none of them twice nor takes the replayed copy's values over the stored ones.

The sample ``dummy`` broker with ``replay_trades=1`` starts each page after the first one fill
before the cursor, and reports a fill it sends again with a revised fee (0.25 instead of none),
so a ledger that replaced stored trades by what the broker sends again would show it. Runs the
command line on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.e2e.cli_runner import Cli

HISTORY = ["T-1", "T-2", "T-3"]  # the dummy venue's three fills, oldest first


@pytest.fixture(params=["sqlite", "postgresql"])
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    env = {"TRADECORE_HOME": str(tmp_path / "home")}
    if request.param == "postgresql":
        env["TRADECORE_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    cli = Cli(env)
    cli.ok("init")
    cli.ok("user", "add", "alice")
    cli.ok(
        "broker", "add", "dummy", "--name", "d1", "--user", "alice",
        "--setting", "replay_trades=1",
    )  # fmt: skip
    return cli


def synced(cli: Cli) -> dict[str, Any]:
    (connection,) = cli.json("sync", "--user", "alice")["connections"]
    assert connection["ok"], connection["error"]
    return dict(connection)


def stored(cli: Cli) -> list[dict[str, Any]]:
    return list(cli.json("trades", "--user", "alice"))


def test_fills_a_venue_sends_again_are_stored_once_as_first_seen(cli: Cli) -> None:
    first = synced(cli)
    # Pages [T-1, T-2] then [T-2 again, T-3]: four fills seen, three of them new.
    assert (first["trades_seen"], first["trades_new"]) == (4, 3)
    ledger = stored(cli)
    assert [trade["broker_trade_id"] for trade in ledger] == HISTORY
    assert {trade["fee"] for trade in ledger} == {"0"}, "the replay within a sync was taken"

    for _ in range(2):  # each later sync starts one fill back: T-3 again, with a revised fee
        again = synced(cli)
        assert stored(cli) == ledger, "a fill sent again changed the stored trades"
        assert (again["trades_seen"], again["trades_new"]) == (1, 0)
