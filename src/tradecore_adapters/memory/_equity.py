"""Memory repository of each connection's market value over time
(:class:`~tradecore.ports.EquityRepository`)."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import datetime, timedelta

from tradecore.domain import EquityKey, EquityPoint, EquitySpan, equity_bucket_seconds
from tradecore.errors import DomainError
from tradecore_adapters.memory._session import Session
from tradecore_adapters.memory._store import (
    Tables,
    aware,
    owned_connection,
    user_connection_ids,
)

__all__ = ["Equity", "epoch_seconds"]


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch (the fraction dropped), as the SQL store counts them."""
    return calendar.timegm(moment.utctimetuple())


class Equity:
    """:class:`~tradecore.ports.EquityRepository` in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, user_id: str, points: Sequence[EquityPoint]) -> int:
        batch = tuple(points)
        for point in batch:
            if point.user_id != user_id:
                raise DomainError(
                    f"an equity point of connection {point.connection_id!r} belongs to another user"
                )

        def add(tables: Tables) -> int:
            for connection_id in {point.connection_id for point in batch}:
                owned_connection(tables, user_id, connection_id)
            for point in batch:
                tables.equity.put(point.key, point)
            return len(batch)

        return self._session.write(add)

    async def spans(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Sequence[EquitySpan]:
        def spans(tables: Tables) -> list[EquitySpan]:
            found: dict[tuple[str, str], list[datetime]] = {}
            for point in _selected(tables, user_id, connection_id, since, until):
                found.setdefault((point.connection_id, point.currency), []).append(point.at)
            return [
                EquitySpan(
                    connection_id=key[0],
                    currency=key[1],
                    first=min(times),
                    last=max(times),
                    count=len(times),
                )
                for key, times in sorted(found.items())
            ]

        return self._session.read(spans)

    async def list(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        every: timedelta | None = None,
        origin: datetime | None = None,
    ) -> Sequence[EquityPoint]:
        width = equity_bucket_seconds(every, origin)

        def list_(tables: Tables) -> list[EquityPoint]:
            start = since
            if width is not None and origin is not None:
                start = origin if since is None else max(since, aware(origin, "origin"))
            rows = sorted(_selected(tables, user_id, connection_id, start, until), key=_order)
            if width is None or origin is None:
                return rows
            zero = epoch_seconds(origin)
            last: dict[tuple[str, str, int], EquityPoint] = {}
            for point in rows:  # oldest first: the last one of a bucket wins
                bucket = (epoch_seconds(point.at) - zero) // width
                last[(point.connection_id, point.currency, bucket)] = point
            return sorted(last.values(), key=_order)

        return self._session.read(list_)

    async def prune(self, *, before: datetime) -> int:
        cutoff = aware(before, "before")

        def prune(tables: Tables) -> int:
            old = [key for key, point in tables.equity.items() if point.at < cutoff]
            for key in old:
                tables.equity.delete(key)
            return len(old)

        return self._session.write(prune)


def _selected(
    tables: Tables,
    user_id: str,
    connection_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[EquityPoint]:
    # The user's points (of one connection) in [since, until); another user's connection is
    # none of the user's, so it selects nothing.
    start = None if since is None else aware(since, "since")
    end = None if until is None else aware(until, "until")
    owned = user_connection_ids(tables, user_id)
    if connection_id is not None:
        owned &= {connection_id}
    return [
        point
        for point in tables.equity.values()
        if point.connection_id in owned
        and (start is None or point.at >= start)
        and (end is None or point.at < end)
    ]


def _order(point: EquityPoint) -> EquityKey:
    return point.key
