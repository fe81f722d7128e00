"""The fake Saxo over loopback HTTP/1.1 (``FakeSaxo.serve``) and its demo CLI: the same rules
as in-process, a thread-safe handler, scripted timeouts as dropped connections, and
``token_latency`` widening the window in which two clients race one refresh token."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from tests.fakes.saxo_exchange import FakeSaxo

REPO = Path(__file__).resolve().parents[3]
KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
SECRET = "0123456789abcdef0123456789abcdef"
ACCOUNT_KEY = "LZTc+7Dd/ejXODf-WSl2aCyQ=="
CALLBACK = "http://localhost:8080/callback"


@pytest.fixture
def fake() -> FakeSaxo:
    saxo = FakeSaxo(app_key=KEY, app_secret=SECRET)
    saxo.add_account(ACCOUNT_KEY, "192134INET")
    saxo.add_instrument(211, "Stock", "AAPL:xnas", bid=Decimal("189.98"), ask=Decimal("190.02"))
    saxo.orders_per_second = None
    return saxo


async def test_login_and_gateway_over_loopback(fake) -> None:
    with fake.serve() as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=base_url) as http:
            redirect = await http.get(
                "/authorize",
                params={
                    "response_type": "code",
                    "client_id": KEY,
                    "state": "xyz",
                    "redirect_uri": CALLBACK,
                },
            )
            code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
            tokens = await http.post(
                "/token",
                data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
                auth=(KEY, SECRET),
            )
            bearer = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
            orders = await http.get(
                f"{fake.gateway_path}/port/v1/orders",
                params={"ClientKey": fake.client_key, "AccountKey": ACCOUNT_KEY},
                headers=bearer,
            )
            report = await http.get(
                f"{fake.gateway_path}/cs/v1/reports/trades/{quote(fake.client_key, safe='')}",
                params={"FromDate": "2024-01-01", "ToDate": "2024-01-31"},
                headers=bearer,
            )
            fake.script("POST", "/trade/v2/orders", "timeout_after_execute")
            with pytest.raises(httpx.RemoteProtocolError):
                await http.post(
                    f"{fake.gateway_path}/trade/v2/orders",
                    json={
                        "AccountKey": ACCOUNT_KEY,
                        "Uic": 211,
                        "AssetType": "Stock",
                        "BuySell": "Buy",
                        "Amount": 1,
                        "OrderType": "Market",
                        "OrderDuration": {"DurationType": "DayOrder"},
                        "ManualOrder": False,
                    },
                    headers=bearer,
                )
            answers = await asyncio.gather(
                *(
                    http.get(f"{fake.gateway_path}/port/v1/users/me", headers=bearer)
                    for _ in range(8)
                )
            )

    assert redirect.status_code == 302
    assert tokens.status_code == 201
    assert orders.status_code == 200
    assert orders.json() == {"__count": 0, "Data": []}
    assert orders.headers["x-correlation"]
    assert report.json()["Data"] == []
    assert len(fake.orders) == 1
    assert [a.status_code for a in answers] == [200] * 8
    assert len(set(fake.correlation_ids)) == len(fake.correlation_ids)


async def test_token_latency_lets_two_clients_race_one_refresh_token(fake) -> None:
    tokens = fake.issue_tokens()
    fake.token_latency = 0.2
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}

    with fake.serve() as base_url:
        async with (
            httpx.AsyncClient(base_url=base_url) as first,
            httpx.AsyncClient(base_url=base_url) as second,
        ):
            answers = await asyncio.gather(
                first.post("/token", data=form, auth=(KEY, SECRET)),
                second.post("/token", data=form, auth=(KEY, SECRET)),
            )

    assert sorted(a.status_code for a in answers) == [201, 400]
    loser = next(a for a in answers if a.status_code == 400)
    assert loser.json()["error"] == "invalid_grant"
    assert fake.refresh_calls == 2


def test_sync_client_on_the_mock_transport(fake) -> None:
    tokens = fake.issue_tokens()
    with httpx.Client(transport=fake.mock_transport(), base_url="https://saxo.test") as http:
        answer = http.get(
            "/sim/openapi/port/v1/accounts/me",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )

    assert answer.json()["Data"][0]["AccountKey"] == ACCOUNT_KEY


def test_cli_serves_a_demo_client() -> None:
    command = [sys.executable, "-m", "tests.fakes.saxo_exchange", "--port", "0"]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            tokens_line = process.stdout.readline().strip()
            ready_line = process.stdout.readline().strip()
            assert tokens_line.startswith("TOKENS ")
            assert ready_line.startswith("READY http://127.0.0.1:")
            token = json.loads(tokens_line.split(" ", 1)[1])["access_token"]
            base_url = ready_line.split()[1]
            me = httpx.get(
                f"{base_url}/sim/openapi/port/v1/netpositions/me",
                headers={"Authorization": f"Bearer {token}"},
            )
        finally:
            process.terminate()
        assert process.wait(timeout=5) == 0
    assert me.status_code == 200
    assert me.json()["Data"][0]["NetPositionBase"]["Uic"] == 211
