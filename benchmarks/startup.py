"""Benchmark: how fast the command line starts, beside ``python -c pass`` in the same run.

Runs, as fresh processes, ``python -c pass`` (the reference: the interpreter alone),
``tradecore --version``, ``tradecore --help`` and ``tradecore automation status`` (against a fresh
SQLite home made with ``tradecore init`` and ``tradecore user add``), in alternating rounds so every
command sees the same machine load, and reports for each the median and the spread (min-max) of
its wall time and of its peak RSS, with the difference to the reference. Each child's peak RSS is
its own, read by GNU ``time`` (``/usr/bin/time``; ``RUSAGE_CHILDREN`` would be cumulative).

    python benchmarks/startup.py                      # the tradecore next to this interpreter
    python benchmarks/startup.py --rounds 30
    python benchmarks/startup.py --tradecore main=/elsewhere/.venv/bin/tradecore \\
        --tradecore this=.venv/bin/tradecore           # two installations side by side

Aim (issue 20): ``tradecore --help`` within 0.15 s of ``python -c pass``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = (("--version",), ("--help",), ("automation", "status"))
TIME = shutil.which("time", path="/usr/bin:/bin")
"""GNU time, to read each command's own peak RSS (see :func:`run_once`)."""


def clean_environ(home: Path) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("TRADECORE_")}
    environ.pop("PYTHONPROFILEIMPORTTIME", None)
    environ["TRADECORE_HOME"] = str(home)
    return environ


def prepare_home(tradecore: str, home: Path) -> None:
    """A fresh SQLite home with its key, the database at head and one user (not measured)."""
    environ = clean_environ(home)
    for args in (("init",), ("user", "add", "bench")):
        subprocess.run(
            [tradecore, *args], env=environ, check=True, stdout=subprocess.DEVNULL, timeout=120
        )


def run_once(argv: list[str], environ: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh process running ``argv``.

    The process is started by GNU time, which is small: a child forked straight from this
    Python process would report at least this process's own peak RSS (Linux keeps the larger of
    the two across ``exec``), hiding the reference's few megabytes.
    """
    with tempfile.NamedTemporaryFile(mode="r", suffix=".rss") as rss_file:
        command = [TIME, "-f", "%M", "-o", rss_file.name, *argv] if TIME else argv
        started = time.perf_counter()
        child = subprocess.Popen(
            command, env=environ, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited with {child.returncode}")
        peak_kib = int(rss_file.read().strip()) if TIME else usage.ru_maxrss
    return elapsed, peak_kib / 1024


def measure(
    cases: list[tuple[str, list[str], dict[str, str]]], rounds: int
) -> dict[str, dict[str, list[float]]]:
    figures: dict[str, dict[str, list[float]]] = {
        label: {"wall": [], "rss": []} for label, _, _ in cases
    }
    for round_number in range(rounds):
        # Alternate the order each round so no command always follows the same one.
        ordered = cases[round_number % len(cases) :] + cases[: round_number % len(cases)]
        for label, argv, environ in ordered:
            wall, rss = run_once(argv, environ)
            figures[label]["wall"].append(wall)
            figures[label]["rss"].append(rss)
    return figures


def parse_installations(values: list[str]) -> list[tuple[str, str]]:
    if not values:
        script = Path(sys.executable).with_name("tradecore")
        if not script.exists():
            raise SystemExit(f"no tradecore next to {sys.executable}; pass --tradecore")
        return [("tradecore", str(script))]
    installations = []
    for value in values:
        name, _, path = value.rpartition("=")
        installations.append((name or path, str(Path(path).absolute())))
    return installations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--tradecore",
        action="append",
        default=[],
        metavar="[NAME=]PATH",
        help="a tradecore console script to measure (repeat to compare installations)",
    )
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    options = parser.parse_args()
    installations = parse_installations(options.tradecore)

    with tempfile.TemporaryDirectory(prefix="tradecore-startup-") as directory:
        base = clean_environ(Path(directory))
        cases = [("python -c pass", [sys.executable, "-c", "pass"], base)]
        for name, script in installations:
            home = Path(directory) / name
            home.mkdir()
            prepare_home(script, home)
            environ = clean_environ(home)
            for args in COMMANDS:
                label = f"{name} {' '.join(args)}" if len(installations) > 1 else " ".join(args)
                cases.append((label, [script, *args], environ))
        for _, argv, environ in cases:  # warm the file cache once, not measured
            run_once(argv, environ)
        figures = measure(cases, options.rounds)

    if options.json:
        print(json.dumps(figures, indent=2))
        return
    reference = statistics.median(figures["python -c pass"]["wall"])
    reference_rss = statistics.median(figures["python -c pass"]["rss"])
    print(f"{options.rounds} rounds, Python {sys.version.split()[0]}, medians (min-max)")
    if TIME is None:
        print("no /usr/bin/time: each peak RSS is at least this script's own")
    print(
        f"{'command':<34} {'wall s':>7} {'(spread)':>15} {'Δ ref s':>8} {'RSS MB':>7} {'(spread)':>13} {'Δ ref MB':>8}"
    )
    for label, values in figures.items():
        wall, rss = values["wall"], values["rss"]
        print(
            f"{label:<34} {statistics.median(wall):7.3f} "
            f"{f'({min(wall):.3f}-{max(wall):.3f})':>15} "
            f"{statistics.median(wall) - reference:+8.3f} {statistics.median(rss):7.1f} "
            f"{f'({min(rss):.0f}-{max(rss):.0f})':>13} "
            f"{statistics.median(rss) - reference_rss:+8.1f}"
        )


if __name__ == "__main__":
    main()
