"""Venue errors become :mod:`tradecore.errors` here, at the adapter's edge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tradecore.errors import (
    BrokerError,
    InstrumentNotFound,
    InsufficientFunds,
    OrderNotFound,
    OrderRejected,
)
from tradecore_adapters.paper._client import VenueError
from tradecore_adapters.paper._state import StateUnreadable

__all__ = ["BROKER", "translate", "venue_errors"]

BROKER = "paper"

_READING: dict[str, type[BrokerError]] = {
    "UNKNOWN_SYMBOL": InstrumentNotFound,
    "UNKNOWN_ORDER": OrderNotFound,
}
_PLACING: dict[str, type[BrokerError]] = {
    "INSUFFICIENT_FUNDS": InsufficientFunds,
    "INSUFFICIENT_HOLDING": OrderRejected,
    "LOT_SIZE": OrderRejected,
    "TICK_SIZE": OrderRejected,
    # Definitive refusals: the order was not placed, so the order protocol must see a rejection.
    "UNKNOWN_SYMBOL": OrderRejected,
    "UNKNOWN_ACCOUNT": OrderRejected,
}


def translate(exc: VenueError, *, placing: bool = False) -> BrokerError:
    """Return the tradecore error for a venue error.

    :param placing: the error answers an order placement, where every refusal the venue knows
        is definitive (:class:`~tradecore.errors.OrderRejected`).
    """
    kind = (_PLACING if placing else _READING).get(exc.code, BrokerError)
    return kind(f"paper: {exc}", broker=BROKER, code=exc.code.lower())


@contextmanager
def venue_errors(*, placing: bool = False) -> Iterator[None]:
    """Re-raise any :class:`VenueError` raised inside the block as its tradecore error, and a
    stored venue that cannot be read as a :class:`~tradecore.errors.BrokerError`."""
    try:
        yield
    except VenueError as exc:
        raise translate(exc, placing=placing) from exc
    except StateUnreadable as exc:
        raise BrokerError(f"paper: {exc}", broker=BROKER, code="venue_unreadable") from exc
