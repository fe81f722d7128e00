"""A connection's market value over time: :class:`EquityPoint`, and how a sync's positions make
them (:func:`equity_points`).

A point is what one sync saw: the sum of the market values the broker reported for the
connection's positions, in one currency. Values in different currencies are never added (no
exchange rate is assumed): a connection holding positions in USD and EUR gets one point per
currency at each sync. A position the broker gave no market value, or no currency, cannot be
counted; it is counted in :attr:`EquityPoint.unpriced` instead, so a chart can say the value
is partial.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from attrs import field, frozen

from tradecore.domain._checks import decimal, non_empty, utc
from tradecore.domain.portfolio import Position
from tradecore.errors import DomainError

__all__ = ["EquityKey", "EquityPoint", "EquitySpan", "equity_bucket_seconds", "equity_points"]

EquityKey = tuple[str, str, datetime]
"""``(connection_id, currency, at)``: the natural key of an equity point."""


def _count(instance: object, attribute: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        name = getattr(attribute, "name", "count")
        raise DomainError(f"EquityPoint.{name} must be a whole number, zero or more")


@frozen(kw_only=True)
class EquityPoint:
    """The market value of one connection's positions in one currency, as a sync at ``at`` saw
    them.

    :param value: the sum of the market values of the connection's positions in ``currency``
        (signed: a short position's negative market value lowers it).
    :param priced: how many positions that sum counts.
    :param unpriced: how many positions of the connection (in any currency) the broker reported
        without a market value or a currency, so no sum could count them; the same number on
        every point of one sync.
    """

    user_id: str = field(validator=non_empty)
    connection_id: str = field(validator=non_empty)
    at: datetime = field(converter=utc)
    currency: str = field(validator=non_empty)
    value: Decimal = field(validator=decimal)
    priced: int = field(default=0, validator=_count)
    unpriced: int = field(default=0, validator=_count)

    @property
    def key(self) -> EquityKey:
        """``(connection_id, currency, at)``."""
        return (self.connection_id, self.currency, self.at)


@frozen(kw_only=True)
class EquitySpan:
    """What a store holds of one series (one connection, one currency) within a time range:
    its first and last point's times and how many points there are."""

    connection_id: str
    currency: str
    first: datetime = field(converter=utc)
    last: datetime = field(converter=utc)
    count: int


def equity_points(
    user_id: str, connection_id: str, positions: Iterable[Position], *, at: datetime
) -> tuple[EquityPoint, ...]:
    """The equity points of one sync of a connection: one per currency among the positions
    that have a market value and a currency, by currency; none when no position has both (a
    broker that reports no market values, or a connection holding nothing).

    :raises DomainError: a position belongs to another connection.
    """
    sums: dict[str, tuple[Decimal, int]] = {}
    unpriced = 0
    for position in positions:
        if position.connection_id != connection_id:
            raise DomainError(
                f"position {position.instrument.symbol!r} is not of connection {connection_id!r}"
            )
        currency = (position.currency or "").strip()
        if position.market_value is None or not currency:
            unpriced += 1
            continue
        total, count = sums.get(currency, (Decimal(0), 0))
        sums[currency] = (total + position.market_value, count + 1)
    return tuple(
        EquityPoint(
            user_id=user_id,
            connection_id=connection_id,
            at=at,
            currency=currency,
            value=total,
            priced=count,
            unpriced=unpriced,
        )
        for currency, (total, count) in sorted(sums.items())
    )


def equity_bucket_seconds(every: timedelta | None, origin: datetime | None) -> int | None:
    """The length in seconds of the buckets a thinned equity history is cut into (``None``:
    not thinned), after checking that ``every`` is whole seconds and comes with an ``origin``.

    :raises DomainError: ``every`` is under a second or not whole, or has no ``origin``.
    """
    if every is None:
        return None
    seconds = every.total_seconds()
    if seconds < 1 or seconds != int(seconds):
        raise DomainError(f"every must be a positive whole number of seconds, got {every}")
    if origin is None:
        raise DomainError("every needs an origin to count its buckets from")
    return int(seconds)
