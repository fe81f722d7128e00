"""``tradecore equity``: two syncs of the paper broker at two (fake) times record two points,
each the exact sum of the market values the sync stored, shown in JSON as exact decimal strings
and UTC times; another user sees none of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.e2e.cli_runner import Cli, error_line

from tradecore.testing import FakeClock

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
QUIET = ("--setting", "history_days=0", "--setting", "activity_minutes=10080")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def home(tmp_path: Path, clock: FakeClock) -> Cli:
    tradecore = Cli({"TRADECORE_HOME": str(tmp_path / "home")}, clock=clock)
    tradecore.ok("init")
    tradecore.ok("user", "add", "alice")
    tradecore.ok("user", "add", "bob")
    tradecore.ok("broker", "add", "paper", "--name", "p1", "--user", "alice", *QUIET)
    return tradecore


def stored_value(home: Cli) -> tuple[str, int]:
    """The sum of the market values ``positions`` shows, as the exact string, and the count."""
    positions = home.json("positions", "--user", "alice")
    values = [Decimal(p["market_value"]) for p in positions if p["market_value"] is not None]
    assert {p["currency"] for p in positions} == {"USD"}
    return format(sum(values, Decimal(0)), "f"), len(values)


def test_two_syncs_at_two_times_record_two_exact_points(home: Cli, clock: FakeClock) -> None:
    home.ok("sync", "--user", "alice")
    first, first_count = stored_value(home)
    clock.advance(timedelta(hours=6))
    home.ok("sync", "--user", "alice")
    second, second_count = stored_value(home)

    shown = home.json("equity", "--user", "alice")

    assert first != second  # six hours later the paper prices moved: two measurements

    assert shown == {
        "since": None,
        "until": None,
        "every_seconds": None,
        "series": [
            {
                "connection": "p1",
                "currency": "USD",
                "stored": 2,
                "points": [
                    {
                        "at": "2026-03-02T10:00:00+00:00",
                        "value": first,
                        "priced": first_count,
                        "unpriced": 0,
                    },
                    {
                        "at": "2026-03-02T16:00:00+00:00",
                        "value": second,
                        "priced": second_count,
                        "unpriced": 0,
                    },
                ],
            }
        ],
    }
    later = home.json(
        "equity", "--user", "alice", "--connection", "p1", "--since", "2026-03-02T12:00"
    )
    assert [p["value"] for p in later["series"][0]["points"]] == [second]
    assert later["since"] == "2026-03-02T12:00:00+00:00"
    thinned = home.json("equity", "--user", "alice", "--points", "1")
    assert [p["value"] for p in thinned["series"][0]["points"]] == [second]
    assert thinned["every_seconds"] is not None
    table = home.ok("equity", "--user", "alice")
    assert "Equity of alice: p1 (USD)" in table
    assert second in table
    assert "2 point(s)." in table


def test_an_automation_cycle_records_a_point_too(home: Cli, clock: FakeClock) -> None:
    home.ok("sync", "--user", "alice")
    clock.advance(timedelta(minutes=30))
    home.ok("cycle", "--user", "alice")

    (series,) = home.json("equity", "--user", "alice")["series"]

    assert [p["at"] for p in series["points"]] == [
        "2026-03-02T10:00:00+00:00",
        "2026-03-02T10:30:00+00:00",
    ]


def test_another_user_sees_none_of_it_and_bad_input_is_one_error(home: Cli) -> None:
    home.ok("sync", "--user", "alice")

    assert home.json("equity", "--user", "bob") == {
        "since": None,
        "until": None,
        "every_seconds": None,
        "series": [],
    }
    assert "No equity recorded for bob." in home.ok("equity", "--user", "bob")
    assert "p1" in error_line(home("equity", "--user", "bob", "--connection", "p1"))
    assert (
        "--since must be earlier than --until"
        in home(
            "equity", "--user", "alice", "--since", "2026-03-03", "--until", "2026-03-02"
        ).output
    )
    assert home("equity", "--user", "alice", "--points", "2001").exit_code != 0
