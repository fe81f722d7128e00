"""Keyset paging for the repositories: a :class:`Page` of rows, newest first, and the
:class:`PageKey` where the next (older) page starts.

A listing that may hold hundreds of thousands of rows (a user's trades, orders, runs) is read a
page at a time: the repository returns at most ``limit`` rows newer-first, and the key of the
last one; passing that key back as ``before`` returns the rows strictly older than it. Rows are
ordered by a time and a tie-breaker that is unique per row (an auto-incrementing row number, or
a run's id), so rows written while someone pages never make a row appear twice or go missing
among those already listed. A store serves a page from an index in that order: it reads the
page, not the listing.

The key is the store's own: front ends see it only as the opaque cursor
:mod:`tradecore.services.paging` makes of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from attrs import field, frozen

from tradecore.domain._checks import utc
from tradecore.errors import DomainError

__all__ = ["Page", "PageKey", "check_page_limit", "numbered_key"]

T = TypeVar("T")


def _tiebreak(_: object, __: object, value: int | str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DomainError(f"a page key's id is a whole number or a text, got {value!r}")


@frozen
class PageKey:
    """Where a page ends: the time of its last (oldest) row and that row's tie-breaker.

    :param at: the row's time (aware UTC): a trade's ``executed_at``, an order's
        ``created_at``, a run's ``started_at``.
    :param id: the row's tie-breaker among rows of the same time: the store's row number for
        trades and orders, the run id for runs.
    """

    at: datetime = field(converter=utc)
    id: int | str = field(validator=_tiebreak)


@frozen(kw_only=True)
class Page(Generic[T]):
    """At most ``limit`` rows, newest first, and where the next page starts (a listing read
    oldest first, such as ``TradeRepository.page_oldest_first``, gives its rows oldest first
    and its ``next`` is passed back as ``after``).

    :param items: the rows of this page.
    :param next: the key to pass as ``before`` for the next (older) page; ``None`` when no
        older row matches.
    """

    items: tuple[T, ...]
    next: PageKey | None = None


def check_page_limit(limit: int) -> None:
    """Refuse a page size below 1 (a repository's own bound; services bound it further).

    :raises DomainError: ``limit`` is not a whole number of 1 or more.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise DomainError(f"a page holds 1 row or more, got {limit!r}")


def numbered_key(before: PageKey | None) -> tuple[datetime, int] | None:
    """``before`` as ``(time, row number)``, for the listings tie-broken by row numbers
    (trades, orders).

    :raises DomainError: the key's id is not a row number (a run's key, say).
    """
    if before is None:
        return None
    if not isinstance(before.id, int):
        raise DomainError(f"this page key ends a page of runs, not of numbered rows: {before.id!r}")
    return before.at, before.id
