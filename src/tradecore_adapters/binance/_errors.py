"""Binance's answers become :mod:`tradecore.errors` here, at the adapter's edge.

The codes and their meaning are Binance's: its error codes and "HTTP Return Codes" in the REST
API documentation, https://developers.binance.com/docs/binance-spot-api-docs/ (USD-M futures:
https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info). Two
questions decide the class: did Binance say something definitive, and was the request an order
placement (where anything ambiguous means "the order may exist")?
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from attrs import frozen

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

__all__ = [
    "BROKER",
    "BinanceAnswer",
    "IpBanned",
    "TimestampRejected",
    "order_error",
    "read_error",
    "transport_error",
]

BROKER = "binance"

_MAX_MESSAGE = 200
_AUTH_CODES = frozenset({-2014, -2015, -2008, -1002})
_UNKNOWN_OUTCOME_CODES = frozenset({-1006, -1007})
_MISSING_ORDER_CODES = frozenset({-2011, -2013, -2026})
_DUPLICATE = "duplicate order sent"
_INSUFFICIENT = "insufficient balance"
_KEY_HINT = (
    "check that the key belongs to this environment (testnet keys work only on the testnet), "
    "that this IP is on the key's whitelist and that the key has the permission"
)


class IpBanned(RateLimited):
    """Binance banned this IP (HTTP 418) for ``retry_after`` seconds; nothing is sent to the
    host until the ban ends."""


class TimestampRejected(BrokerUnavailable):
    """Binance refused the request's timestamp (-1021): resync the clock, then retry once."""


@frozen(kw_only=True)
class BinanceAnswer:
    """What Binance answered to one request, reduced to what errors are made of.

    :param what: ``METHOD /path`` (never the query: it carries the signature).
    :param retry_after: the ``Retry-After`` header, in seconds.
    """

    what: str
    status: int
    code: int | None = None
    message: str | None = None
    retry_after: float | None = None

    def describe(self) -> str:
        """``Binance answered GET /api/v3/myTrades with HTTP 400, code -1121: Invalid symbol.``"""
        text = f"Binance answered {self.what} with HTTP {self.status}"
        if self.code is not None:
            text += f", code {self.code}"
        if self.message:
            text += f": {_short(self.message)}"
        return text

    @property
    def code_text(self) -> str:
        """The Binance code as text, else the HTTP status, for :attr:`BrokerError.code`."""
        return str(self.code) if self.code is not None else f"HTTP {self.status}"


def read_error(answer: BinanceAnswer, *, now: datetime) -> BrokerError:
    """The error for a failed read (or cancel): transient ones are :class:`BrokerUnavailable`
    and may be retried; a ban is :class:`IpBanned`; the rest are definitive."""
    code, status = answer.code, answer.status
    if status == 418:
        return _ban(answer, now)
    if status == 429:
        return RateLimited(
            f"{answer.describe()} (rate limit; Binance asked to wait "
            f"{_seconds(answer.retry_after)})",
            broker=BROKER,
            code=answer.code_text,
            retry_after=answer.retry_after,
        )
    if code == -1021:
        return TimestampRejected(
            f"{answer.describe()} (the request's timestamp is outside Binance's recvWindow: "
            "this machine's clock differs from Binance's)",
            broker=BROKER,
            code=answer.code_text,
        )
    if status == 401 or code in _AUTH_CODES:
        return AuthenticationFailed(
            f"{answer.describe()}; {_KEY_HINT}", broker=BROKER, code=answer.code_text
        )
    if code == -1022:
        return AuthenticationFailed(
            f"{answer.describe()}; check that the API secret or private key belongs to the API key",
            broker=BROKER,
            code=answer.code_text,
        )
    if code == -1121:
        return InstrumentNotFound(answer.describe(), broker=BROKER, code=answer.code_text)
    if code in _MISSING_ORDER_CODES:
        return OrderNotFound(answer.describe(), broker=BROKER, code=answer.code_text)
    if status >= 500 or status == 408 or code in _UNKNOWN_OUTCOME_CODES or code == -1008:
        return BrokerUnavailable(answer.describe(), broker=BROKER, code=answer.code_text)
    if 200 <= status < 300:
        return MalformedResponse(answer.describe(), broker=BROKER, code=answer.code_text)
    return BrokerError(answer.describe(), broker=BROKER, code=answer.code_text)


def order_error(answer: BinanceAnswer, *, client_order_id: str, now: datetime) -> BrokerError:
    """The error for a failed order placement.

    Only what proves the order was not accepted is a rejection; a 5xx, -1006, -1007 or an
    unreadable success is :class:`OrderOutcomeUnknown` (look it up, never resend), and
    "Duplicate order sent." is :class:`OrderExists`.
    """
    code, status, text = answer.code, answer.status, (answer.message or "").lower()
    if status == 418:
        return _ban(answer, now)
    if status >= 500 or code in _UNKNOWN_OUTCOME_CODES or 200 <= status < 300 or status == 408:
        return OrderOutcomeUnknown(
            f"{answer.describe()}; the order may have been placed: it will be looked up by its "
            f"client id {client_order_id}, never sent again",
            broker=BROKER,
            code=answer.code_text,
            client_order_id=client_order_id,
        )
    if _DUPLICATE in text:
        return OrderExists(
            f"{answer.describe()}; an order with client id {client_order_id} is already open",
            broker=BROKER,
            code=answer.code_text,
            client_order_id=client_order_id,
        )
    if _INSUFFICIENT in text:
        return InsufficientFunds(answer.describe(), broker=BROKER, code=answer.code_text)
    hint = ""
    if status == 401 or code in _AUTH_CODES:
        hint = f"; {_KEY_HINT} (trading must be enabled on the key)"
    elif code == -1021:
        hint = "; this machine's clock differs from Binance's"
    elif status == 429:
        hint = " (rate limit)"
    return OrderRejected(f"{answer.describe()}{hint}", broker=BROKER, code=answer.code_text)


def transport_error(what: str, exc: Exception) -> BrokerUnavailable:
    """A read that failed on the network (connect, timeout, reset)."""
    return BrokerUnavailable(
        f"Binance did not answer {what}: {type(exc).__name__}", broker=BROKER, code=None
    )


def _ban(answer: BinanceAnswer, now: datetime) -> IpBanned:
    seconds = answer.retry_after if answer.retry_after is not None else 120.0
    until = (now + timedelta(seconds=seconds)).astimezone(UTC)
    return IpBanned(
        f"Binance has banned this IP until {until:%Y-%m-%d %H:%M:%S} UTC (HTTP 418: requests "
        "went on after rate-limit warnings); tradecore sends nothing to this Binance host until "
        "then",
        broker=BROKER,
        code=answer.code_text,
        retry_after=seconds,
    )


def _seconds(value: float | None) -> str:
    return "an unspecified time" if value is None else f"{value:g} s"


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 1] + "…"
