"""The shared-limits contract on memory, SQLite and PostgreSQL. The database stores get a second
engine on the same database for ``second``: another process's view of the same rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tradecore.testing.contracts import SharedLimitsContract
from tradecore_adapters.shared_limits import LocalLimits
from tradecore_adapters.sqlalchemy import SqlSharedLimits, create_engine
from tradecore_adapters.sqlalchemy.migrate import upgrade


class TestLocalLimits(SharedLimitsContract):
    @pytest.fixture
    def limits(self) -> LocalLimits:
        return LocalLimits()

    @pytest.fixture
    def second(self, limits: LocalLimits) -> LocalLimits:
        return limits


@pytest.fixture
async def two_engines(url: str) -> AsyncIterator[tuple[SqlSharedLimits, SqlSharedLimits]]:
    await upgrade(url)
    first, second = create_engine(url), create_engine(url)
    try:
        yield SqlSharedLimits(first), SqlSharedLimits(second)
    finally:
        await first.dispose()
        await second.dispose()


class _SqlContract(SharedLimitsContract):
    @pytest.fixture
    def limits(self, two_engines: tuple[SqlSharedLimits, SqlSharedLimits]) -> SqlSharedLimits:
        return two_engines[0]

    @pytest.fixture
    def second(self, two_engines: tuple[SqlSharedLimits, SqlSharedLimits]) -> SqlSharedLimits:
        return two_engines[1]


class TestSqliteLimits(_SqlContract):
    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'limits.db'}"


class TestPostgresLimits(_SqlContract):
    @pytest.fixture
    def url(self, postgres_url: str) -> str:
        return postgres_url
