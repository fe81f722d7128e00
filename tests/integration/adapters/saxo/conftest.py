"""Fixtures of the Saxo adapter tests: a fake Saxo on a mock transport, a stored connection that
has logged in, and adapters built the way tradecore builds them (with the token store)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from tests.fakes.saxo_exchange import API_BASE, AUTH_BASE, FakeSaxo

from tradecore.domain import BrokerConnection, OAuthTokens, Secret
from tradecore.ports import BrokerPort, RepositoryPort
from tradecore.services import create_broker
from tradecore.testing import FakeClock
from tradecore.testing.builders import make_connection, make_user
from tradecore_adapters.memory import MemoryRepository
from tradecore_adapters.saxo.plugin import tradecore_register_brokers

ACCOUNT_KEY = "LZTc7DdejXODf-WSl2aCyQ=="
OTHER_ACCOUNT_KEY = "Qm9nLWFjY291bnQ+Lw|2=="
AAPL = 211
EURUSD = 21

BrokerMaker = Callable[..., BrokerPort]


def tokens_from(answer: dict[str, object], now: datetime) -> OAuthTokens:
    """The OAuthTokens a login would store from the fake's token answer."""
    return OAuthTokens(
        access_token=Secret(str(answer["access_token"])),
        refresh_token=Secret(str(answer["refresh_token"])),
        access_expires_at=now + timedelta(seconds=int(str(answer["expires_in"]))),
        refresh_expires_at=now + timedelta(seconds=int(str(answer["refresh_token_expires_in"]))),
    )


def saxo_connection(
    fake: FakeSaxo, user_id: str, *, tokens: OAuthTokens | None, **settings: str
) -> BrokerConnection:
    """A ``saxo`` connection to ``fake`` (SIM), optionally logged in."""
    return make_connection(
        user_id=user_id,
        name="saxo-sim",
        broker="saxo",
        settings={
            "app_key": fake.app_key,
            "auth_base_url": AUTH_BASE,
            "api_base_url": API_BASE,
            **settings,
        },
        secrets={} if fake.app_secret is None else {"app_secret": fake.app_secret},
        tokens=tokens,
    )


@pytest.fixture
def clock() -> FakeClock:
    """Friday 2026-11-20 12:00 UTC; sleeps (backoff, rate limits) take no real time."""
    return FakeClock(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))


@pytest.fixture
def fake(clock: FakeClock) -> FakeSaxo:
    """A fake Saxo with two accounts, two instruments, positions and 30 reported trades."""
    saxo = FakeSaxo(now=clock.now)
    saxo.add_instrument(
        AAPL, "Stock", "AAPL:xnas", "Apple Inc.", "USD", Decimal("189.51"), Decimal("189.53")
    )
    saxo.add_instrument(
        EURUSD,
        "FxSpot",
        "EURUSD",
        "Euro/US Dollar",
        "USD",
        Decimal("1.08214"),
        Decimal("1.08217"),
        tick_size=Decimal("0.00001"),
    )
    main = saxo.add_account(ACCOUNT_KEY, "192134INET", "EUR")
    saxo.add_account(OTHER_ACCOUNT_KEY, "192134USD", "USD")
    main.add_net_position(AAPL, "Stock", Decimal(150), Decimal("172.3456"))
    main.add_net_position(EURUSD, "FxSpot", Decimal(-100000), Decimal("1.09123"))
    main.add_report_trades(AAPL, "Stock", 30, clock.now() - timedelta(days=20))
    return saxo


@pytest.fixture
async def mock_http(fake: FakeSaxo) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client whose every request the fake answers in-process."""
    async with httpx.AsyncClient(transport=fake.mock_transport()) as client:
        yield client


@pytest.fixture
async def repository() -> AsyncIterator[RepositoryPort]:
    store = MemoryRepository()
    yield store
    await store.aclose()


@pytest.fixture
async def connection(
    fake: FakeSaxo, repository: RepositoryPort, clock: FakeClock
) -> BrokerConnection:
    """A stored ``saxo`` connection that has just logged in."""
    user = make_user()
    connection = saxo_connection(
        fake, user.id, tokens=tokens_from(fake.issue_tokens(), clock.now())
    )
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.connections.add(connection)
        await uow.commit()
    return connection


@pytest.fixture
def brokers() -> dict[str, object]:
    """The ``saxo`` factory as the plugin registers it."""
    (factory,) = tradecore_register_brokers()
    return {"saxo": factory}


@pytest.fixture
def make_broker(
    connection: BrokerConnection,
    repository: RepositoryPort,
    clock: FakeClock,
    mock_http: httpx.AsyncClient,
    brokers: dict[str, object],
) -> BrokerMaker:
    """Build the adapter of ``connection`` (or another) as tradecore does, on the mock."""

    def make(target: BrokerConnection | None = None) -> BrokerPort:
        return create_broker(
            target or connection,
            brokers=brokers,  # type: ignore[arg-type]
            repository=repository,
            clock=clock,
            http_client=mock_http,
        )

    return make
