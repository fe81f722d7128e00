"""The trade-sync cursor of a Saxo account, as the JSON text tradecore stores.

Saxo's trade report (``/cs/v1/reports/trades``, https://www.developer.saxo/openapi/learn/reports)
is filled once a day, at the end of a processing cycle: a fill shows up the next day, and the last
day or two may still grow. So a sync asks again from the first day that may still change, and the
cursor remembers which trade ids of those days were already returned, so none is returned twice::

    {"v": 1, "from": "2026-11-20", "seen": ["5012", "5013"]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

from attrs import field, frozen

from tradecore.errors import MalformedResponse
from tradecore_adapters._reported import EARLIEST, LATEST

__all__ = ["CURSOR_VERSION", "TradeCursor"]

CURSOR_VERSION = 1


def _ids(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@frozen(kw_only=True)
class TradeCursor:
    """Where the next report request starts, and the trade ids already returned from then on."""

    start: date
    seen: frozenset[str] = field(factory=frozenset, converter=_ids)

    def to_text(self) -> str:
        """The stored form."""
        return json.dumps(
            {"v": CURSOR_VERSION, "from": self.start.isoformat(), "seen": sorted(self.seen)},
            separators=(",", ":"),
        )

    @classmethod
    def from_text(cls, text: str) -> TradeCursor:
        """Read a stored cursor.

        :raises MalformedResponse: the text is not a cursor this adapter wrote.
        """
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict) or raw.get("v") != CURSOR_VERSION:
                raise ValueError("version")
            seen = raw.get("seen", [])
            if not isinstance(seen, list) or not all(isinstance(i, str) for i in seen):
                raise ValueError("seen")
            start = date.fromisoformat(raw["from"])
            if not EARLIEST.date() <= start < LATEST.date():
                raise ValueError("from")  # a report request Saxo would refuse, every time
            return cls(start=start, seen=seen)
        except (ValueError, KeyError, TypeError):
            raise MalformedResponse(
                "the stored Saxo trade cursor is unreadable; reset the account's sync cursor "
                "(tradecore sync --reset-cursor ACCOUNT_KEY --connection NAME) to read its "
                "trades from the start again; the trades already stored stay",
                broker="saxo",
            ) from None
