"""Saxo's error answers as :mod:`tradecore.errors`.

Saxo's error codes are in its OpenAPI reference (https://www.developer.saxo/openapi/referencedocs);
the duplicate-order guard and the 429 in https://www.developer.saxo/openapi/learn/rate-limiting.
How tradecore reads them is in docs/brokers/saxo.md ("Orders", "Limits, retries and errors").

Reads and orders are classified apart, because for an order the one question is whether it may have
been placed: a 4xx that proves refusal is :class:`~tradecore.errors.OrderRejected`; a 409 is Saxo's
duplicate guard (the same order inside 15 s), i.e. it exists; a 5xx, a timeout or
``OrderCommandTimeout`` / ``OrderCommandPending`` / ``TradeNotCompleted`` is
:class:`~tradecore.errors.OrderOutcomeUnknown`. Every message carries the ``X-Correlation`` Saxo
support asks for (https://www.developer.saxo/openapi/learn/requesting-support), never a token or a
key.
"""

from __future__ import annotations

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
from tradecore_adapters.saxo._error_body import SaxoError
from tradecore_adapters.saxo._json import BROKER
from tradecore_adapters.saxo._order_mapping import NO_FUNDS_CODES, OUTCOME_UNKNOWN_CODES

__all__ = ["BROKER", "order_error", "read_error", "with_correlation"]

_UNKNOWN_INSTRUMENT = frozenset(
    {"InvalidUic", "IllegalInstrumentId", "InstrumentNotAllowed", "UnknownInstrument"}
)


def with_correlation(message: str, correlation: str | None) -> str:
    """``message`` with Saxo's ``X-Correlation`` id appended, when there was one."""
    return f"{message} (X-Correlation {correlation})" if correlation else message


def read_error(
    what: str, error: SaxoError, *, correlation: str | None, retry_after: float | None = None
) -> BrokerError:
    """The error of a read (or a cancel) that Saxo refused."""
    code = error.code or f"HTTP {error.status}"
    text = with_correlation(
        f"{what}: Saxo answered HTTP {error.status}: {error.message}", correlation
    )
    if error.status == 429:
        return RateLimited(text, broker=BROKER, code=code, retry_after=retry_after)
    if error.status >= 500:
        return BrokerUnavailable(text, broker=BROKER, code=code)
    if error.status == 401:
        return AuthenticationFailed(
            with_correlation(f"{what}: Saxo refused the access token (HTTP 401)", correlation),
            broker=BROKER,
            code=code,
        )
    if error.status == 403:
        return AuthenticationFailed(
            text + "; the app may lack this permission, or the session was taken over",
            broker=BROKER,
            code=code,
        )
    if error.code in _UNKNOWN_INSTRUMENT:
        return InstrumentNotFound(text, broker=BROKER, code=code)
    if error.code == "OrderNotFound":
        return OrderNotFound(text, broker=BROKER, code=code)
    if error.status == 404 and error.code is None:
        return MalformedResponse(
            text + "; check api_base_url and environment (a SIM token does not work on LIVE)",
            broker=BROKER,
            code=code,
        )
    return BrokerError(text, broker=BROKER, code=code)


def order_error(
    what: str, error: SaxoError, *, client_order_id: str, correlation: str | None
) -> BrokerError:
    """The error of an order placement Saxo did not acknowledge with an ``OrderId``."""
    code = error.code or f"HTTP {error.status}"
    said = f"Saxo answered HTTP {error.status}: {error.message}"
    if error.status == 409:
        return OrderExists(
            with_correlation(
                f"{what}: Saxo holds an identical order sent within 15 s ({said}); it is looked "
                f"up by its client id {client_order_id}, never sent again",
                correlation,
            ),
            broker=BROKER,
            code=code,
            client_order_id=client_order_id,
        )
    if error.status >= 500 or error.code in OUTCOME_UNKNOWN_CODES:
        return OrderOutcomeUnknown(
            with_correlation(
                f"{what}: {said}; the order may have been placed: it will be looked up by its "
                f"client id {client_order_id}, never sent again",
                correlation,
            ),
            broker=BROKER,
            code=code,
            client_order_id=client_order_id,
        )
    if 400 <= error.status < 500:
        text = with_correlation(f"{what} was refused: {said}", correlation)
        if error.status == 401:
            text = with_correlation(
                f"{what} was not placed: Saxo refused the access token (HTTP 401)", correlation
            )
        if error.code in NO_FUNDS_CODES:
            return InsufficientFunds(text, broker=BROKER, code=code)
        return OrderRejected(text, broker=BROKER, code=code)
    return OrderOutcomeUnknown(
        with_correlation(
            f"{what}: {said}; the order may have been placed: it will be looked up by its "
            f"client id {client_order_id}, never sent again",
            correlation,
        ),
        broker=BROKER,
        code=code,
        client_order_id=client_order_id,
    )
