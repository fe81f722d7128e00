"""What a plugin's ``pyproject.toml`` needs, as the guides show it: every ``tradecore``
requirement a page tells a plugin author to write installs (the installed tradecore's version
satisfies it; the broker guide once said ``tradecore>=1.2,<2`` while tradecore was 0.1.0, and the
strategy guide said ``tradecore>=0.1``), and the pytest settings the contract suite needs are
tradecore's own."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ("docs/plugins/writing.md", "docs/strategies/writing.md")

# A quoted requirement on tradecore itself, extras allowed: "tradecore>=0.1,<0.2",
# 'tradecore[testing]>=0.1'. A plugin's own name (tradecore-acme) is not one.
_QUOTED = re.compile(r"""["'](tradecore(?:\[[\w,\s-]+\])?\s*(?:[<>=!~][^"']*)?)["']""")


def pages() -> list[Path]:
    """The pages and sample packages a plugin author copies from."""
    found = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for fixture in sorted((ROOT / "tests" / "fixtures").iterdir()):
        found.extend(sorted(fixture.glob("*.md")))
        found.extend(sorted(fixture.glob("pyproject.toml")))
    return found


def pinned(text: str) -> list[Requirement]:
    """The requirements on tradecore in ``text`` that carry a version specifier."""
    found = []
    for match in _QUOTED.finditer(text):
        try:
            requirement = Requirement(match[1])
        except InvalidRequirement:
            continue
        if requirement.name == "tradecore" and requirement.specifier:
            found.append(requirement)
    return found


def test_the_parser_finds_pins_and_leaves_plugin_names_alone() -> None:
    text = 'x = ["tradecore>=1.2,<2", "tradecore-acme>=1", "tradecore[testing]", "httpx>=0.27"]'

    assert [str(r) for r in pinned(text)] == ["tradecore<2,>=1.2"]


@pytest.mark.parametrize("guide", GUIDES)
def test_each_guide_pins_tradecore_and_both_pin_the_same_range(guide: str) -> None:
    pins = {str(r.specifier) for r in pinned((ROOT / guide).read_text(encoding="utf-8"))}
    other = {
        str(r.specifier)
        for path in GUIDES
        if path != guide
        for r in pinned((ROOT / path).read_text(encoding="utf-8"))
    }

    assert pins, f"{guide} shows no tradecore version pin"
    assert pins == other


@pytest.mark.parametrize("page", pages(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_tradecore_requirement_installs_with_this_version(page: Path) -> None:
    version = Version(importlib.metadata.version("tradecore"))

    refused = [
        str(requirement)
        for requirement in pinned(page.read_text(encoding="utf-8"))
        if not requirement.specifier.contains(version, prereleases=True)
    ]

    assert not refused, f"tradecore {version} does not satisfy {refused}"


@pytest.mark.parametrize("guide", GUIDES)
def test_each_guides_pyproject_has_the_pytest_settings_tradecore_runs_with(guide: str) -> None:
    text = (ROOT / guide).read_text(encoding="utf-8")
    blocks = re.findall(r"^```toml\n(.*?)^```", text, re.M | re.S)
    (pyproject,) = [tomllib.loads(b) for b in blocks if "[project]" in b]
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = ("asyncio_mode", "asyncio_default_fixture_loop_scope")

    settings = pyproject["tool"]["pytest"]["ini_options"]
    own = ours["tool"]["pytest"]["ini_options"]
    assert {k: settings.get(k) for k in wanted} == {k: own[k] for k in wanted}
