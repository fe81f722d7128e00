"""Saxo allows one order a second per session
(https://www.developer.saxo/openapi/learn/rate-limiting): two adapters of one connection that
share nothing but the database (two engines, as two processes would have) place their orders a
second apart together, and a 429 one of them got pauses the other too."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.fakes.saxo_exchange import FakeSaxo
from tests.integration.adapters.saxo.test_saxo_orders import request

from tradecore.domain import BrokerConnection
from tradecore.ports import BrokerPort, RepositoryPort
from tradecore.services.brokers import create_broker
from tradecore.testing import FakeClock
from tradecore_adapters.saxo._limits import SessionLimits
from tradecore_adapters.sqlalchemy import SqlSharedLimits, create_engine
from tradecore_adapters.sqlalchemy.migrate import upgrade


@pytest.fixture
async def two_limits(tmp_path: Path) -> AsyncIterator[tuple[SqlSharedLimits, SqlSharedLimits]]:
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    await upgrade(url)
    first, second = create_engine(url), create_engine(url)
    try:
        yield SqlSharedLimits(first), SqlSharedLimits(second)
    finally:
        await first.dispose()
        await second.dispose()


async def test_two_adapters_of_one_session_place_orders_a_second_apart(
    fake: FakeSaxo,
    connection: BrokerConnection,
    repository: RepositoryPort,
    clock: FakeClock,
    mock_http: httpx.AsyncClient,
    brokers: dict[str, object],
    two_limits: tuple[SqlSharedLimits, SqlSharedLimits],
) -> None:
    def adapter(limits: SqlSharedLimits) -> BrokerPort:
        return create_broker(
            connection,
            brokers=brokers,  # type: ignore[arg-type]
            repository=repository,
            clock=clock,
            http_client=mock_http,
            limits=limits,
        )

    first, second = adapter(two_limits[0]), adapter(two_limits[1])
    for _ in range(2):  # in turn: only the shared slots space them
        await first.place_order(request(connection, limit="100.00"))
        await second.place_order(request(connection, limit="100.00"))
    assert len(fake.orders) == 4
    times = [r.at for r in fake.requests if r.method == "POST"]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert len(gaps) == 3
    assert min(gaps) >= 1, gaps
    await first.aclose()
    await second.aclose()


async def test_a_429_pauses_the_sessions_group_for_the_other_adapter(
    fake: FakeSaxo,
    connection: BrokerConnection,
    repository: RepositoryPort,
    clock: FakeClock,
    mock_http: httpx.AsyncClient,
    brokers: dict[str, object],
    two_limits: tuple[SqlSharedLimits, SqlSharedLimits],
) -> None:
    first = create_broker(
        connection,
        brokers=brokers,  # type: ignore[arg-type]
        repository=repository,
        clock=clock,
        http_client=mock_http,
        limits=two_limits[0],
    )
    fake.script("GET", "/port/v1/accounts/me", ("rate_limited", 40))
    refused_at = clock.now()
    await first.get_accounts()  # waits out the reset, then succeeds
    pause = await two_limits[1].blocked(f"saxo:pause:{connection.id}:port", now=refused_at)
    assert pause is not None
    assert (pause.until - refused_at).total_seconds() == 40
    session = SessionLimits(two_limits[1], connection.id)
    assert await session.wait_before("port", refused_at) == 40, "the other process waits too"
    assert await session.wait_before("trade", refused_at) == 0, "other groups are not paused"
    await first.aclose()
