"""The Saxo adapter on Saxo's own documented exchanges, replayed with tradecore's
:func:`~tradecore.testing.replay_recorded_responses` (the helper plugin authors use, proved here
on our own adapter).

The recording, ``responses/documented.json``, holds the samples of Saxo's OpenAPI documentation
(https://www.developer.saxo/openapi/referencedocs and
https://www.developer.saxo/openapi/learn/order-placement; the file says which are verbatim);
every exchange in it must be used, and any other request fails the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tradecore.domain import (
    Instrument,
    OAuthTokens,
    OrderRequest,
    OrderStatus,
    OrderType,
    Secret,
    Side,
)
from tradecore.errors import OrderRejected
from tradecore.ports import BrokerPort
from tradecore.services import create_broker
from tradecore.testing import (
    FakeClock,
    RecordedResponses,
    UnexpectedRequest,
    replay_recorded_responses,
)
from tradecore.testing.builders import make_connection, make_user
from tradecore_adapters.memory import MemoryRepository
from tradecore_adapters.saxo.plugin import tradecore_register_brokers

RECORDING = Path(__file__).parent / "responses" / "documented.json"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ACCOUNT_KEY = "LZTc7DdejXODf-WSl2aCyQ=="
AAPL = Instrument(symbol="AAPL:xnas", asset_type="stock")


@pytest.fixture
def replay() -> RecordedResponses:
    return replay_recorded_responses(RECORDING)


@pytest.fixture
async def broker(replay: RecordedResponses) -> AsyncIterator[BrokerPort]:
    """The adapter as tradecore builds it, for a SIM connection that has logged in."""
    user = make_user()
    connection = make_connection(
        user_id=user.id,
        broker="saxo",
        name="saxo-sim",
        settings={"app_key": "0123456789abcdef0123456789abcdef"},
        tokens=OAuthTokens(
            access_token=Secret("access-token"),
            refresh_token=Secret("refresh-token"),
            access_expires_at=NOW + timedelta(minutes=20),
            refresh_expires_at=NOW + timedelta(hours=1),
        ),
    )
    repository = MemoryRepository()
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.connections.add(connection)
        await uow.commit()
    (factory,) = tradecore_register_brokers()
    async with httpx.AsyncClient(transport=replay.transport()) as http:
        made = create_broker(
            connection,
            brokers={"saxo": factory},
            repository=repository,
            clock=FakeClock(NOW),
            http_client=http,
        )
        yield made
        await made.aclose()
    await repository.aclose()


def _buy(client_order_id: str) -> OrderRequest:
    return OrderRequest(
        connection_id="conn",
        account_id=ACCOUNT_KEY,
        client_order_id=client_order_id,
        instrument=AAPL,
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal("100"),
    )


async def test_the_documented_exchanges_give_the_accounts_and_place_then_refuse_an_order(
    broker: BrokerPort, replay: RecordedResponses
) -> None:
    (account,) = await broker.get_accounts()
    placed = await broker.place_order(_buy("My-Unique-Order-ID"))
    with pytest.raises(OrderRejected, match="ToOpenClose must be set") as refused:
        await broker.place_order(_buy("refused-order"))

    assert (account.account_id, account.name, account.currency) == (
        ACCOUNT_KEY,
        "192134INET",
        "EUR",
    )
    assert (placed.status, placed.broker_order_id) == (OrderStatus.OPEN, "5002749333")
    assert placed.client_order_id == "My-Unique-Order-ID"
    assert refused.value.code == "InvalidModelState"
    replay.assert_all_used()


async def test_a_request_the_recording_does_not_hold_fails_loudly(
    broker: BrokerPort, replay: RecordedResponses
) -> None:
    with pytest.raises(UnexpectedRequest) as raised:
        await broker.authenticate()

    assert "GET gateway.saxobank.com/sim/openapi/port/v1/users/me" in str(raised.value)
    assert replay.unexpected == ["GET gateway.saxobank.com/sim/openapi/port/v1/users/me"]
    with pytest.raises(AssertionError, match="never requested: #1 GET"):
        replay.assert_all_used()
