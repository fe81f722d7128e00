"""One symbol's part of a Binance trade page: its fills and next ``fromId``, or its refusal.

``myTrades`` and ``userTrades`` are asked per symbol. When the rows of one symbol hold a value
outside its documented range (a trade id past :data:`._mapping.MAX_TRADE_ID`, an amount or time
out of range…), that symbol alone is refused: none of its fills are kept, its next id stays where
it was, and the sentence saying so goes to :attr:`tradecore.domain.TradePage.refused`, while the
other symbols of the page are returned and stored. A failed or unreadable answer is not a
refusal: it fails the whole call, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import field, frozen

from tradecore.domain import Account, Instrument, Trade
from tradecore.errors import MalformedResponse
from tradecore_adapters.binance import _mapping as mapping
from tradecore_adapters.binance._errors import BROKER
from tradecore_adapters.binance._fast_trades import FastRows, fast_trades

__all__ = ["PAGE_LIMIT", "SymbolPage", "next_id", "symbol_page"]

PAGE_LIMIT = 1000
"""Trades per ``myTrades`` page: Binance's maximum."""


@frozen(kw_only=True)
class SymbolPage:
    """One symbol's page.

    :param next_id: the ``fromId`` to ask next (unchanged when refused or empty).
    :param trades: its fills (none when refused).
    :param full: the page was full: more fills wait.
    :param refused: why the page was refused, one sentence naming the symbol; ``None``: kept.
    """

    next_id: int
    trades: list[Trade] = field(factory=list)
    full: bool = False
    refused: str | None = None


def symbol_page(
    rows: object, *, futures: bool, account: Account, instrument: Instrument, from_id: int
) -> SymbolPage:
    """Map the rows of one symbol's page asked from ``from_id``; refuse it when a value is out
    of its range (see the module docstring).

    ``rows`` is the decoded JSON, or :class:`FastRows` from the fast decoder, mapped by
    :func:`._fast_trades.fast_trades` when every value is in its accepted set and by the strict
    reader of :mod:`._mapping` otherwise (which then says what is wrong)."""
    try:
        fast = (
            fast_trades(rows, account=account, instrument=instrument)
            if isinstance(rows, FastRows)
            else None
        )
        if fast is not None:
            trades, highest = fast
            following = _after(highest, instrument.symbol, from_id)
        else:
            if isinstance(rows, FastRows):
                rows = rows.builtins()
            if futures:
                trades = mapping.futures_trades(rows, account=account, instrument=instrument)
            else:
                trades = mapping.spot_trades(rows, account=account, instrument=instrument)
            following = next_id(trades, instrument.symbol, from_id)
    except MalformedResponse as exc:
        return SymbolPage(next_id=from_id, refused=_refusal(instrument.symbol, exc))
    return SymbolPage(trades=trades, next_id=following, full=len(trades) >= PAGE_LIMIT)


def next_id(page: Sequence[Trade], symbol: str, from_id: int) -> int:
    """The ``fromId`` after ``page`` (``from_id`` when it is empty).

    :raises MalformedResponse: an id is out of range, or older than ``from_id``.
    """
    return _after(mapping.max_trade_id(page), symbol, from_id)


def _after(highest: int | None, symbol: str, from_id: int) -> int:
    # The next fromId after a page whose highest id (0..MAX_TRADE_ID) is ``highest``.
    if highest is None:
        return from_id
    if highest < from_id:
        raise MalformedResponse(
            f"Binance returned {symbol} trades older than the requested fromId {from_id}",
            broker=BROKER,
        )
    return highest + 1


def _refusal(symbol: str, exc: MalformedResponse) -> str:
    # What was wrong, what was kept, and the way out (none on our side: Binance sent it).
    return (
        f"{exc}; Binance sent an invalid value, so none of {symbol}'s new trades were "
        "stored and its place in the sync was kept: every sync asks again and stores them once "
        "Binance sends valid data (resetting the cursor does not help); the other symbols were "
        "synced"
    )
