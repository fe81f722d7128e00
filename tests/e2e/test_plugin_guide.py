"""docs/plugins/writing.md works when followed literally: the ``tradecore-acme`` package, written
out from the code blocks of the broker guide and its two companion pages (docs/plugins/acme.md:
the complete files; docs/plugins/testing.md: the helpers' examples), installs with pip as a
distribution, and its own tests pass in a pytest run of their own: the contract suite (every
check it has, whatever they are), the guide's discovery test, the recorded-response test and the
fault-injection test.

The package is installed with ``pip install --no-deps --target`` (tradecore and its test
dependencies are this interpreter's), so the build is the guide's own ``[build-system]``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tradecore.testing.contracts.broker import BrokerPortContract

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "plugins" / "writing.md"
EXAMPLE = ROOT / "docs" / "plugins" / "acme.md"
HELPERS = ROOT / "docs" / "plugins" / "testing.md"
INIT = '"""tradecore broker plugin for Acme Bank."""\n'

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
_FILE = re.compile(r"^### `([\w./-]+)`\n+```\w*\n(.*?)^```", re.M | re.S)


def blocks(page: Path) -> list[tuple[str, str]]:
    """Every fenced code block of ``page``: (language, text)."""
    return [(m[1], m[2]) for m in _FENCE.finditer(page.read_text(encoding="utf-8"))]


def block_with(page: Path, language: str, *markers: str) -> str:
    """The one ``language`` block of ``page`` holding every marker."""
    found = [
        text
        for lang, text in blocks(page)
        if lang == language and all(marker in text for marker in markers)
    ]
    assert len(found) == 1, f"{page.name}: {len(found)} {language} blocks hold {markers}"
    return found[0]


def files_under_headings(page: Path) -> dict[str, str]:
    """The blocks right under a ``### `path``` heading of ``page``, by path."""
    return {m[1]: m[2] for m in _FILE.finditer(page.read_text(encoding="utf-8"))}


def package_files() -> dict[str, str]:
    """Every file of the guide's package, by path inside the package."""
    files = {
        "pyproject.toml": block_with(GUIDE, "toml", 'name = "tradecore-acme"'),
        "src/tradecore_acme/__init__.py": INIT,
        "src/tradecore_acme/plugin.py": block_with(
            GUIDE, "python", "def tradecore_register_brokers", "from tradecore_acme"
        ),
        "tests/test_contract.py": block_with(
            GUIDE, "python", "class TestAcmeBroker(BrokerPortContract)"
        ),
        "tests/test_discovery.py": block_with(GUIDE, "python", "def test_acme_is_discovered"),
    }
    for page in (EXAMPLE, HELPERS):
        for path, text in files_under_headings(page).items():
            assert path not in files, f"{path} is written out twice"
            files[path] = text
    return files


def test_the_pages_write_out_every_file_the_example_lists() -> None:
    files = package_files()

    assert set(files) == {
        "pyproject.toml",
        "src/tradecore_acme/__init__.py",
        "src/tradecore_acme/plugin.py",
        "src/tradecore_acme/config.py",
        "src/tradecore_acme/_client.py",
        "src/tradecore_acme/broker.py",
        "tests/fake_acme.py",
        "tests/test_contract.py",
        "tests/test_discovery.py",
        "tests/test_recorded.py",
        "tests/responses/prices.json",
        "tests/test_lost_answer.py",
    }
    layout = block_with(EXAMPLE, "", "src/tradecore_acme/broker.py")
    assert {line.split()[0] for line in layout.splitlines() if line.strip()} == set(files)
    pyproject = tomllib.loads(files["pyproject.toml"])
    assert pyproject["project"]["entry-points"]["tradecore.plugins"] == {
        "acme": "tradecore_acme.plugin"
    }


def test_the_guides_package_installs_and_passes_its_own_tests(tmp_path: Path) -> None:
    package, site = tmp_path / "tradecore-acme", tmp_path / "site"
    for path, text in package_files().items():
        target = package / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), "."],
        cwd=package,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    assert (site / "tradecore_acme" / "broker.py").is_file()

    report = tmp_path / "report.xml"
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("PYTEST_ADDOPTS", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
            f"--junitxml={report}",
            "tests",
        ],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    outcomes = _outcomes(report)
    contract = {name for name in dir(BrokerPortContract) if name.startswith("test_")}
    ran = {name.partition("[")[0] for (cls, name) in outcomes if cls.endswith("TestAcmeBroker")}
    assert ran == contract, "the contract suite did not run in full on the guide's broker"
    assert ("tests.test_discovery", "test_acme_is_discovered") in outcomes
    assert outcomes[("tests.test_discovery", "test_acme_is_discovered")] == "passed"
    for module in ("tests.test_recorded", "tests.test_lost_answer"):
        assert {outcome for (cls, _), outcome in outcomes.items() if cls == module} == {"passed"}


def _outcomes(report: Path) -> dict[tuple[str, str], str]:
    """(classname, test name) -> passed, skipped, failed or error, from a JUnit XML report."""
    found = {}
    for case in ElementTree.parse(report).iter("testcase"):
        kinds = {child.tag for child in case}
        outcome = next((k for k in ("failure", "error", "skipped") if k in kinds), "passed")
        found[(case.get("classname", ""), case.get("name", ""))] = outcome
    return found


@pytest.mark.parametrize("page", [GUIDE, EXAMPLE, HELPERS], ids=lambda page: page.name)
def test_the_python_blocks_of_the_pages_compile(page: Path) -> None:
    for language, text in blocks(page):
        if language == "python":
            compile(text, f"{page.name} block", "exec")
