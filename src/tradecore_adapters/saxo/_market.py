"""Instruments and prices: ``/ref/v1/instruments`` items and details as :class:`Asset`, and
``/trade/v1/infoprices`` as a :class:`Quote`, with the fields of Saxo's OpenAPI reference
(https://www.developer.saxo/openapi/referencedocs). Pure functions; see :mod:`._mapping` for the
conventions.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Final

import attrs

from tradecore.domain import (
    Asset,
    Instrument,
    Quote,
)
from tradecore.errors import (
    BrokerUnavailable,
    DomainError,
    InstrumentNotFound,
)
from tradecore_adapters.saxo._fields import (
    _ARITHMETIC,
    _DETAILS,
    _INFOPRICES,
    _INSTRUMENTS,
    _TWO,
    _check_same_instrument,
    _instrument_in,
    _opt_non_negative,
    _step,
)
from tradecore_adapters.saxo._json import (
    BROKER,
    child,
    kind,
    malformed,
    obj,
    opt_boolean,
    opt_child,
    opt_text,
    opt_utc_time,
    text,
)

# --- reference data and prices ------------------------------------------------------------------


def asset_from(item: object) -> Asset:
    """The :class:`Asset` of one ``GET /ref/v1/instruments`` search item.

    ``Identifier`` is the Uic; ``tradable`` is ``True`` unless ``TradableAs`` is an empty list.

    :raises MalformedResponse: the item lacks a field, or it is not an instrument summary
        (``SummaryType`` other than ``Instrument``, e.g. an option root, whose ``Identifier`` is
        no Uic).
    """
    what = f"{_INSTRUMENTS} item"
    body = obj(item, what=what)
    summary = opt_text(body, "SummaryType", what=what)
    if summary is not None and summary != "Instrument":
        raise malformed(what, f"'SummaryType' is {kind(summary)}, not Instrument")
    tradable_as = body.get("TradableAs")
    if tradable_as is not None and not isinstance(tradable_as, list):
        raise malformed(what, f"'TradableAs' is {kind(tradable_as)}, not a list")
    try:
        return Asset(
            instrument=_instrument_in(
                body, what=what, symbol=text(body, "Symbol", what=what), uic_key="Identifier"
            ),
            description=opt_text(body, "Description", what=what) or "",
            currency=opt_text(body, "CurrencyCode", what=what),
            tradable=tradable_as is None or len(tradable_as) > 0,
        )
    except DomainError as exc:
        raise malformed(what, str(exc)) from None


def asset_with_details(asset: Asset, details: object) -> Asset:
    """``asset`` with the trading rules of ``GET /ref/v1/instruments/details/{Uic}/{AssetType}``:
    ``TickSize`` → ``price_step``, ``LotSize`` → ``quantity_step``, ``MinimumTradeSize`` →
    ``min_quantity``, ``IsTradable`` → ``tradable``. Absent fields keep the asset's values; a
    zero step means no rule (``None``).

    :raises MalformedResponse: a field is ill-typed or negative, or the details are about another
        instrument.
    """
    what = _DETAILS
    body = obj(details, what=what)
    _check_same_instrument(body, asset.instrument, what=what)
    tradable = opt_boolean(body, "IsTradable", what=what)

    def rule(key: str, current: Decimal | None) -> Decimal | None:
        return current if body.get(key) is None else _step(body, key, what=what)

    try:
        return attrs.evolve(
            asset,
            price_step=rule("TickSize", asset.price_step),
            quantity_step=rule("LotSize", asset.quantity_step),
            min_quantity=rule("MinimumTradeSize", asset.min_quantity),
            tradable=asset.tradable if tradable is None else tradable,
            currency=asset.currency or opt_text(body, "CurrencyCode", what=what),
        )
    except DomainError as exc:
        raise malformed(what, str(exc)) from None


_NO_SUCH_INSTRUMENT: Final = frozenset(
    {"InvalidUic", "InstrumentNotAllowed", "NoAccess", "IllegalInstrumentId"}
)


def quote_from(payload: object, *, instrument: Instrument, received_at: datetime) -> Quote:
    """The :class:`Quote` of a ``GET /trade/v1/infoprices`` answer with the ``Quote`` group.

    ``bid``/``ask`` are ``Quote.Bid``/``Quote.Ask``; ``last`` is ``Quote.Mid``, else the middle of
    bid and ask, else the one side sent. ``as_of`` is ``LastUpdated``, else ``received_at``;
    ``currency`` is ``DisplayAndFormat.Currency`` when sent, else the instrument's quote currency.

    :raises InstrumentNotFound: ``Quote.ErrorCode`` is ``InvalidUic``, ``InstrumentNotAllowed``,
        ``NoAccess`` or ``IllegalInstrumentId``.
    :raises BrokerUnavailable: another ``Quote.ErrorCode`` than ``None`` (no price now).
    :raises MalformedResponse: no price and no error code, a negative price, or an answer about
        another instrument.
    """
    what = _INFOPRICES
    body = obj(payload, what=what)
    _check_same_instrument(body, instrument, what=what)
    quote_where = f"{what} Quote"
    prices = child(body, "Quote", what=what)
    code = opt_text(prices, "ErrorCode", what=quote_where)
    if code is not None and code != "None":
        shown = code[:60]
        if code in _NO_SUCH_INSTRUMENT:
            raise InstrumentNotFound(
                f"Saxo has no price for {instrument.symbol}: {shown}", broker=BROKER, code=shown
            )
        raise BrokerUnavailable(
            f"Saxo has no price for {instrument.symbol} now: {shown}", broker=BROKER, code=shown
        )
    bid = _opt_non_negative(prices, "Bid", what=quote_where)
    ask = _opt_non_negative(prices, "Ask", what=quote_where)
    mid = _opt_non_negative(prices, "Mid", what=quote_where)
    if mid is not None:
        last = mid
    elif bid is not None and ask is not None:
        last = _ARITHMETIC.divide(_ARITHMETIC.add(bid, ask), _TWO)
    elif bid is not None:
        last = bid
    elif ask is not None:
        last = ask
    else:
        raise malformed(quote_where, "there is no 'Bid', 'Ask' or 'Mid' and no 'ErrorCode'")
    display = opt_child(body, "DisplayAndFormat", what=what)
    currency = (
        None if display is None else opt_text(display, "Currency", what=f"{what} DisplayAndFormat")
    )
    as_of = opt_utc_time(body, "LastUpdated", what=what) or received_at
    return Quote(
        instrument=instrument,
        last=last,
        bid=bid,
        ask=ask,
        currency=currency or instrument.quote,
        as_of=as_of,
    )
