"""Developer and CI tasks. ``nox`` runs lint, typecheck and tests; ``nox -s tests -- -k plugin`` passes
arguments through to pytest. CI runs the command written in README.md (see ``.ci/run``)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import nox
from packaging.requirements import Requirement  # nox depends on packaging

nox.needs_version = ">=2024.4"  # for the "uv|virtualenv" backend fallback
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True
# uv when it is on PATH (much faster), plain virtualenv otherwise.
nox.options.default_venv_backend = "uv|virtualenv"

PYTHON = "3.11"
CHECKED = ["src", "tests", "noxfile.py"]
# A sample third-party plugin, installed like a real one so its entry point is discovered.
DUMMY_PLUGIN = "tests/fixtures/tradecore-dummybroker"
# A second sample plugin, built on a vendor SDK (ccxt), installed the same way with its SDK.
CCXT_PLUGIN = "tests/fixtures/tradecore-ccxtbinance"
# The check that no module of src imports itself back through others (run by lint).
NO_IMPORT_CYCLES = "tests/unit/test_no_import_cycles.py"


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff (lint and format), the import-linter contracts in .importlinter, and no import cycle
    anywhere in src (tests/unit/test_no_import_cycles.py, on grimp's import graph)."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", *CHECKED)
    session.run("ruff", "format", "--check", *CHECKED)
    session.run("lint-imports", "--no-logo")
    session.run("pytest", "-q", "-p", "no:cacheprovider", NO_IMPORT_CYCLES)


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src (configured in pyproject.toml)."""
    session.install("-e", ".[dev]")
    session.run("mypy", "src")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite: unit, integration and e2e."""
    session.install("-e", ".[test]")
    # A regular (non-editable) install, reinstalled every run so edits to the fixture count;
    # --no-deps because its only dependency, tradecore, is the editable install above.
    session.install("--no-deps", "--force-reinstall", DUMMY_PLUGIN)
    # The ccxt sample's own dependencies (ccxt, pinned in its pyproject.toml) but tradecore,
    # then the sample itself like the dummy; its tests fail rather than skip when it is missing.
    session.install(*_dependencies(CCXT_PLUGIN, but="tradecore"))
    session.install("--no-deps", "--force-reinstall", CCXT_PLUGIN)
    session.env["TRADECORE_REQUIRE_SAMPLE_PLUGINS"] = "1"

    # The PostgreSQL tests read their server from TRADECORE_TEST_POSTGRES_URL (inherited from
    # the environment; .ci/run sets it) and skip, saying so, when it is not set.
    if not os.environ.get("TRADECORE_TEST_POSTGRES_URL"):
        session.log("TRADECORE_TEST_POSTGRES_URL is not set: the PostgreSQL tests will skip")
    session.run("pytest", *(session.posargs or ["tests"]))


def _dependencies(project: str, *, but: str) -> list[str]:
    """The requirements of ``project``'s pyproject.toml, except the distribution ``but``."""
    with (Path(project) / "pyproject.toml").open("rb") as file:
        requirements = tomllib.load(file)["project"]["dependencies"]
    return [req for req in requirements if Requirement(req).name != but]


# tradecore's one message catalogue (docs/translations.md): the msgids are extracted from src
# (Python, and the web front end's Jinja2 templates, as babel.cfg says) with these keywords.
LOCALE_DIR = "src/tradecore_adapters/locale"
TEMPLATE = f"{LOCALE_DIR}/messages.pot"
EXTRACT_KEYWORDS = ["-k", "phrase", "-k", "NC_:1c,2"]


@nox.session(python=PYTHON)
def i18n(session: nox.Session) -> None:
    """Re-extract the msgids into messages.pot, merge them into every language's messages.po,
    and compile the .mo files. ``nox -s i18n -- init de`` starts a new language instead."""
    session.install("-e", ".[dev]")
    if session.posargs[:1] == ["init"]:
        for language in session.posargs[1:]:
            session.run("pybabel", "init", "-i", TEMPLATE, "-d", LOCALE_DIR, "-l", language)
        return
    session.run(
        "pybabel",
        "extract",
        "-F",
        "babel.cfg",
        *EXTRACT_KEYWORDS,
        "--add-location=file",
        "--sort-output",
        "--project=tradecore",
        "--copyright-holder=tradecore contributors",
        "--msgid-bugs-address=https://github.com/tradecore/tradecore/issues",
        "-o",
        TEMPLATE,
        "src",
    )
    session.run(
        "pybabel",
        "update",
        "-i",
        TEMPLATE,
        "-d",
        LOCALE_DIR,
        "--no-fuzzy-matching",
        "--ignore-obsolete",
    )
    session.run("pybabel", "compile", "-d", LOCALE_DIR, "--statistics")
