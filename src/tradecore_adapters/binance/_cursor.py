"""The trade-sync cursor of one Binance account, stored as compact JSON by the repository.

``myTrades`` needs a symbol and pages by trade id (``fromId``, ids are per symbol), so the
cursor keeps, per symbol, the next id to ask for. One sync is a *round*: every known symbol is
asked at least once; symbols whose page came back full stay ``pending`` and are asked again
within the round. The cursor also remembers which held assets were already matched against
which quote assets, so a sync with no new asset needs no ``exchangeInfo``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from attrs import field, frozen

from tradecore.errors import BrokerError
from tradecore_adapters._reported import INT64_MAX
from tradecore_adapters.binance._errors import BROKER

__all__ = ["TradeCursor"]

_VERSION = 1


def _ids(value: Mapping[str, int]) -> dict[str, int]:
    return dict(value)


def _texts(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@frozen(kw_only=True)
class TradeCursor:
    """Where the trade sync of one account stands.

    :param next_ids: per symbol, the first trade id not stored yet (``fromId``).
    :param pending: symbols still to ask within the current round, in order.
    :param assets: held assets already matched against :attr:`quotes`.
    :param quotes: the quote assets the matching used.
    """

    next_ids: dict[str, int] = field(factory=dict, converter=_ids)
    pending: tuple[str, ...] = field(default=(), converter=_texts)
    assets: tuple[str, ...] = field(default=(), converter=_texts)
    quotes: tuple[str, ...] = field(default=(), converter=_texts)

    @classmethod
    def parse(cls, text: str | None) -> TradeCursor:
        """Read a stored cursor (``None``: nothing synced yet).

        :raises BrokerError: the stored text is not a cursor this version wrote.
        """
        if text is None:
            return cls()
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("v") != _VERSION:
                raise ValueError("not a version 1 cursor")
            next_ids = data.get("next", {})
            if not isinstance(next_ids, dict) or not all(
                isinstance(key, str) and type(value) is int for key, value in next_ids.items()
            ):
                raise ValueError("bad 'next'")
            for symbol, value in next_ids.items():
                if not 0 <= value <= INT64_MAX:
                    # A fromId Binance refuses (-1100) or answers with nothing, forever.
                    raise ValueError(
                        f"the next trade id of {symbol} is {value}, outside 0..{INT64_MAX}"
                    )
            lists = [data.get(name, []) for name in ("pending", "assets", "quotes")]
            if not all(isinstance(items, list) for items in lists) or not all(
                isinstance(item, str) for items in lists for item in items
            ):
                raise ValueError("bad lists")
        except ValueError as exc:
            raise BrokerError(
                f"the stored Binance trade cursor is unreadable ({exc}); reset the account's "
                "sync cursor (tradecore sync --reset-cursor ACCOUNT --connection NAME) to read "
                "its trades from the start again; the trades already stored stay",
                broker=BROKER,
            ) from None
        return cls(next_ids=next_ids, pending=lists[0], assets=lists[1], quotes=lists[2])

    def dump(self) -> str:
        """The compact JSON to store."""
        return json.dumps(
            {
                "v": _VERSION,
                "next": dict(sorted(self.next_ids.items())),
                "pending": list(self.pending),
                "assets": sorted(self.assets),
                "quotes": list(self.quotes),
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
