"""The paper venue outlives each command: separate ``tradecore`` invocations (each opens its own
application on the same SQLite database, as separate processes do) see one paper account.

Every command reads time from one :class:`~tradecore.testing.FakeClock` (``Cli(clock=...)``),
so "later" is simulated, and the simulated price of a later minute is known in advance: it is a
pure function of the connection's seed and the minute (``quote_at``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.cli_runner import Cli

from tradecore.testing import FakeClock
from tradecore_adapters.paper._prices import catalogue, quote_at

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
AAPL = next(item for item in catalogue("USD") if item.symbol == "AAPL")
QUIET = ("--setting", "history_days=0", "--setting", "activity_minutes=10080")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def home(tmp_path: Path, clock: FakeClock) -> Cli:
    """Alice with a paper connection ``p1`` whose history is one fill a week."""
    tradecore = Cli({"TRADECORE_HOME": str(tmp_path / "home")}, clock=clock)
    tradecore.ok("init")
    tradecore.ok("user", "add", "alice")
    tradecore.ok("broker", "add", "paper", "--name", "p1", "--user", "alice", *QUIET)
    tradecore.ok("sync", "--user", "alice")
    return tradecore


def place(home: Cli, *args: str) -> dict[str, Any]:
    placed: dict[str, Any] = home.json(
        "order", "place", "--connection", "p1", "--user", "alice", "--symbol", "AAPL",
        "--yes", *args,
    )  # fmt: skip
    order: dict[str, Any] = placed["order"]
    return order


def holding(home: Cli, symbol: str) -> Decimal:
    positions = home.json("positions", "--user", "alice")
    return sum((Decimal(p["quantity"]) for p in positions if p["symbol"] == symbol), Decimal(0))


def trades_of(home: Cli, client_order_id: str) -> list[dict[str, Any]]:
    trades = home.json("trades", "--user", "alice")
    return [t for t in trades if t["client_order_id"] == client_order_id]


def ask(minutes: int) -> Decimal:
    return quote_at(0, AAPL, T0 + timedelta(minutes=minutes)).ask


def resting_limit() -> tuple[Decimal, datetime]:
    """A buy limit the ask does not reach in the first hour but does within two days, and the
    first minute it does."""
    limit = min(ask(m) for m in range(60, 2 * 24 * 60))
    assert limit < min(ask(m) for m in range(60)), "pick another T0: the limit would not rest"
    crossing = next(m for m in range(60, 2 * 24 * 60) if ask(m) <= limit)
    return limit, T0 + timedelta(minutes=crossing)


def test_a_limit_order_placed_by_one_command_fills_in_a_later_one_and_is_synced_once(
    home: Cli, clock: FakeClock
) -> None:
    limit, crossing = resting_limit()
    before = holding(home, "AAPL")
    order = place(
        home, "--side", "buy", "--quantity", "10", "--type", "limit", "--price", str(limit)
    )
    assert order["status"] == "open"
    cid = order["client_order_id"]

    clock.set(crossing - timedelta(minutes=1))
    status = home.json("order", "status", cid, "--user", "alice")
    assert status["order"]["status"] == "open"

    clock.set(crossing)
    home.ok("sync", "--user", "alice")  # the venue settles the order, the sync stores its fill
    home.ok("sync", "--user", "alice")
    fills = trades_of(home, cid)
    assert [(f["side"], Decimal(f["quantity"]), Decimal(f["price"])) for f in fills] == [
        ("buy", Decimal(10), limit)
    ]
    assert fills[0]["executed_at"].startswith(crossing.strftime("%Y-%m-%dT%H:%M"))
    assert holding(home, "AAPL") == before + 10
    status = home.json("order", "status", cid, "--user", "alice")
    assert (status["order"]["status"], Decimal(status["order"]["average_fill_price"])) == (
        "filled",
        limit,
    )


def test_a_resting_order_is_cancelled_by_a_later_command(home: Cli, clock: FakeClock) -> None:
    limit = (quote_at(0, AAPL, T0).ask / 2).quantize(Decimal("0.01"))
    cid = place(home, "--side", "buy", "--quantity", "1", "--type", "limit", "--price", str(limit))[
        "client_order_id"
    ]
    clock.advance(timedelta(minutes=5))
    cancelled = home.json("order", "cancel", cid, "--user", "alice")
    assert cancelled["order"]["status"] == "canceled"
    clock.advance(timedelta(minutes=5))
    home.ok("sync", "--user", "alice")
    assert trades_of(home, cid) == []


def test_a_manual_market_order_changes_positions_and_trades(home: Cli, clock: FakeClock) -> None:
    before = holding(home, "AAPL")
    order = place(home, "--side", "buy", "--quantity", "3")
    assert order["status"] == "filled"
    clock.advance(timedelta(minutes=1))
    home.ok("sync", "--user", "alice")
    home.ok("sync", "--user", "alice")
    assert holding(home, "AAPL") == before + 3
    assert [Decimal(t["quantity"]) for t in trades_of(home, order["client_order_id"])] == [
        Decimal(3)
    ]


def test_a_rebalance_in_a_second_command_does_not_trade_the_drift_again(
    home: Cli, clock: FakeClock
) -> None:
    home.ok(
        "strategy", "add", "rebalance", "--name", "half-aapl", "--connection", "p1",
        "--user", "alice", "--param", "targets=AAPL=0.5", "--param", "quantity_step=1",
    )  # fmt: skip
    home.ok("cycle", "--user", "alice")
    first = home.json("order", "list", "--user", "alice")
    assert [o["status"] for o in first] == ["filled"]
    home.ok("sync", "--user", "alice")
    bought = holding(home, "AAPL")
    assert bought > 0

    clock.advance(timedelta(minutes=30))
    home.ok("cycle", "--user", "alice")
    assert home.json("order", "list", "--user", "alice") == first
    assert holding(home, "AAPL") == bought
