"""Reading a :class:`~tradecore.ports.StrategyContext` the way both built-in strategies need:
which price to pay, what is held of a symbol, and which instrument an order names.

Brokers name holdings differently. The paper broker (and Saxo) hold ``BTC-USD`` as a position
named ``BTC-USD``; Binance spot holds balances per asset, so ``BTCUSDT`` is held as a position
named ``BTC`` and its quote currency as ``USDT``. :func:`holding` finds either.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from tradecore.domain import AssetType, Instrument, Position, Quote
from tradecore.ports import StrategyContext

__all__ = [
    "base_asset",
    "buy_price",
    "holding",
    "order_instrument",
    "quote_currency",
    "sell_price",
]

# Holdings of these kinds are never what a spot strategy buys or sells (a Binance futures
# position is named like the spot pair, BTCUSDT).
_DERIVATIVES = frozenset({AssetType.FUTURE, AssetType.OPTION, AssetType.CFD})
_SEPARATORS = "-/_:"


def buy_price(quote: Quote) -> Decimal | None:
    """What a buy pays: the ask when the quote has one, else the last price; ``None`` for no
    usable price (zero)."""
    price = quote.ask if quote.ask else quote.last
    return price if price > 0 else None


def sell_price(quote: Quote) -> Decimal | None:
    """What a sell receives: the bid when the quote has one, else the last price; ``None`` for no
    usable price (zero)."""
    price = quote.bid if quote.bid else quote.last
    return price if price > 0 else None


def _spot(positions: Iterable[Position]) -> list[Position]:
    return [p for p in positions if p.instrument.asset_type not in _DERIVATIVES]


def base_asset(symbol: str, quote: Quote | None, cash: str | None) -> str | None:
    """The asset ``symbol`` buys (``BTC`` for ``BTCUSDT`` or ``BTC-USD``), when it can be told:
    from the quote's instrument, else by taking the quote currency ``cash`` off the symbol's end."""
    if quote is not None and quote.instrument.base:
        return quote.instrument.base
    if cash and len(symbol) > len(cash) and symbol.upper().endswith(cash.upper()):
        base = symbol[: -len(cash)].rstrip(_SEPARATORS)
        return base or None
    return None


def holding(positions: Iterable[Position], symbol: str, base: str | None = None) -> Position | None:
    """The spot position holding ``symbol``: the one named ``symbol``, else the balance of its
    ``base`` asset (Binance). Derivative positions are never a holding."""
    candidates = _spot(positions)
    named = next((p for p in candidates if p.instrument.symbol == symbol), None)
    if named is not None or not base:
        return named
    return next((p for p in candidates if p.instrument.symbol == base), None)


def order_instrument(context: StrategyContext, symbol: str) -> Instrument:
    """The instrument an order of ``symbol`` names: a held position's own (it carries the base,
    quote and asset type), else the quote's, else a bare ``Instrument(symbol=...)``."""
    position = next((p for p in _spot(context.positions) if p.instrument.symbol == symbol), None)
    if position is not None:
        return position.instrument
    quote = context.prices.get(symbol)
    if quote is not None and quote.instrument.symbol == symbol:
        return quote.instrument
    return Instrument(symbol=symbol)


def quote_currency(context: StrategyContext, symbol: str) -> str | None:
    """The currency ``symbol`` is priced in, when anything says: its instrument or quote, else a
    held asset whose name ends the symbol (``USDT`` of ``BTCUSDT`` on Binance, ``USD`` of
    ``BTC-USD`` on the paper broker, where the cash is a position named ``USD``)."""
    instrument = order_instrument(context, symbol)
    if instrument.quote:
        return instrument.quote
    quote = context.prices.get(symbol)
    if quote is not None and (quote.currency or quote.instrument.quote):
        return quote.currency or quote.instrument.quote
    held = sorted(
        {
            p.instrument.symbol
            for p in _spot(context.positions)
            if len(symbol) > len(p.instrument.symbol) and symbol.endswith(p.instrument.symbol)
        },
        key=lambda name: (len(name), name),
    )
    return held[-1] if held else None
