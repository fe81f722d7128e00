"""replay_recorded_responses: what matches an exchange, what is unexpected, what is left unused,
and bad recordings refused with the exchange and field named. tradecore.testing itself stays
importable without httpx."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from typing import Any

import httpx
import pytest

from tradecore.testing import RecordedResponses, UnexpectedRequest, replay_recorded_responses

PRICE = {
    "request": {"method": "GET", "path": "/api/v3/ticker/price", "query": {"symbol": "LTCBTC"}},
    "response": {
        "status": 200,
        "headers": {"X-MBX-USED-WEIGHT-1M": "2"},
        "json": {"symbol": "LTCBTC", "price": "4.00000200"},
    },
}


async def _get(replay: RecordedResponses, url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=replay.transport()) as http:
        return await http.request(kwargs.pop("method", "GET"), url, **kwargs)


async def test_a_matching_request_gets_the_recorded_status_headers_and_body() -> None:
    replay = replay_recorded_responses({"exchanges": [PRICE]})

    response = await _get(replay, "https://api.example/api/v3/ticker/price?symbol=LTCBTC&x=1")

    assert response.status_code == 200
    assert response.headers["x-mbx-used-weight-1m"] == "2"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"symbol": "LTCBTC", "price": "4.00000200"}
    assert replay.answered == ["#1 GET api.example/api/v3/ticker/price?symbol=LTCBTC&x=1"]
    replay.assert_all_used()


async def test_each_exchange_answers_once_by_default_and_the_next_request_is_unexpected() -> None:
    replay = replay_recorded_responses([PRICE])
    url = "https://api.example/api/v3/ticker/price?symbol=LTCBTC"

    await _get(replay, url)
    with pytest.raises(UnexpectedRequest) as raised:
        await _get(replay, url)

    assert str(raised.value) == (
        "recording: unexpected request GET api.example/api/v3/ticker/price?symbol=LTCBTC; no "
        "unused recorded exchange matches it. Unused: none"
    )
    assert replay.unexpected == ["GET api.example/api/v3/ticker/price?symbol=LTCBTC"]


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example/api/v3/ticker/price?symbol=ETHBTC",
        "https://api.example/api/v3/ticker/price",
        "https://api.example/api/v3/ticker/bookTicker?symbol=LTCBTC",
    ],
    ids=["other-value", "missing-parameter", "other-path"],
)
async def test_a_request_that_differs_is_unexpected_and_names_what_is_unused(url: str) -> None:
    replay = replay_recorded_responses([PRICE])

    with pytest.raises(UnexpectedRequest, match=r"Unused: #1 GET /api/v3/ticker/price\?symbol="):
        await _get(replay, url)


async def test_a_method_or_host_that_differs_is_unexpected() -> None:
    hosted = {**PRICE, "request": {**PRICE["request"], "host": "api.binance.com"}}
    replay = replay_recorded_responses([hosted])
    url = "https://api.binance.com/api/v3/ticker/price?symbol=LTCBTC"

    with pytest.raises(UnexpectedRequest):
        await _get(replay, url.replace("api.binance.com", "testnet.binance.vision"))
    with pytest.raises(UnexpectedRequest):
        await _get(replay, url, method="POST")
    assert (await _get(replay, url)).status_code == 200


async def test_query_null_means_present_with_any_value_and_a_list_means_every_value() -> None:
    replay = replay_recorded_responses(
        [
            {
                "request": {
                    "method": "GET",
                    "path": "/signed",
                    "query": {"signature": None, "ids": ["1", "2"]},
                },
                "response": {"status": 204},
            }
        ]
    )

    with pytest.raises(UnexpectedRequest):
        await _get(replay, "https://h/signed?ids=1&ids=2")
    with pytest.raises(UnexpectedRequest):
        await _get(replay, "https://h/signed?signature=abc&ids=1")
    assert (await _get(replay, "https://h/signed?signature=abc&ids=1&ids=2")).status_code == 204


async def test_a_json_body_matches_when_it_holds_the_recorded_fields() -> None:
    replay = replay_recorded_responses(
        [
            {
                "request": {"method": "POST", "path": "/orders", "json": {"Amount": 100}},
                "response": {"status": 200, "text": "placed", "headers": {"X-Id": "1"}},
            }
        ]
    )

    with pytest.raises(UnexpectedRequest):
        await _get(replay, "https://h/orders", method="POST", json={"Amount": 99})
    with pytest.raises(UnexpectedRequest):
        await _get(replay, "https://h/orders", method="POST", content=b"not json")
    response = await _get(replay, "https://h/orders", method="POST", json={"Amount": 100, "X": 1})

    assert (response.status_code, response.text) == (200, "placed")
    assert "content-type" not in response.headers


async def test_times_and_repeat_say_how_often_an_exchange_answers() -> None:
    twice = {**PRICE, "times": 2}
    always = {
        "request": {"method": "GET", "path": "/api/v3/time"},
        "response": {"status": 200, "json": {"serverTime": 1499827319559}},
        "repeat": True,
    }
    replay = replay_recorded_responses([twice, always])

    for _ in range(3):
        await _get(replay, "https://h/api/v3/time")
    await _get(replay, "https://h/api/v3/ticker/price?symbol=LTCBTC")
    with pytest.raises(AssertionError, match=r"never requested: #1 GET /api/v3/ticker/price"):
        replay.assert_all_used()
    await _get(replay, "https://h/api/v3/ticker/price?symbol=LTCBTC")

    replay.assert_all_used()


async def test_assert_all_used_names_unused_exchanges_and_unexpected_requests() -> None:
    replay = replay_recorded_responses([PRICE])
    with pytest.raises(UnexpectedRequest):
        await _get(replay, "https://h/other")

    with pytest.raises(AssertionError) as raised:
        replay.assert_all_used()

    assert str(raised.value) == (
        "recording: never requested: #1 GET /api/v3/ticker/price?symbol=LTCBTC / unexpected "
        "requests: GET h/other"
    )


@pytest.mark.parametrize(
    ("recording", "message"),
    [
        (42, "expected a list of exchanges or an object with 'exchanges'"),
        ({"exchanges": 3}, "expected a list of exchanges"),
        ([[]], "exchange #1 is not an object"),
        ([{"request": {}}], "exchange #1 needs a 'request' and a 'response' object"),
        (
            [{"request": {"method": "FETCH", "path": "/"}, "response": {"status": 200}}],
            "exchange #1: request.method 'FETCH' is not an HTTP method",
        ),
        (
            [{"request": {"method": "GET", "path": "x"}, "response": {"status": 200}}],
            "exchange #1: request.path must be a string starting with '/'",
        ),
        (
            [
                {
                    "request": {"method": "GET", "path": "/", "query": {"a": 1}},
                    "response": {"status": 200},
                }
            ],
            "request.query maps names to a string, a list or null",
        ),
        (
            [{"request": {"method": "GET", "path": "/"}, "response": {"status": "200"}}],
            "response.status must be an HTTP status code",
        ),
        (
            [
                {
                    "request": {"method": "GET", "path": "/"},
                    "response": {"status": 200, "headers": {"a": 1}},
                }
            ],
            "response.headers maps names to strings",
        ),
        (
            [
                {
                    "request": {"method": "GET", "path": "/"},
                    "response": {"status": 200, "json": 1, "text": ""},
                }
            ],
            "give response.json or response.text, not both",
        ),
        (
            [{"request": {"method": "GET", "path": "/"}, "response": {"status": 200}, "times": 0}],
            "times must be a whole number of at least 1",
        ),
    ],
)
def test_a_bad_recording_is_refused_naming_the_exchange_and_field(
    recording: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^recording: .*{re.escape(message)}"):
        replay_recorded_responses(recording)


def test_tradecore_testing_imports_without_httpx_and_loads_it_only_when_replaying() -> None:
    probe = textwrap.dedent(
        """
        import json, sys
        sys.modules["httpx"] = None  # as if httpx were not installed
        import tradecore.testing
        replay = tradecore.testing.replay_recorded_responses([])
        try:
            replay.transport()
        except ImportError as exc:
            failed = type(exc).__name__
        print(json.dumps({"failed": failed}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )

    assert json.loads(result.stdout) == {"failed": "ModuleNotFoundError"}
