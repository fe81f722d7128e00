"""Venue errors become :mod:`tradecore.errors` here, at the adapter's edge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tradecore.errors import (
    BrokerError,
    BrokerUnavailable,
    InstrumentNotFound,
    InsufficientFunds,
    OrderExists,
    OrderNotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    RepositoryError,
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


def translate(
    exc: VenueError, *, placing: bool = False, client_order_id: str | None = None
) -> BrokerError:
    """Return the tradecore error for a venue error.

    :param placing: the error answers an order placement, where every refusal the venue knows
        is definitive (:class:`~tradecore.errors.OrderRejected`), except a duplicate client id:
        :class:`~tradecore.errors.OrderExists`.
    :param client_order_id: the placement's client id (required with ``placing``).
    """
    message, code = f"paper: {exc}", exc.code.lower()
    if placing and exc.code == "DUPLICATE_ORDER" and client_order_id is not None:
        return OrderExists(message, broker=BROKER, code=code, client_order_id=client_order_id)
    kind = (_PLACING if placing else _READING).get(exc.code, BrokerError)
    return kind(message, broker=BROKER, code=code)


@contextmanager
def venue_errors(*, placing: bool = False, client_order_id: str | None = None) -> Iterator[None]:
    """Re-raise any :class:`VenueError` raised inside the block as its tradecore error, a
    stored venue that cannot be read as a :class:`~tradecore.errors.BrokerError`, and a venue
    store that failed (the database refused, timed out or dropped the connection) as
    :class:`~tradecore.errors.BrokerUnavailable`; or, for a placement (``client_order_id``
    given), as :class:`~tradecore.errors.OrderOutcomeUnknown`: the store may have committed the
    order before the failure reached us."""
    try:
        yield
    except VenueError as exc:
        raise translate(exc, placing=placing, client_order_id=client_order_id) from exc
    except StateUnreadable as exc:
        raise BrokerError(f"paper: {exc}", broker=BROKER, code="venue_unreadable") from exc
    except (RepositoryError, OSError) as exc:  # OSError: TimeoutError, ConnectionError…
        what = f"paper: the venue store failed ({type(exc).__name__})"
        if client_order_id is not None:
            raise OrderOutcomeUnknown(
                f"{what}; the order may have been placed: it will be looked up by its client "
                f"id {client_order_id}, never sent again",
                broker=BROKER,
                code="venue_store",
                client_order_id=client_order_id,
            ) from exc
        raise BrokerUnavailable(what, broker=BROKER, code="venue_store") from exc
