"""``tradecore trades --page-size N [--cursor C]``: a page at a time, newest first, the next
page's cursor printed, a damaged cursor or a bad size refused in one ``Error:`` line."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.cli_runner import Cli, error_line


@pytest.fixture
def alice(tmp_path: Path) -> Cli:
    """Alice with one synced paper connection ``p1``."""
    tradecore = Cli({"TRADECORE_HOME": str(tmp_path / "home")})
    tradecore.ok("init")
    tradecore.ok("user", "add", "alice")
    tradecore.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    tradecore.ok("sync", "--user", "alice")
    return tradecore


def test_pages_follow_their_cursors_to_the_oldest_trade(alice: Cli) -> None:
    everything = alice.json("trades", "--user", "alice")
    assert len(everything) > 4
    pages, cursor = [], None
    while True:
        more = ("--cursor", cursor) if cursor else ()
        page = alice.json("trades", "--user", "alice", "--page-size", "4", *more)
        pages.append(page["trades"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 50
    newest_first = [trade for page in pages for trade in page]
    assert newest_first == everything[::-1]
    assert all(len(page) == 4 for page in pages[:-1])

    table = alice.ok("trades", "--user", "alice", "--page-size", "2")
    assert "Trades of alice" in table
    assert "2 trade(s), newest first." in table
    assert "Older trades: the same command with --cursor " in table


def test_a_bad_cursor_or_page_size_is_one_error_line(alice: Cli) -> None:
    damaged = error_line(alice("trades", "--user", "alice", "--cursor", "not-a-cursor"))
    assert "the page cursor is not valid" in damaged
    too_big = error_line(alice("trades", "--user", "alice", "--page-size", "501"))
    assert "a page holds 1 to 500 rows, got 501" in too_big
    mixed = error_line(alice("trades", "--user", "alice", "--page-size", "5", "--limit", "5"))
    assert "--limit does not go with --page-size or --cursor" in mixed
