"""Every way ``init``, the data directory and the database can fail gives one sentence and an exit
status, never a traceback, and leaves nothing behind; ``demo`` refuses a bad seed before it
stores anything. The paths are chosen to fail as root too (a regular file where a directory
must be), since permissions do not stop root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tradecore_cli.main import cli


def run(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    environ = {"TRADECORE_HOME": str(home), **(env or {})}
    return CliRunner().invoke(cli, list(args), obj={"environ": environ}, catch_exceptions=False)


def one_sentence(result: Result, status: int, *phrases: str) -> None:
    assert result.exit_code == status, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    for phrase in phrases:
        assert phrase in lines[0]


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a directory\n")
    return path


def test_a_home_whose_parent_is_a_file_is_one_sentence(a_file: Path) -> None:
    home = a_file / "home"
    one_sentence(run(home, "init"), 2, "cannot create the data directory", str(home))


def test_a_home_that_cannot_be_created_fails_through_the_installed_script(a_file: Path) -> None:
    env = {**os.environ, "TRADECORE_HOME": str(a_file / "deeper" / "home")}
    env.pop("TRADECORE_DATABASE_URL", None)
    env.pop("TRADECORE_SECRET_KEY", None)
    script = Path(sys.executable).with_name("tradecore")
    done = subprocess.run([str(script), "init"], env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Error: cannot create the data directory {a_file / 'deeper' / 'home'} "
        "(TRADECORE_HOME): Not a directory"
    ]


def test_a_database_folder_that_is_a_file_is_one_sentence(tmp_path: Path, a_file: Path) -> None:
    home = tmp_path / "home"
    url = f"sqlite:///{a_file / 'tradecore.db'}"
    result = run(home, "init", env={"TRADECORE_DATABASE_URL": url})
    one_sentence(result, 1, "cannot connect to the database", "does not exist")
    result = run(home, "db", "upgrade", env={"TRADECORE_DATABASE_URL": url})
    one_sentence(result, 1, "cannot connect to the database")


def test_a_file_that_is_not_a_database_is_one_sentence(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not SQLite" * 100)
    result = run(tmp_path / "home", "init", env={"TRADECORE_DATABASE_URL": f"sqlite:///{junk}"})
    one_sentence(result, 1, "file is not a database")
    assert junk.read_bytes() == b"this is not SQLite" * 100


@pytest.mark.parametrize(
    ("url", "status", "phrase"),
    [
        ("postgresql://127.0.0.1:1/tradecore", 1, "cannot connect to the database"),
        ("mysql://localhost/tradecore", 2, "tradecore runs on SQLite or PostgreSQL"),
        ("::::", 2, "the database URL is not valid"),
        ("sqlite://", 2, "in-memory SQLite database"),
    ],
)
def test_a_database_url_that_cannot_be_opened_is_one_sentence(
    tmp_path: Path, url: str, status: int, phrase: str
) -> None:
    result = run(tmp_path / "home", "init", env={"TRADECORE_DATABASE_URL": url})
    one_sentence(result, status, phrase)


def test_a_key_file_that_is_a_directory_is_one_sentence(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "secret.key").mkdir(parents=True)
    one_sentence(run(home, "init"), 2, "is not a regular file")
    assert not (home / "tradecore.db").exists()


@pytest.mark.parametrize("seed", ["abc", "1.5", "-1", ""])
def test_demo_refuses_a_bad_seed_before_storing_anything(tmp_path: Path, seed: str) -> None:
    home = tmp_path / "home"
    result = run(home, "demo", "--seed", seed)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "--seed" in result.output
    assert not home.exists()  # no demo home, no database, no connection


def test_demo_takes_a_whole_number_seed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = run(home, "demo", "--seed", "7")
    assert result.exit_code == 0, result.output
    assert (home / "demo" / "tradecore.db").exists()
