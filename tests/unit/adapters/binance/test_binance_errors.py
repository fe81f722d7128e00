"""Binance answers become the right tradecore errors (Binance's error codes and HTTP return codes,
https://developers.binance.com/docs/binance-spot-api-docs/)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tradecore.errors import (
    AuthenticationFailed,
    BrokerError,
    BrokerUnavailable,
    InstrumentNotFound,
    InsufficientFunds,
    MalformedResponse,
    OrderExists,
    OrderNotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
)
from tradecore_adapters.binance._errors import (
    BinanceAnswer,
    IpBanned,
    TimestampRejected,
    order_error,
    read_error,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CID = "tc-abc"


def answer(
    status: int, code: int | None = None, msg: str | None = None, **kw: float
) -> BinanceAnswer:
    return BinanceAnswer(what="GET /api/v3/x", status=status, code=code, message=msg, **kw)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (answer(429, -1003, "Too much request weight used", retry_after=3), RateLimited),
        (
            answer(400, -1021, "Timestamp for this request is outside of the recvWindow."),
            TimestampRejected,
        ),
        (
            answer(401, -2015, "Invalid API-key, IP, or permissions for action."),
            AuthenticationFailed,
        ),
        (answer(400, -1022, "Signature for this request is not valid."), AuthenticationFailed),
        (answer(400, -1121, "Invalid symbol."), InstrumentNotFound),
        (answer(400, -2013, "Order does not exist."), OrderNotFound),
        (answer(400, -2011, "Unknown order sent."), OrderNotFound),
        (answer(502, None, "HTML page: 502 Bad Gateway"), BrokerUnavailable),
        (
            answer(400, -1007, "Timeout waiting for response from backend server."),
            BrokerUnavailable,
        ),
        (answer(200, None, "the body is not JSON"), MalformedResponse),
        (answer(400, -1102, "Mandatory parameter 'symbol' was not sent"), BrokerError),
    ],
)
def test_read_errors(reply: BinanceAnswer, expected: type[BrokerError]) -> None:
    error = read_error(reply, now=NOW)
    assert type(error) is expected
    assert error.broker == "binance"
    assert "GET /api/v3/x" in str(error)


def test_a_ban_says_until_when_and_is_not_retryable_as_a_plain_rate_limit() -> None:
    error = read_error(
        answer(418, -1003, "Way too much request weight used", retry_after=120), now=NOW
    )
    assert isinstance(error, IpBanned)
    assert error.retry_after == 120
    assert "until 2026-11-21 12:02:00 UTC" in str(error)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (answer(503, None, "Service Unavailable."), OrderOutcomeUnknown),
        (answer(500, None, None), OrderOutcomeUnknown),
        (
            answer(400, -1007, "Timeout waiting for response from backend server."),
            OrderOutcomeUnknown,
        ),
        (answer(400, -1006, "An unexpected response was received."), OrderOutcomeUnknown),
        (answer(200, None, "the body is not JSON"), OrderOutcomeUnknown),
        (answer(400, -2010, "Duplicate order sent."), OrderExists),
        (
            answer(400, -2010, "Account has insufficient balance for requested action."),
            InsufficientFunds,
        ),
        (answer(400, -1013, "Filter failure: LOT_SIZE"), OrderRejected),
        (
            answer(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."),
            OrderRejected,
        ),
        (answer(401, -2015, "Invalid API-key, IP, or permissions for action."), OrderRejected),
        (answer(429, -1003, "Too much request weight used"), OrderRejected),
    ],
)
def test_order_errors(reply: BinanceAnswer, expected: type[BrokerError]) -> None:
    error = order_error(reply, client_order_id=CID, now=NOW)
    assert type(error) is expected
    if isinstance(error, OrderOutcomeUnknown):
        assert error.client_order_id == CID
        assert CID in str(error)


def test_the_binance_code_is_kept() -> None:
    error = order_error(
        answer(400, -1013, "Filter failure: LOT_SIZE"), client_order_id=CID, now=NOW
    )
    assert error.code == "-1013"
    assert "Filter failure: LOT_SIZE" in str(error)
