"""Logins kept alive between cycles: a Saxo refresh token lives one hour, a user's cycles may be
two hours apart. The schedulers renew a refresh token about to lapse, through the token store
(row lock, rotation saved), so the login survives a slow schedule."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from tradecore.domain import BrokerConnection, OAuthTokens, RunStatus, Secret, User
from tradecore.errors import ReauthorizationRequired
from tradecore.ports import BrokerContext, BrokerFactory
from tradecore.services import (
    AutomationCycle,
    Scheduler,
    change_frequency,
    keep_logins_alive,
    start_automation,
)
from tradecore.testing import FakeBroker, FakeClock
from tradecore_adapters.memory import MemoryRepository

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
ACCESS = timedelta(minutes=20)
REFRESH = timedelta(hours=1)


class AuthServer:
    """Issues tokens with Saxo's documented lifetimes and refuses a lapsed refresh token."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.issued = 0

    def tokens(self) -> OAuthTokens:
        self.issued += 1
        now = self.clock.now()
        return OAuthTokens(
            access_token=Secret(f"access-{self.issued}"),
            refresh_token=Secret(f"refresh-{self.issued}"),
            access_expires_at=now + ACCESS,
            refresh_expires_at=now + REFRESH,
        )

    async def exchange(self, presented: OAuthTokens) -> OAuthTokens:
        if presented.refresh_expires_at is None or self.clock.now() >= presented.refresh_expires_at:
            raise ReauthorizationRequired("invalid_grant: the refresh token has expired")
        return self.tokens()


class World:
    def __init__(self) -> None:
        self.clock = FakeClock(T0)
        self.repository = MemoryRepository(clock=self.clock)
        self.server = AuthServer(self.clock)
        self.user = User(name="alice", created_at=T0)
        self.connection = BrokerConnection(
            user_id=self.user.id,
            broker="oauth",
            name="saxo-like",
            created_at=T0,
            tokens=self.server.tokens(),
        )
        self.venue = FakeBroker(clock=self.clock, connection_id=self.connection.id, name="oauth")

    def factory(self) -> BrokerFactory:
        world = self

        class Adapter:
            def __init__(self, context: BrokerContext) -> None:
                self.context = context

            def __getattr__(self, name: str) -> Any:
                return getattr(world.venue, name)

            async def refresh_auth_token(self) -> OAuthTokens:
                assert self.context.tokens is not None
                return await self.context.tokens.refresh(world.server.exchange, force=True)

            async def aclose(self) -> None:
                return None

        def create(connection: BrokerConnection, context: BrokerContext) -> Any:
            return Adapter(context)

        return BrokerFactory(name="oauth", description="OAuth test broker", create=create)

    async def setup(self) -> None:
        async with self.repository.unit_of_work() as uow:
            await uow.users.add(self.user)
            await uow.connections.add(self.connection)
            await uow.commit()

    async def tokens(self) -> OAuthTokens:
        async with self.repository.unit_of_work() as uow:
            stored = await uow.connections.get(self.user.id, self.connection.id)
        assert stored.tokens is not None
        return stored.tokens


@pytest.fixture
async def world() -> World:
    w = World()
    await w.setup()
    return w


async def test_only_a_refresh_token_about_to_lapse_is_renewed(world: World) -> None:
    brokers = {"oauth": world.factory()}
    assert (
        await keep_logins_alive(repository=world.repository, brokers=brokers, clock=world.clock)
        == []
    )  # 60 min left: nothing to do yet
    world.clock.advance(timedelta(minutes=50))
    (kept,) = await keep_logins_alive(
        repository=world.repository, brokers=brokers, clock=world.clock
    )
    assert kept.error is None
    tokens = await world.tokens()
    assert tokens.version == 1
    assert tokens.refresh_expires_at == world.clock.now() + REFRESH


async def test_a_lapsed_login_is_reported_not_retried(world: World) -> None:
    brokers = {"oauth": world.factory()}
    world.clock.advance(REFRESH + timedelta(minutes=1))
    assert (
        await keep_logins_alive(repository=world.repository, brokers=brokers, clock=world.clock)
        == []
    )  # already lapsed: the next cycle says "log in again"; nothing calls the server
    assert world.server.issued == 1


async def test_the_daemon_keeps_a_one_hour_login_alive_across_two_hour_cycles(world: World) -> None:
    await start_automation(world.repository, world.user.id, default_frequency_minutes=30)
    await change_frequency(world.repository, world.user.id, 120, default_frequency_minutes=30)
    stop = asyncio.Event()
    cycle = AutomationCycle(
        repository=world.repository, clock=world.clock, brokers={"oauth": world.factory()}
    )
    scheduler = Scheduler(
        cycle=cycle, owner="test:1:aa", concurrency=1, idle_check=timedelta(minutes=1)
    )

    async def stop_after_four_runs() -> None:
        while True:
            async with world.repository.unit_of_work() as uow:
                runs = await uow.runs.list(world.user.id)
            if len([r for r in runs if r.finished_at is not None]) >= 4:
                stop.set()
                return
            await asyncio.sleep(0)

    watcher = asyncio.create_task(stop_after_four_runs())
    await scheduler.serve(stop, host="test", pid=1)
    await watcher

    async with world.repository.unit_of_work() as uow:
        runs = await uow.runs.list(world.user.id)
    assert len(runs) == 4
    assert world.clock.now() - T0 >= timedelta(hours=6)
    assert {run.status for run in runs} == {RunStatus.SUCCESS}, [
        step.error for run in runs for step in run.steps if step.error
    ]
    tokens = await world.tokens()
    assert tokens.login_required is None
    assert world.server.issued > 6  # renewed between the cycles, not only at them
