"""The equity history's repository: each connection's market value over time, kept as
:class:`~tradecore.domain.EquityPoint` rows (``uow.equity``; see
:mod:`tradecore.ports.repository` for the unit of work and its rules)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from tradecore.domain import EquityPoint, EquitySpan

__all__ = ["EquityRepository"]


class EquityRepository(Protocol):
    """Each connection's market value over time, one :class:`EquityPoint` per ``(connection,
    currency, at)``; removed with the connection."""

    async def add(self, user_id: str, points: Sequence[EquityPoint]) -> int:
        """Store the points; a point whose key ``(connection, currency, at)`` is stored already
        replaces it (a sync recorded twice at one instant keeps one point). Returns how many
        points were given.

        :raises NotFound: a point's connection is not this user's.
        :raises DomainError: a point belongs to another user.
        """
        ...

    async def spans(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Sequence[EquitySpan]:
        """What is stored of each of the user's series at or after ``since`` and before
        ``until``: one :class:`EquitySpan` per ``(connection, currency)`` that has a point
        there, by connection id and currency. Another user's connection has none."""
        ...

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
        """The user's points at or after ``since`` and before ``until``, by connection id,
        currency and time.

        With ``every`` (whole seconds, at least one), only the last point of each series in
        each bucket of that length is returned, the buckets counted from ``origin`` (a point's
        bucket is ``(at - origin) // every``, on whole seconds since the epoch); ``origin``
        must then be given and be no later than ``since``. The store does the thinning, so a
        long history is never loaded whole.

        :raises DomainError: ``every`` is not a positive whole number of seconds, or is given
            without ``origin``.
        """
        ...

    async def prune(self, *, before: datetime) -> int:
        """Delete every user's points taken before ``before``; returns how many."""
        ...
