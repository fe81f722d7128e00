"""Fixtures shared by every test directory. PostgreSQL comes from ``TRADECORE_TEST_POSTGRES_URL``:

Without the variable, PostgreSQL tests skip with a reason saying so. With it, an unreachable
server fails them (CI sets it, and a silent skip there would hide a broken backend). Each test
that asks for a database gets a new, empty one, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

POSTGRES_URL_VARIABLE = "TRADECORE_TEST_POSTGRES_URL"


def postgres_server_url() -> str:
    """The server URL from the environment; skips the test when it is not set."""
    raw = os.environ.get(POSTGRES_URL_VARIABLE, "").strip()
    if not raw:
        pytest.skip(
            f"{POSTGRES_URL_VARIABLE} is not set, so the PostgreSQL tests are skipped "
            "(set it to e.g. postgresql://127.0.0.1:5432/test)"
        )
    return raw


def _libpq(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Create an empty database on the server, yield its SQLAlchemy URL, drop it afterwards."""
    name = f"tradecore_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(_libpq(server_url), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"{POSTGRES_URL_VARIABLE} is set but PostgreSQL is unreachable: {exc}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield _libpq(server_url, name)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(autouse=True)
def _private_data_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No test may touch the real user data directory (platformdirs reads XDG_DATA_HOME), nor
    # pick up a developer's own TRADECORE_* settings.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    for name in ("TRADECORE_HOME", "TRADECORE_DATABASE_URL", "TRADECORE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _fresh_process_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test is its own process as far as tokens held for the database go: the builders
    # reuse connection ids, and one test's spent or unsaved tokens must not reach the next.
    from tradecore.services import unsaved_tokens

    monkeypatch.setattr(unsaved_tokens, "_PROCESS", unsaved_tokens.UnsavedTokens())


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database (skips without ``TRADECORE_TEST_POSTGRES_URL``)."""
    with fresh_database(postgres_server_url()) as url:
        yield url
