"""Every citation in the project can be followed by a reader of the shipped project.

Code, tests and documentation cite the project's own pages (``docs/…``, ``README.md``), or a
broker's public documentation by URL. They never cite a design note that does not ship: a
section sign (``§``, how those notes were cited), ``DESIGN.md``, ``shared/reference/…``, or any
other ``.md`` file that is not in the repository (``reliability.md``, ``rest-api.md``…).

A ``.md`` path is followable when it names a file of the repository, read from the citing
file's folder (a Markdown link's target: ``[cycle.md](../cycle.md)``) or from the repository's
root (``docs/brokers/binance.md``). A ``pathlib`` join such as ``ROOT / "docs" / "library.md"`` is read
as the path it builds. Paths inside URLs are the URL's business and are not checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("src", "tests", "docs", "README.md")
SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".ini"}

_FORBIDDEN = ("§", "DESIGN.md", "shared/reference")
_MARKDOWN_PATH = re.compile(r"[\w./-]*\w\.md\b")
_URL = re.compile(r"https?://\S+")
_PATH_JOIN = re.compile(r"""(["'])\s*/\s*\1""")
_MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]*)\)")


def _ships(path: str, here: Path) -> bool:
    """Whether ``path``, read from ``here`` or from the root, is a file of the repository."""
    for base in (here, ROOT):
        target = (base / path).resolve()
        if not (target.is_relative_to(ROOT) and target.is_file()):
            continue
        if not any(part.startswith(".") for part in target.relative_to(ROOT).parts):
            return True  # not in .venv, .git or another tool's folder
    return False


def unfollowable_citations(text: str, here: Path = ROOT) -> list[str]:
    """What in ``text`` (a line of a file in ``here``) cites something a reader cannot open."""
    found = [f"{token!r}" for token in _FORBIDDEN if token in text]
    text = _PATH_JOIN.sub("/", _URL.sub("", _MARKDOWN_LINK.sub(r"\1", text)))
    found += [
        f"{path!r} (not a file of the project)"
        for path in _MARKDOWN_PATH.findall(text)
        if not _ships(path, here)
    ]
    return found


def _scanned_files() -> list[Path]:
    this = Path(__file__).resolve()
    files: list[Path] = []
    for name in SCANNED:
        top = ROOT / name
        candidates = [top] if top.is_file() else top.rglob("*")
        files += (
            path
            for path in candidates
            if path.is_file()
            and path.suffix in SUFFIXES
            and "__pycache__" not in path.parts
            and path.resolve() != this  # its examples are the citations it forbids
        )
    return sorted(files)


@pytest.mark.parametrize(
    ("text", "here", "expected"),
    [
        (
            '"""One cycle (DESIGN.md §4)."""',
            ROOT / "src",
            ["'§'", "'DESIGN.md'", "'DESIGN.md' (not a file of the project)"],
        ),
        (
            "# see ../shared/reference/saxo.md",
            ROOT,
            ["'shared/reference'", "'../shared/reference/saxo.md' (not a file of the project)"],
        ),
        ("# binance.md §4", ROOT / "tests", ["'§'", "'binance.md' (not a file of the project)"]),
        (
            "(reliability.md, section 2.3)",
            ROOT / "src",
            ["'reliability.md' (not a file of the project)"],
        ),
        (
            "(``rest-api.md``, Request Security)",
            ROOT,
            ["'rest-api.md' (not a file of the project)"],
        ),
        ("see docs/nosuch.md", ROOT / "src", ["'docs/nosuch.md' (not a file of the project)"]),
        (
            "(docs/brokers/saxo.md, https://www.developer.saxo/openapi/learn/reports)",
            ROOT / "src",
            [],
        ),
        ("(https://github.com/binance/binance-spot-api-docs/blob/master/rest-api.md)", ROOT, []),
        ("see [cycle.md](cycle.md#run-status) and README.md", ROOT / "docs", []),
        ("([security.md](../security.md))", ROOT / "docs" / "brokers", []),
        (
            "([security.md](security.md))",
            ROOT / "docs" / "brokers",
            ["'security.md' (not a file of the project)"],
        ),
        ('DOC = ROOT / "docs" / "library.md"', ROOT / "tests" / "e2e", []),
        (
            'DOC = ROOT / "docs" / "nosuch.md"',
            ROOT / "tests",
            ["'docs/nosuch.md' (not a file of the project)"],
        ),
        ('if path.suffix == ".md"', ROOT / "tests", []),
    ],
)
def test_the_scan_finds_each_kind_of_unshipped_citation(
    text: str, here: Path, expected: list[str]
) -> None:
    assert unfollowable_citations(text, here) == expected


def test_code_tests_and_docs_cite_only_shipped_pages_and_public_urls() -> None:
    files = _scanned_files()
    scanned = {path.relative_to(ROOT).parts[0] for path in files}
    assert scanned == set(SCANNED), f"nothing found under {set(SCANNED) - scanned} in {ROOT}"
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {', '.join(found)}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if (found := unfollowable_citations(line, path.parent))
    ]
    assert not hits, "citations a reader cannot follow (cite docs/ or a public URL):\n" + "\n".join(
        hits
    )
