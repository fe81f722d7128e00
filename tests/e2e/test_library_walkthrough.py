"""docs/library.md's walk-through, run as it is written: Python code opens the same application
as the command line, from the same environment, and the command line then sees what it did."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

LIBRARY_DOC = Path(__file__).parents[2] / "docs" / "library.md"
MARKED = re.compile(r"<!-- walkthrough -->\s*```python\n(.*?)```\s*<!-- /walkthrough -->", re.S)


def walkthrough() -> str:
    found = MARKED.search(LIBRARY_DOC.read_text(encoding="utf-8"))
    assert found is not None, "docs/library.md lost its walk-through markers"
    return found.group(1)


def run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    environ = {"TRADECORE_HOME": str(home), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        args, capture_output=True, text=True, env=environ, timeout=300, check=False
    )


def test_the_walkthrough_runs_as_written_and_the_cli_sees_its_work(tmp_path: Path) -> None:
    script = tmp_path / "walkthrough.py"
    script.write_text(walkthrough(), encoding="utf-8")
    home = tmp_path / "home"

    done = run([sys.executable, str(script)], home)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()  # the console digest first, then what the script prints
    assert any(line.startswith("success 0:") for line in lines)
    assert any(re.match(r"\s+sync\s+p1\s+success", line) for line in lines)
    assert any(re.match(r"\s+strategy\s+btc-weekly\s+success", line) for line in lines)
    assert "1 order(s)" in lines
    assert lines[-1] == "alice has no broker connection named 'someone-elses'"

    tradecore = Path(sys.executable).with_name("tradecore")
    listed = run([str(tradecore), "order", "list", "--user", "alice", "--json"], home)
    assert listed.returncode == 0, listed.stderr
    [order] = json.loads(listed.stdout)
    assert order["symbol"] == "BTC-USD"
    assert order["status"] == "filled"
