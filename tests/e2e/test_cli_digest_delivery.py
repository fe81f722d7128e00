"""A digest its cycle could not send (the scheduler lost the cycle's lease after storing the
finished run) shows as not sent in ``automation status`` and ``automation logs``, and the next
cycle of the user sends it once, before its own (SQLite, through the command line)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.cli_runner import Cli


def _left_pending(home: Path, run_id: str) -> None:
    # What a scheduler that lost its lease right after storing the run leaves: the run finished,
    # its digest pending and claimed by that lease (token 1), no notify step.
    with sqlite3.connect(home / "tradecore.db") as db:
        db.execute("DELETE FROM run_steps WHERE run_id = ? AND kind = 'notify'", (run_id,))
        db.execute(
            "UPDATE automation_runs SET digest = 'pending', digest_claim = 1 WHERE id = ?",
            (run_id,),
        )


def test_a_digest_left_pending_is_shown_and_sent_once_by_the_next_cycle(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cli = Cli({"TRADECORE_HOME": str(home)})
    cli.ok("init")
    cli.ok("user", "add", "alice")
    cli.ok("broker", "add", "paper", "--name", "p1", "--user", "alice")
    cli.ok("cycle", "--user", "alice")
    (first,) = cli.json("automation", "logs", "--user", "alice")
    assert first["digest"] == "delivered"
    _left_pending(home, first["id"])

    status = cli.ok("automation", "status", "--user", "alice")
    assert "last digest:   digest not sent to every target yet" in status
    assert cli.json("automation", "status", "--user", "alice")["last_run"]["digest"] == "pending"
    assert "the next cycle sends it" in cli.ok("automation", "logs", "--user", "alice")

    out = cli.ok("cycle", "--user", "alice")
    assert out.count(f"run {first['id'][:8]}") == 1, "the late digest, once"
    runs = {run["id"]: run for run in cli.json("automation", "logs", "--user", "alice")}
    assert len(runs) == 2
    late = runs[first["id"]]
    assert late["digest"] == "delivered"
    assert [(s["kind"], s["subject"]) for s in late["steps"]] == [
        ("sync", "p1"),
        ("notify", "console"),
    ]
    assert all(run["digest"] == "delivered" for run in runs.values())

    again = cli.ok("cycle", "--user", "alice")
    assert f"run {first['id'][:8]}" not in again
    assert "last digest" not in cli.ok("automation", "status", "--user", "alice")
