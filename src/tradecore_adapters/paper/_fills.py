"""Listing the paper venue's log of fills, a page at a time."""

from __future__ import annotations

from collections.abc import Callable

from tradecore.ports import VenueSnapshot
from tradecore_adapters.paper._client import PaperVenue, VenueFill, VenuePage
from tradecore_adapters.paper._state import load_fill

__all__ = ["PAGE_SIZE", "read_page"]

PAGE_SIZE = 500
"""The most fills one ``get_trades`` call returns."""


async def read_page(venue: PaperVenue, source: VenueSnapshot, cursor: str | None) -> VenuePage:
    """The page of fills after ``cursor``, read from ``source`` (which holds every fill of
    ``venue``)."""
    start = venue.read_cursor(cursor)
    fills, last, has_more = await _read_fills(source, start.after, start.skips)
    return venue.page(start, fills, last, has_more)


async def _read_fills(
    source: VenueSnapshot, after: int, seen: Callable[[VenueFill], bool]
) -> tuple[list[VenueFill], int, bool]:
    # Up to PAGE_SIZE fills of the log after number `after`, leaving out those `seen`; the number
    # of the last fill gone through, and whether more are left.
    fills: list[VenueFill] = []
    last = after
    while True:
        batch = await source.entries(after=last, limit=PAGE_SIZE + 1)
        for entry in batch:
            fill = load_fill(entry.text)
            if seen(fill):
                last = entry.seq
                continue
            if len(fills) == PAGE_SIZE:
                return fills, last, True
            fills.append(fill)
            last = entry.seq
        if len(batch) <= PAGE_SIZE:
            return fills, last, False
