"""What every Saxo mapping shares: endpoint labels, instruments by ``(Uic, AssetType)``, and
numbers read with their sign rule. Fields and the ``AssetType`` enum are those of Saxo's OpenAPI
reference, https://www.developer.saxo/openapi/referencedocs.

Instruments are named by ``DisplayAndFormat.Symbol`` when Saxo sends it (``AAPL:xnas``), else
``"{Uic}:{AssetType}"``; their ``broker_key`` is always ``"{Uic}:{AssetType}"`` (Saxo's key for an
instrument is the pair), read back by :func:`saxo_key`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Context, Decimal
from types import MappingProxyType
from typing import Final, TypeVar

from tradecore.domain import (
    AssetType,
    Instrument,
    Side,
)
from tradecore.errors import (
    DomainError,
)
from tradecore_adapters.saxo._json import (
    identifier,
    integer,
    kind,
    malformed,
    number,
    obj,
    opt_number,
    opt_text,
    text,
)

_T = TypeVar("_T")

_CLIENT: Final = "GET /port/v1/clients/me"
_ACCOUNTS: Final = "GET /port/v1/accounts"
_NET_POSITIONS: Final = "GET /port/v1/netpositions"
_POSITIONS: Final = "GET /port/v1/positions"
_CLOSED_POSITIONS: Final = "GET /port/v1/closedpositions"
_TRADES: Final = "GET /cs/v1/reports/trades"
_INSTRUMENTS: Final = "GET /ref/v1/instruments"
_DETAILS: Final = "GET /ref/v1/instruments/details"
_INFOPRICES: Final = "GET /trade/v1/infoprices"
_PLACE: Final = "POST /trade/v2/orders"
_CANCEL: Final = "DELETE /trade/v2/orders"
_ORDERS: Final = "GET /port/v1/orders"
_ACTIVITIES: Final = "GET /cs/v1/audit/orderactivities"

_ZERO: Final = Decimal(0)
_TWO: Final = Decimal(2)
# Explicit arithmetic context: a mid price must not depend on whatever the caller's thread set.
_ARITHMETIC: Final = Context(prec=28)


# --- instruments --------------------------------------------------------------------------------

SAXO_ASSET_TYPES: Final[Mapping[str, AssetType]] = MappingProxyType(
    {
        "Stock": AssetType.STOCK,
        "Etf": AssetType.ETF,
        "Etc": AssetType.ETF,
        "Etn": AssetType.ETF,
        "Fund": AssetType.FUND,
        "MutualFund": AssetType.FUND,
        "Bond": AssetType.BOND,
        "FxSpot": AssetType.FX,
        "FxForwards": AssetType.FX,
        "FxSwap": AssetType.FX,
        "CfdOnStock": AssetType.CFD,
        "CfdOnIndex": AssetType.CFD,
        "CfdOnFutures": AssetType.CFD,
        "CfdOnEtf": AssetType.CFD,
        "CfdOnEtc": AssetType.CFD,
        "CfdOnEtn": AssetType.CFD,
        "CfdOnFund": AssetType.CFD,
        "CfdOnRights": AssetType.CFD,
        "CfdOnCompanyWarrant": AssetType.CFD,
        "ContractFutures": AssetType.FUTURE,
        "StockOption": AssetType.OPTION,
        "StockIndexOption": AssetType.OPTION,
        "FuturesOption": AssetType.OPTION,
        "CfdIndexOption": AssetType.OPTION,
        "FxVanillaOption": AssetType.OPTION,
        "FxBinaryOption": AssetType.OPTION,
        "FxKnockInOption": AssetType.OPTION,
        "FxKnockOutOption": AssetType.OPTION,
        "FxOneTouchOption": AssetType.OPTION,
        "FxNoTouchOption": AssetType.OPTION,
    }
)
"""Saxo ``AssetType`` → ours (Saxo's reference lists the enum); any other type is
:attr:`AssetType.OTHER`."""

_ASSET_TYPE_TEXT: Final = re.compile(r"[A-Za-z][A-Za-z0-9]*", re.ASCII)
_UIC_TEXT: Final = re.compile(r"[1-9][0-9]{0,18}", re.ASCII)


def asset_type_of(saxo_type: str) -> AssetType:
    """Our :class:`AssetType` of a Saxo ``AssetType``; unknown types are ``OTHER``."""
    return SAXO_ASSET_TYPES.get(saxo_type, AssetType.OTHER)


def instrument(uic: int, saxo_asset_type: str, symbol: str) -> Instrument:
    """The instrument Saxo identifies by ``(Uic, AssetType)``, named ``symbol``.

    Its ``broker_key`` is ``"{uic}:{saxo_asset_type}"``; :func:`saxo_key` reads it back.
    """
    return Instrument(
        symbol=symbol,
        asset_type=asset_type_of(saxo_asset_type),
        broker_key=f"{uic}:{saxo_asset_type}",
    )


def saxo_key(instrument: Instrument) -> tuple[int, str] | None:
    """``(Uic, AssetType)`` from an instrument's ``broker_key`` (prices and orders need both).

    ``None`` when the instrument has no key or one that is not ``"{uic}:{AssetType}"``.
    """
    key = instrument.broker_key
    if not key:
        return None
    uic, separator, asset_type = key.partition(":")
    if not separator or not _UIC_TEXT.fullmatch(uic) or not _ASSET_TYPE_TEXT.fullmatch(asset_type):
        return None
    return int(uic), asset_type


def _uic(m: Mapping[str, object], *, what: str, key: str = "Uic") -> int:
    uic = integer(m, key, what=what)
    if uic <= 0:
        raise malformed(what, f"{key!r} is not a positive number")
    return uic


def _instrument_in(
    m: Mapping[str, object],
    *,
    what: str,
    symbol: str | None,
    uic_key: str = "Uic",
) -> Instrument:
    uic = _uic(m, what=what, key=uic_key)
    asset_type = text(m, "AssetType", what=what)
    return instrument(uic, asset_type, symbol or f"{uic}:{asset_type}")


def _display_symbol(display: Mapping[str, object] | None, *, what: str) -> str | None:
    if display is None:
        return None
    return opt_text(display, "Symbol", what=f"{what} DisplayAndFormat")


def _check_same_instrument(m: Mapping[str, object], wanted: Instrument, *, what: str) -> None:
    """Refuse an answer about another instrument, when both sides say which one."""
    key = saxo_key(wanted)
    if key is None or "Uic" not in m:
        return
    uic = _uic(m, what=what)
    asset_type = opt_text(m, "AssetType", what=what)
    if uic != key[0] or (asset_type is not None and asset_type != key[1]):
        raise malformed(what, f"the answer is about Uic {uic}, not {wanted.broker_key!r}")


# --- numbers with a sign rule -------------------------------------------------------------------


def _non_negative(m: Mapping[str, object], key: str, *, what: str) -> Decimal:
    value = number(m, key, what=what)
    if value < 0:
        raise malformed(what, f"{key!r} is negative")
    return value


def _opt_non_negative(m: Mapping[str, object], key: str, *, what: str) -> Decimal | None:
    value = opt_number(m, key, what=what)
    if value is not None and value < 0:
        raise malformed(what, f"{key!r} is negative")
    return value


def _positive(m: Mapping[str, object], key: str, *, what: str) -> Decimal:
    value = number(m, key, what=what)
    if value <= 0:
        raise malformed(what, f"{key!r} is not greater than zero")
    return value


def _step(m: Mapping[str, object], key: str, *, what: str) -> Decimal | None:
    value = _opt_non_negative(m, key, what=what)
    return value if value else None  # zero or absent: no rule


def _opt_identifier(m: Mapping[str, object], key: str, *, what: str) -> str | None:
    if m.get(key) is None or m.get(key) == "":
        return None
    return identifier(m, key, what=what)


def _each(
    payload_items: Sequence[object],
    what: str,
    build: Callable[[Mapping[str, object], str], _T | None],
) -> list[_T]:
    """``build`` over every item; ``None`` results are left out; a domain rule broken by an item
    becomes :class:`MalformedResponse` naming it."""
    if isinstance(payload_items, str | bytes) or not isinstance(payload_items, Sequence):
        raise malformed(what, f"expected a list of items, got {kind(payload_items)}")
    results: list[_T] = []
    for index, raw in enumerate(payload_items):
        where = f"{what} item {index}"
        item = obj(raw, what=where)
        try:
            result = build(item, where)
        except DomainError as exc:
            raise malformed(where, str(exc)) from None
        if result is not None:
            results.append(result)
    return results


_SIDES: Final = {"Buy": Side.BUY, "Sell": Side.SELL}
_SIDE_TEXT: Final = {Side.BUY: "Buy", Side.SELL: "Sell"}


def _side(m: Mapping[str, object], key: str, *, what: str) -> Side:
    value = text(m, key, what=what)
    side = _SIDES.get(value)
    if side is None:
        raise malformed(what, f"{key!r} is {kind(value)}, not Buy or Sell")
    return side
