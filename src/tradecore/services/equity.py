"""Read a user's equity history: each connection's market value over time, as the syncs
recorded it (:class:`~tradecore.domain.EquityPoint`), thinned so a chart never loads years of
points whole. :meth:`Portfolio.equity <tradecore.services.Portfolio.equity>` is the use case."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from attrs import frozen

from tradecore.domain import EquityPoint
from tradecore.errors import DomainError
from tradecore.ports import UnitOfWork

__all__ = [
    "MAX_EQUITY_POINTS",
    "EquityHistory",
    "EquitySeries",
    "checked_equity_query",
    "read_equity",
]

MAX_EQUITY_POINTS = 2000
"""The most points one series of an :class:`EquityHistory` holds."""


@frozen(kw_only=True)
class EquitySeries:
    """One connection's market value in one currency over time, oldest first.

    :param stored: how many points are stored in the range asked for; more than
        ``len(points)`` when the series was thinned.
    """

    connection_id: str
    connection: str
    currency: str
    points: tuple[EquityPoint, ...]
    stored: int


@frozen(kw_only=True)
class EquityHistory:
    """The user's equity series, by connection name and currency.

    :param every: the bucket length when the series were thinned (each point is then the last
        one stored in its bucket), ``None`` when every stored point is there.
    """

    series: tuple[EquitySeries, ...]
    connection_names: Mapping[str, str]
    since: datetime | None = None
    until: datetime | None = None
    every: timedelta | None = None


def checked_equity_query(since: datetime | None, until: datetime | None, max_points: int) -> None:
    """Refuse a range that ends before it starts, or a point cap outside 1..2,000."""
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
            raise DomainError(f"{name} must be a timezone-aware datetime (UTC)")
    if since is not None and until is not None and since >= until:
        raise DomainError("since must be earlier than until")
    if isinstance(max_points, bool) or not 1 <= max_points <= MAX_EQUITY_POINTS:
        raise DomainError(
            f"the number of points per series must be 1 to {MAX_EQUITY_POINTS}, got {max_points}"
        )


async def read_equity(
    uow: UnitOfWork,
    user_id: str,
    *,
    connection_id: str | None,
    names: Mapping[str, str],
    since: datetime | None,
    until: datetime | None,
    max_points: int,
) -> EquityHistory:
    """The user's equity series in ``[since, until)``, each at most ``max_points`` long.

    When a series holds more, every series is read thinned by the store: the range from the
    first point (its whole second) to the last is cut into equal buckets of whole seconds, so
    that no series has more than ``max_points`` of them, and the last point of each bucket is
    kept (the newest point is always there).
    """
    spans = await uow.equity.spans(user_id, connection_id=connection_id, since=since, until=until)
    every: timedelta | None = None
    origin: datetime | None = None
    if spans and max(span.count for span in spans) > max_points:
        start = min(calendar.timegm(span.first.utctimetuple()) for span in spans)
        end = max(calendar.timegm(span.last.utctimetuple()) for span in spans)
        every = timedelta(seconds=(end - start) // max_points + 1)
        origin = datetime.fromtimestamp(start, UTC)
    points = await uow.equity.list(
        user_id,
        connection_id=connection_id,
        since=since,
        until=until,
        every=every,
        origin=origin,
    )
    grouped: dict[tuple[str, str], list[EquityPoint]] = {}
    for point in points:
        grouped.setdefault((point.connection_id, point.currency), []).append(point)
    series = tuple(
        EquitySeries(
            connection_id=span.connection_id,
            connection=names.get(span.connection_id, span.connection_id),
            currency=span.currency,
            points=tuple(grouped.get((span.connection_id, span.currency), ())),
            stored=span.count,
        )
        for span in spans
    )
    ordered = tuple(sorted(series, key=lambda each: (each.connection, each.currency)))
    return EquityHistory(
        series=ordered, connection_names=names, since=since, until=until, every=every
    )
