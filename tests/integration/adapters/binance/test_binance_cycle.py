"""Binance connections inside a whole automation cycle: a broken one fails alone, the digest
carries the API figures, and no secret or signature reaches the digest or the logs."""

from __future__ import annotations

import logging

import httpx
import pytest
from tests.fakes.binance_exchange import FakeBinance
from tests.fakes.binance_setup import API_KEY, API_SECRET, binance_connection

from tradecore.domain import RunStatus, TaskStatus
from tradecore.domain.digest import render_plain
from tradecore.services.cycle import AutomationCycle
from tradecore.testing import FakeClock, RecordingNotifier
from tradecore.testing.builders import make_user
from tradecore_adapters.binance.plugin import tradecore_register_brokers
from tradecore_adapters.memory import MemoryRepository

OTHER_KEY = "second-account-key-77ab"
OTHER_SECRET = "second-account-secret-0f9e8d"
BAD_GATEWAY = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def _routing(fake: FakeBinance) -> httpx.MockTransport:
    # broken.example answers like a failing proxy; every other host is the fake Binance.
    inner = fake.mock_transport()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "broken.example":
            return httpx.Response(502, content=BAD_GATEWAY, headers={"Content-Type": "text/html"})
        return await inner.handle_async_request(request)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("failure", ["html-502", "malformed-json"])
async def test_one_failing_binance_connection_does_not_stop_the_other(
    fake: FakeBinance, clock: FakeClock, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    fake.accounts[API_KEY].add_trades("BTCUSDT", 12)
    fake.add_account(OTHER_KEY, secret=OTHER_SECRET, balances={"ETH": ("1.00000000", "0")})
    healthy = binance_connection("conn-good")
    if failure == "html-502":
        broken = binance_connection(
            "conn-bad",
            api_key=OTHER_KEY,
            api_secret=OTHER_SECRET,
            base_url="https://broken.example",
        )
    else:
        broken = binance_connection("conn-bad", api_key=OTHER_KEY, api_secret=OTHER_SECRET)
        fake.script("GET", "/api/v3/time", body=b'{"serverTime":', times=1)
    repository = MemoryRepository()
    async with repository.unit_of_work() as uow:
        await uow.users.add(make_user(id=healthy.user_id))
        for connection in (broken, healthy):
            await uow.connections.add(connection)
        await uow.commit()
    notifier = RecordingNotifier()
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(transport=_routing(fake)) as http:
        cycle = AutomationCycle(
            repository=repository,
            clock=clock,
            brokers={factory.name: factory for factory in tradecore_register_brokers()},
            notifiers=[notifier],
            http_client=http,
            max_concurrent_connections=1,  # the broken one first: the other must still run
        )
        outcome = await cycle.run(healthy.user_id)

    run = outcome.run
    assert run.status is RunStatus.PARTIAL
    steps = {step.subject: step for step in run.steps}
    assert steps["conn-good"].status is TaskStatus.SUCCESS
    assert steps["conn-good"].counts["trades_new"] == 12
    assert steps["conn-good"].api["requests"] == "4"  # time, account, exchangeInfo, BTCUSDT
    assert steps["conn-bad"].status is TaskStatus.FAILURE
    expected = "502 Bad Gateway" if failure == "html-502" else "not JSON"
    assert expected in (steps["conn-bad"].error or "")
    async with repository.unit_of_work() as uow:
        assert await uow.trades.count(healthy.user_id, connection_id="conn-good") == 12

    # What tradecore itself says (digest, steps, its own log lines) never carries a secret or a
    # signed query. httpx's own INFO lines do carry the URL: the command line keeps httpx at
    # WARNING and masks signatures in every record (test_redaction.py), and so must a library
    # user who turns httpx's logger on.
    ours = [r for r in caplog.records if r.name.startswith("tradecore")]
    assert ours, "the adapter logs its requests at DEBUG"
    rendered = (
        repr(outcome.digest)
        + "".join(repr(step) for step in run.steps)
        + "".join(render_plain(outcome.digest))
        + "\n".join(r.getMessage() for r in ours)
    )
    for secret in (API_KEY, API_SECRET, OTHER_KEY, OTHER_SECRET):
        assert secret not in rendered
    assert "signature=" not in rendered
    assert "timestamp=" not in rendered
