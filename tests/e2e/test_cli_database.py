"""``tradecore init``, ``db`` and ``secrets`` as a user runs them, and the database errors every
command reports in one sentence: a malformed URL, an unreachable server, a stale schema, a
missing or loose key file, a wrong key."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradecore.testing.builders import make_connection, make_user
from tradecore_adapters.encryption import KeyRing, read_key_file
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.migrate import downgrade, head_revision
from tradecore_cli.main import cli

CANARY = "dummy-canary-7c1e44-token"


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), obj={"environ": env})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def one_sentence_error(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return {"TRADECORE_HOME": str(home)}


def database_of(home: Path) -> str:
    return f"sqlite:///{home / 'tradecore.db'}"


async def store_secret_connection(url: str, key_ring: KeyRing) -> None:
    repository = await SqlRepository.open(url, key_ring=key_ring)
    user = make_user(name="alice")
    try:
        async with repository.unit_of_work() as uow:
            await uow.users.add(user)
            await uow.connections.add(
                make_connection(
                    user_id=user.id, name="d1", broker="dummy", secrets={"api_token": CANARY}
                )
            )
            await uow.commit()
    finally:
        await repository.aclose()


async def read_token(url: str, key_ring: KeyRing) -> str:
    repository = await SqlRepository.open(url, key_ring=key_ring)
    try:
        async with repository.unit_of_work() as uow:
            user = await uow.users.get_by_name("alice")
            connection = await uow.connections.get_by_name(user.id, "d1")
            return connection.secrets["api_token"].reveal()
    finally:
        await repository.aclose()


def test_init_creates_a_private_home_key_and_database_and_is_safe_to_repeat(
    home: Path, env: dict[str, str]
) -> None:
    code, out, err = run(env, "init")
    assert code == 0, err
    key_file = home / "secret.key"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert f"migrated from empty to {head_revision()}" in out
    key = read_key_file(key_file)
    code, out, _ = run(env, "init")
    assert code == 0
    assert "(kept)" in out
    assert "already at revision" in out
    assert read_key_file(key_file) == key  # never overwritten
    code, out, _ = run(env, "db", "current")
    assert code == 0
    assert "(the newest)" in out


def test_with_the_key_in_the_environment_init_writes_no_key_file(home: Path) -> None:
    env = {"TRADECORE_HOME": str(home), "TRADECORE_SECRET_KEY": KeyRing.generate_key()}
    code, out, err = run(env, "init")
    assert code == 0, err
    assert "from TRADECORE_SECRET_KEY" in out
    assert not (home / "secret.key").exists()
    assert env["TRADECORE_SECRET_KEY"] not in out + err


def test_a_key_file_readable_by_others_is_refused(home: Path, env: dict[str, str]) -> None:
    assert run(env, "init")[0] == 0
    (home / "secret.key").chmod(0o644)
    code, out, err = run(env, "secrets", "rotate")
    assert code == 2
    message = one_sentence_error(err)
    assert "0644" in message
    assert "chmod 600" in message
    assert out == ""


def test_without_init_a_command_says_to_run_it(env: dict[str, str]) -> None:
    code, _, err = run(env, "secrets", "rotate")
    assert code == 2
    assert "tradecore init" in one_sentence_error(err)


def test_a_malformed_database_url_is_one_sentence(env: dict[str, str]) -> None:
    code, _out, err = run({**env, "TRADECORE_DATABASE_URL": "not a url at all"}, "db", "current")
    assert code == 2
    assert "TRADECORE_DATABASE_URL" in one_sentence_error(err)
    code, _, err = run({**env, "TRADECORE_DATABASE_URL": "mysql://db/x"}, "db", "current")
    assert code == 2
    assert "SQLite or PostgreSQL" in one_sentence_error(err)


def test_an_unreachable_postgresql_is_one_sentence_without_the_password(
    env: dict[str, str],
) -> None:
    url = "postgresql://trader:canary-pass-91@127.0.0.1:1/tradecore"
    code, out, err = run({**env, "TRADECORE_DATABASE_URL": url}, "db", "current")
    assert code == 1
    message = one_sentence_error(err)
    assert (
        "cannot connect to the database at postgresql+psycopg://trader:***@127.0.0.1:1" in message
    )
    assert "canary-pass-91" not in out + err


def test_a_database_at_an_older_revision_is_refused_until_upgraded(
    home: Path, env: dict[str, str]
) -> None:
    assert run(env, "init")[0] == 0
    asyncio.run(downgrade(database_of(home), "base"))
    code, _, err = run(env, "secrets", "rotate")
    assert code == 2
    assert "has no tradecore tables yet" in one_sentence_error(err)
    code, out, _ = run(env, "db", "current")
    assert code == 1
    assert "tradecore init" in out
    code, out, err = run(env, "db", "upgrade")
    assert code == 0, err
    assert f"to {head_revision()}" in out
    assert run(env, "secrets", "rotate")[0] == 0


def test_rotation_from_the_cli_then_dropping_the_old_key(home: Path, env: dict[str, str]) -> None:
    assert run(env, "init")[0] == 0
    (old,) = read_key_file(home / "secret.key")
    url = database_of(home)
    asyncio.run(store_secret_connection(url, KeyRing.from_keys([old])))
    new = KeyRing.generate_key()
    code, out, err = run({**env, "TRADECORE_SECRET_KEY": f"{new},{old}"}, "secrets", "rotate")
    assert code == 0, err
    assert "Re-encrypted 1 connection(s)" in out
    code, out, _ = run({**env, "TRADECORE_SECRET_KEY": f"{new},{old}"}, "secrets", "rotate")
    assert code == 0
    assert "Re-encrypted 0 connection(s)" in out
    assert asyncio.run(read_token(url, KeyRing.from_keys([new]))) == CANARY
    for text in (out, err):
        assert new not in text
        assert old not in text
        assert CANARY not in text


def test_a_wrong_key_names_the_connection_in_one_sentence(home: Path, env: dict[str, str]) -> None:
    assert run(env, "init")[0] == 0
    (key,) = read_key_file(home / "secret.key")
    asyncio.run(store_secret_connection(database_of(home), KeyRing.from_keys([key])))
    wrong = KeyRing.generate_key()
    code, _out, err = run({**env, "TRADECORE_SECRET_KEY": wrong}, "secrets", "rotate")
    assert code == 1
    message = one_sentence_error(err)
    assert "connection 'd1'" in message
    assert wrong not in message
    assert key not in message
    assert CANARY not in message
    # Nothing was overwritten: the right key still reads it.
    assert asyncio.run(read_token(database_of(home), KeyRing.from_keys([key]))) == CANARY


def test_traceback_shows_the_full_error_when_asked(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["--traceback", "secrets", "rotate"], obj={"environ": env})
    assert result.exit_code != 0
    assert result.exception is not None
    assert not isinstance(result.exception, SystemExit)
    assert "tradecore init" in str(result.exception)
