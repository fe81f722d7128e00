"""Fixtures the SQL repository tests share: a migrated database on each backend, and a
repository opened on it the way the application opens one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy import SqlRepository
from tradecore_adapters.sqlalchemy.migrate import upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
async def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at the newest migration: a SQLite file, or the test PostgreSQL server (the
    PostgreSQL case skips, saying so, when TRADECORE_TEST_POSTGRES_URL is not set)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tradecore.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    await upgrade(url)
    return url


@pytest.fixture
async def repository(migrated_url: str) -> AsyncIterator[SqlRepository]:
    """A repository on ``migrated_url`` with a fresh key, closed afterwards."""
    repository = await SqlRepository.open(
        migrated_url, key_ring=KeyRing.from_keys([KeyRing.generate_key()])
    )
    yield repository
    await repository.aclose()
