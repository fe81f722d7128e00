"""SQL repository of each connection's market value over time
(:class:`~tradecore.ports.EquityRepository`).

Points are upserted on their key ``(connection, currency, at)``. Thinning is done by the
database: each point's bucket is computed from its whole seconds since the epoch, and a window
function keeps the last point of each series in each bucket, over the range the index
``(user_id, connection_id, at)`` selects; only the kept rows leave the database.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    cast,
    delete,
    func,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from tradecore.domain import EquityPoint, EquitySpan, equity_bucket_seconds
from tradecore.domain._checks import utc
from tradecore.errors import DomainError
from tradecore_adapters.sqlalchemy._directory import connections_owned
from tradecore_adapters.sqlalchemy._unit import Transaction
from tradecore_adapters.sqlalchemy.schema import equity_points

__all__ = ["Equity"]

_KEY = ["connection_id", "currency", "at"]


@functools.cache
def _upsert(*, sqlite_dialect: bool) -> Any:
    # The dialect's INSERT … ON CONFLICT of points, built once per dialect.
    statement = (sqlite.insert if sqlite_dialect else postgresql.insert)(equity_points)
    return statement.on_conflict_do_update(
        index_elements=_KEY,
        set_={
            name: statement.excluded[name] for name in ("user_id", "value", "priced", "unpriced")
        },
    )


def _aware(value: datetime, name: str) -> datetime:
    try:
        return utc(value)
    except DomainError as exc:
        raise DomainError(f"{name}: {exc}") from None


def _point(row: Any) -> EquityPoint:
    return EquityPoint(
        user_id=row["user_id"],
        connection_id=row["connection_id"],
        currency=row["currency"],
        at=row["at"],
        value=row["value"],
        priced=int(row["priced"]),
        unpriced=int(row["unpriced"]),
    )


class Equity:
    """:class:`~tradecore.ports.EquityRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, user_id: str, points: Sequence[EquityPoint]) -> int:
        kept: dict[tuple[str, str, datetime], EquityPoint] = {}
        for point in points:
            if point.user_id != user_id:
                raise DomainError(
                    f"an equity point of connection {point.connection_id!r} belongs to another user"
                )
            kept[point.key] = point  # of duplicate keys the last is kept, as an upsert would
        if not kept:
            return 0
        async with self._tx.one_write(rows=len(kept), cannot_conflict=True) as db:  # an upsert
            await connections_owned(self._tx, user_id, {key[0] for key in kept})
            await db.execute(
                _upsert(sqlite_dialect=self._tx.sqlite),
                [
                    {
                        "user_id": user_id,
                        "connection_id": p.connection_id,
                        "currency": p.currency,
                        "at": p.at,
                        "value": p.value,
                        "priced": p.priced,
                        "unpriced": p.unpriced,
                    }
                    for p in kept.values()
                ],
            )
        return len(points)

    async def spans(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Sequence[EquitySpan]:
        table = equity_points
        order = self._tx.text_order
        query = (
            select(
                table.c.connection_id,
                table.c.currency,
                func.min(table.c.at).label("first"),
                func.max(table.c.at).label("last"),
                func.count().label("count"),
            )
            .where(*_range(user_id, connection_id, since, until))
            .group_by(table.c.connection_id, table.c.currency)
            .order_by(order(table.c.connection_id), order(table.c.currency))
        )
        db = await self._tx.read()
        return [
            EquitySpan(
                connection_id=row["connection_id"],
                currency=row["currency"],
                first=row["first"],  # min() and max() keep the column's type: aware UTC
                last=row["last"],
                count=int(row["count"]),
            )
            for row in (await db.execute(query)).mappings()
        ]

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
        table = equity_points
        order = self._tx.text_order
        keys = [order(table.c.connection_id), order(table.c.currency), table.c.at]
        query: Select[Any]
        if width is None or origin is None:
            query = select(table).where(*_range(user_id, connection_id, since, until))
            query = query.order_by(*keys)
        else:
            start = _aware(origin, "origin")
            if since is not None:
                start = max(start, _aware(since, "since"))
            zero = calendar.timegm(_aware(origin, "origin").utctimetuple())
            bucket = (self._epoch(table.c.at) - literal(zero, BigInteger)) // literal(
                width, BigInteger
            )
            ranked = (
                select(
                    table,
                    func.row_number()
                    .over(
                        partition_by=[table.c.connection_id, table.c.currency, bucket],
                        order_by=table.c.at.desc(),
                    )
                    .label("rank"),
                )
                .where(*_range(user_id, connection_id, start, until))
                .subquery()
            )
            query = (
                select(*(ranked.c[column.name] for column in table.columns))
                .where(ranked.c.rank == 1)
                .order_by(order(ranked.c.connection_id), order(ranked.c.currency), ranked.c.at)
            )
        db = await self._tx.read()
        return [_point(row) for row in (await db.execute(query)).mappings()]

    async def prune(self, *, before: datetime) -> int:
        cutoff = _aware(before, "before")
        async with self._tx.atomic() as db:
            result = await db.execute(delete(equity_points).where(equity_points.c.at < cutoff))
            return int(result.rowcount or 0)

    def _epoch(self, column: ColumnElement[Any]) -> ColumnElement[int]:
        # Whole seconds since the epoch, the fraction dropped, as an integer on both backends
        # (integer division then truncates, and every bucketed point is at or after origin).
        if self._tx.sqlite:
            return cast(func.strftime("%s", column), BigInteger)
        return cast(func.floor(func.extract("epoch", column)), BigInteger)


def _range(
    user_id: str,
    connection_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[ColumnElement[bool]]:
    table = equity_points
    where = [table.c.user_id == user_id]
    if connection_id is not None:
        where.append(table.c.connection_id == connection_id)
    if since is not None:
        where.append(table.c.at >= _aware(since, "since"))
    if until is not None:
        where.append(table.c.at < _aware(until, "until"))
    return [and_(*where)]
