"""Pure functions between Saxo OpenAPI payloads and tradecore's domain types.

Clients and accounts, net positions, position lots and closed positions, the trade report,
instruments and prices, order bodies and the orders Saxo reports back, and error bodies. Value
reading is in :mod:`._json`.

No I/O and no clock: every time comes in as an argument or from the payload. A payload that does
not have the documented shape raises :class:`~tradecore.errors.MalformedResponse` naming the
endpoint, the item and the field; messages never quote a payload, only describe one value.
Unknown extra keys are ignored (Saxo adds field groups and fields over time). Money is Decimal
end to end and times are aware UTC datetimes.

Instruments are named by ``DisplayAndFormat.Symbol`` when Saxo sends it (``AAPL:xnas``), else
``"{Uic}:{AssetType}"``; their ``broker_key`` is always ``"{Uic}:{AssetType}"`` (Saxo's key for an
instrument is the pair), read back by :func:`saxo_key`.

Sections cited (§) are those of ``shared/reference/saxo.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, time
from decimal import Context, Decimal
from types import MappingProxyType
from typing import Final, TypeVar

import attrs
from attrs import frozen

from tradecore.domain import (
    CLIENT_ORDER_ID_MAX_LENGTH,
    Account,
    Asset,
    AssetType,
    Instrument,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
    TimeInForce,
    Trade,
)
from tradecore.errors import (
    BrokerUnavailable,
    DomainError,
    InstrumentNotFound,
    InsufficientFunds,
    OrderOutcomeUnknown,
    OrderRejected,
)
from tradecore_adapters.redaction import redact
from tradecore_adapters.saxo._json import (
    BROKER,
    child,
    day,
    dumps_exact,
    identifier,
    integer,
    kind,
    malformed,
    number,
    obj,
    opt_boolean,
    opt_child,
    opt_number,
    opt_text,
    opt_utc_time,
    text,
    utc_time,
)

__all__ = [
    "BROKER",
    "DURATION_TYPES",
    "SAXO_ASSET_TYPES",
    "ClosedPosition",
    "PositionLot",
    "SaxoClient",
    "SaxoError",
    "accounts_from",
    "activity_order",
    "asset_from",
    "asset_type_of",
    "asset_with_details",
    "cancel_results",
    "client_from",
    "closed_positions_from",
    "error_from",
    "instrument",
    "net_positions_from",
    "open_order_from",
    "order_body",
    "placed_order",
    "position_lots_from",
    "quote_from",
    "saxo_key",
    "trades_from",
]

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


# --- instruments (§4.10, §4.12) -----------------------------------------------------------------

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
"""Saxo ``AssetType`` → ours (§4.12 lists the enum); any other type is :attr:`AssetType.OTHER`."""

_ASSET_TYPE_TEXT: Final = re.compile(r"[A-Za-z][A-Za-z0-9]*", re.ASCII)
_UIC_TEXT: Final = re.compile(r"[1-9][0-9]{0,18}", re.ASCII)


def asset_type_of(saxo_type: str) -> AssetType:
    """Our :class:`AssetType` of a Saxo ``AssetType`` (§4.12); unknown types are ``OTHER``."""
    return SAXO_ASSET_TYPES.get(saxo_type, AssetType.OTHER)


def instrument(uic: int, saxo_asset_type: str, symbol: str) -> Instrument:
    """The instrument Saxo identifies by ``(Uic, AssetType)`` (§4.5, §4.10), named ``symbol``.

    Its ``broker_key`` is ``"{uic}:{saxo_asset_type}"``; :func:`saxo_key` reads it back.
    """
    return Instrument(
        symbol=symbol,
        asset_type=asset_type_of(saxo_asset_type),
        broker_key=f"{uic}:{saxo_asset_type}",
    )


def saxo_key(instrument: Instrument) -> tuple[int, str] | None:
    """``(Uic, AssetType)`` from an instrument's ``broker_key`` (§4.11, §4.12 need both).

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


# --- client and accounts (§4.2, §4.3) -----------------------------------------------------------


@frozen
class SaxoClient:
    """What ``GET /port/v1/clients/me`` says about the logged-in client (§4.2).

    :param client_key: ``ClientKey``, needed by the ``?ClientKey=`` and report endpoints.
    :param default_account_key: ``DefaultAccountKey``, when Saxo sends it.
    :param default_currency: ``DefaultCurrency``.
    :param netting_mode: ``PositionNettingMode`` (``EndOfDay``, ``Intraday``…; §4.14).
    """

    client_key: str
    default_account_key: str | None
    default_currency: str | None
    netting_mode: str | None


def client_from(payload: object) -> SaxoClient:
    """The :class:`SaxoClient` of a ``GET /port/v1/clients/me`` answer (§4.2)."""
    body = obj(payload, what=_CLIENT)
    return SaxoClient(
        client_key=text(body, "ClientKey", what=_CLIENT),
        default_account_key=opt_text(body, "DefaultAccountKey", what=_CLIENT),
        default_currency=opt_text(body, "DefaultCurrency", what=_CLIENT),
        netting_mode=opt_text(body, "PositionNettingMode", what=_CLIENT),
    )


def accounts_from(payload_items: Sequence[object], *, connection_id: str) -> list[Account]:
    """The accounts in ``GET /port/v1/accounts/me`` items (§4.3).

    ``account_id`` is the ``AccountKey`` (what orders need); ``name`` is the human ``AccountId``
    (``192134INET``).

    :raises MalformedResponse: an item lacks a key or id, or an ``AccountKey`` is listed twice.
    """
    seen: set[str] = set()

    def build(item: Mapping[str, object], where: str) -> Account:
        key = text(item, "AccountKey", what=where)
        if key in seen:
            raise malformed(where, "'AccountKey' is listed twice")
        seen.add(key)
        return Account(
            connection_id=connection_id,
            account_id=key,
            name=text(item, "AccountId", what=where),
            currency=opt_text(item, "Currency", what=where),
        )

    return _each(payload_items, _ACCOUNTS, build)


# --- positions (§4.5, §4.6, §4.7, §4.14) --------------------------------------------------------


def net_positions_from(
    payload_items: Sequence[object], *, connection_id: str, account_id: str, as_of: datetime
) -> list[Position]:
    """One :class:`Position` per non-zero net position of ``GET /port/v1/netpositions`` items
    (§4.6, with the ``DisplayAndFormat`` field group of §4.5).

    ``quantity`` is ``NetPositionBase.Amount`` (negative: short); ``average_price`` is
    ``NetPositionView.AverageOpenPrice``, ``market_value`` ``NetPositionView.MarketValue`` and
    ``unrealized_pnl`` ``NetPositionView.ProfitLossOnTrade``, each when sent; ``currency`` is
    ``DisplayAndFormat.Currency``. Net positions with ``Amount`` 0 (squared under end-of-day
    netting, §4.14) are left out.
    """

    def build(item: Mapping[str, object], where: str) -> Position | None:
        base_where = f"{where} NetPositionBase"
        view_where = f"{where} NetPositionView"
        base = child(item, "NetPositionBase", what=where)
        view = opt_child(item, "NetPositionView", what=where)
        display = opt_child(item, "DisplayAndFormat", what=where)
        position_instrument = _instrument_in(
            base, what=base_where, symbol=_display_symbol(display, what=where)
        )
        amount = number(base, "Amount", what=base_where)
        if not amount:
            return None
        return Position(
            connection_id=connection_id,
            account_id=account_id,
            instrument=position_instrument,
            quantity=amount,
            average_price=(
                None
                if view is None
                else _opt_non_negative(view, "AverageOpenPrice", what=view_where)
            ),
            currency=(
                None
                if display is None
                else opt_text(display, "Currency", what=f"{where} DisplayAndFormat")
            ),
            market_value=(
                None if view is None else opt_number(view, "MarketValue", what=view_where)
            ),
            unrealized_pnl=(
                None if view is None else opt_number(view, "ProfitLossOnTrade", what=view_where)
            ),
            as_of=as_of,
        )

    return _each(payload_items, _NET_POSITIONS, build)


@frozen(kw_only=True)
class PositionLot:
    """One position (a lot) of ``GET /port/v1/positions`` (§4.5); lots of an instrument make up
    its net position (§4.14).

    :param position_id: ``PositionId``.
    :param net_position_id: ``NetPositionId`` (opaque: its spelling differs between SIM and docs).
    :param account_id: the human ``PositionBase.AccountId`` (``192134INET``), not the AccountKey.
    :param quantity: ``PositionBase.Amount``; negative is short.
    :param current_price: ``PositionView.CurrentPrice``, when the view was sent.
    :param pnl: ``PositionView.ProfitLossOnTrade``, when the view was sent.
    """

    position_id: str
    net_position_id: str
    account_id: str
    instrument: Instrument
    quantity: Decimal
    open_price: Decimal
    opened_at: datetime
    current_price: Decimal | None = None
    pnl: Decimal | None = None


def position_lots_from(payload_items: Sequence[object]) -> list[PositionLot]:
    """The lots in ``GET /port/v1/positions`` items (§4.5), zero amounts included."""

    def build(item: Mapping[str, object], where: str) -> PositionLot:
        base_where = f"{where} PositionBase"
        view_where = f"{where} PositionView"
        base = child(item, "PositionBase", what=where)
        view = opt_child(item, "PositionView", what=where)
        display = opt_child(item, "DisplayAndFormat", what=where)
        return PositionLot(
            position_id=identifier(item, "PositionId", what=where),
            net_position_id=text(item, "NetPositionId", what=where),
            account_id=text(base, "AccountId", what=base_where),
            instrument=_instrument_in(
                base, what=base_where, symbol=_display_symbol(display, what=where)
            ),
            quantity=number(base, "Amount", what=base_where),
            open_price=_non_negative(base, "OpenPrice", what=base_where),
            opened_at=utc_time(base, "ExecutionTimeOpen", what=base_where),
            current_price=(
                None if view is None else _opt_non_negative(view, "CurrentPrice", what=view_where)
            ),
            pnl=None if view is None else opt_number(view, "ProfitLossOnTrade", what=view_where),
        )

    return _each(payload_items, _POSITIONS, build)


@frozen(kw_only=True)
class ClosedPosition:
    """One closed position of ``GET /port/v1/closedpositions`` (§4.7).

    :param closed_position_id: ``ClosedPositionUniqueId`` (``{OpeningPositionId}-{ClosingPositionId}``),
        the natural key for sync.
    :param account_id: the human ``ClosedPosition.AccountId``.
    :param quantity: the amount closed, positive for a long (``Buy``) position, negative for a
        short (``Sell``) one.
    :param realized_pnl: ``ClosedProfitLoss``, in the instrument's currency.
    """

    closed_position_id: str
    account_id: str
    instrument: Instrument
    quantity: Decimal
    open_price: Decimal
    close_price: Decimal
    opened_at: datetime
    closed_at: datetime
    realized_pnl: Decimal


_SIDES: Final = {"Buy": Side.BUY, "Sell": Side.SELL}
_SIDE_TEXT: Final = {Side.BUY: "Buy", Side.SELL: "Sell"}


def _side(m: Mapping[str, object], key: str, *, what: str) -> Side:
    value = text(m, key, what=what)
    side = _SIDES.get(value)
    if side is None:
        raise malformed(what, f"{key!r} is {kind(value)}, not Buy or Sell")
    return side


def closed_positions_from(payload_items: Sequence[object]) -> list[ClosedPosition]:
    """The closed positions in ``GET /port/v1/closedpositions`` items (§4.7).

    The direction is ``ClosedPosition.BuyOrSell`` (``BuySell`` is read when that is absent);
    ``Amount`` may be sent unsigned or signed (``-100000`` with ``Sell``), but a sign that
    contradicts the direction is malformed.
    """

    def build(item: Mapping[str, object], where: str) -> ClosedPosition:
        closed_where = f"{where} ClosedPosition"
        closed = child(item, "ClosedPosition", what=where)
        display = opt_child(item, "DisplayAndFormat", what=where)
        side_key = "BuyOrSell" if "BuyOrSell" in closed else "BuySell"
        side = _side(closed, side_key, what=closed_where)
        amount = number(closed, "Amount", what=closed_where)
        if not amount:
            raise malformed(closed_where, "'Amount' is zero")
        if side is Side.BUY and amount < 0:
            raise malformed(closed_where, f"'Amount' is negative but {side_key!r} is Buy")
        quantity = amount if side is Side.BUY else -abs(amount)
        return ClosedPosition(
            closed_position_id=text(item, "ClosedPositionUniqueId", what=where),
            account_id=text(closed, "AccountId", what=closed_where),
            instrument=_instrument_in(
                closed, what=closed_where, symbol=_display_symbol(display, what=where)
            ),
            quantity=quantity,
            open_price=_non_negative(closed, "OpenPrice", what=closed_where),
            close_price=_non_negative(closed, "ClosingPrice", what=closed_where),
            opened_at=utc_time(closed, "ExecutionTimeOpen", what=closed_where),
            closed_at=utc_time(closed, "ExecutionTimeClose", what=closed_where),
            realized_pnl=number(closed, "ClosedProfitLoss", what=closed_where),
        )

    return _each(payload_items, _CLOSED_POSITIONS, build)


# --- trades (§4.9) ------------------------------------------------------------------------------

_TRADE_EVENTS: Final = {"Bought": Side.BUY, "Sold": Side.SELL}


def _client_order_id(reference: str | None) -> str | None:
    """Our client order id when an ``ExternalReference`` is one of ours (``tc-…``, ≤ 36 chars)."""
    if reference is None or len(reference) > CLIENT_ORDER_ID_MAX_LENGTH:
        return None
    return reference if reference.startswith("tc-") else None


def trades_from(
    report_items: Sequence[object], *, connection_id: str, account_id: str
) -> list[Trade]:
    """The fills in ``GET /cs/v1/reports/trades/{ClientKey}`` items (§4.9).

    ``broker_trade_id`` is ``TradeId``; ``client_order_id`` is the ``ExternalReference`` when it
    is one of ours (starts ``tc-``, at most 36 characters). The side is ``TradeEventType``
    (``Bought``/``Sold``) or, when that is absent or another value, the sign of ``Amount``
    (negative: sold); the two must agree. ``quantity`` is ``abs(Amount)``. ``executed_at`` is
    ``TradeExecutionTime``, else ``TradeDate`` at 00:00 UTC. The report carries no commission in
    the reference; when a ``Commission`` field is present, ``fee`` is its absolute value in
    ``AccountCurrency``, else 0 with no fee asset.
    """

    def build(item: Mapping[str, object], where: str) -> Trade:
        amount = number(item, "Amount", what=where)
        if not amount:
            raise malformed(where, "'Amount' is zero")
        by_sign = Side.BUY if amount > 0 else Side.SELL
        event = item.get("TradeEventType")
        if event is not None and not isinstance(event, str):
            raise malformed(where, f"'TradeEventType' is {kind(event)}, not a string")
        by_event = _TRADE_EVENTS.get(event) if event is not None else None
        if by_event is not None and by_event is not by_sign:
            raise malformed(where, "'TradeEventType' contradicts the sign of 'Amount'")
        price = _non_negative(item, "Price", what=where)
        executed_at = opt_utc_time(item, "TradeExecutionTime", what=where)
        if executed_at is None:
            executed_at = datetime.combine(day(item, "TradeDate", what=where), time(0), UTC)
        fee, fee_asset = _ZERO, None
        if item.get("Commission") is not None:
            fee = abs(number(item, "Commission", what=where))
            fee_asset = opt_text(item, "AccountCurrency", what=where)
        return Trade(
            connection_id=connection_id,
            account_id=account_id,
            broker_trade_id=identifier(item, "TradeId", what=where),
            broker_order_id=_opt_identifier(item, "OrderId", what=where),
            client_order_id=_client_order_id(opt_text(item, "ExternalReference", what=where)),
            instrument=_instrument_in(
                item, what=where, symbol=opt_text(item, "InstrumentSymbol", what=where)
            ),
            side=by_sign,
            quantity=abs(amount),
            price=price,
            fee=fee,
            fee_asset=fee_asset,
            executed_at=executed_at,
        )

    return _each(report_items, _TRADES, build)


# --- reference data and prices (§4.10, §4.11) ---------------------------------------------------


def asset_from(item: object) -> Asset:
    """The :class:`Asset` of one ``GET /ref/v1/instruments`` search item (§4.10).

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
    """``asset`` with the trading rules of ``GET /ref/v1/instruments/details/{Uic}/{AssetType}``
    (§4.10): ``TickSize`` → ``price_step``, ``LotSize`` → ``quantity_step``, ``MinimumTradeSize`` →
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
    """The :class:`Quote` of a ``GET /trade/v1/infoprices`` answer with the ``Quote`` group (§4.11).

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


# --- orders (§4.8, §4.9, §4.12, §4.13) ----------------------------------------------------------

DURATION_TYPES: Final[Mapping[TimeInForce, str]] = MappingProxyType(
    {
        TimeInForce.GTC: "GoodTillCancel",
        TimeInForce.DAY: "DayOrder",
        TimeInForce.IOC: "ImmediateOrCancel",
        TimeInForce.FOK: "FillOrKill",
    }
)
"""Our time in force → Saxo ``OrderDuration.DurationType`` (§4.12)."""

_TIMES_IN_FORCE: Final = {saxo: ours for ours, saxo in DURATION_TYPES.items()}
_ORDER_TYPES: Final = {"Market": OrderType.MARKET, "Limit": OrderType.LIMIT}
_ORDER_TYPE_TEXT: Final = {OrderType.MARKET: "Market", OrderType.LIMIT: "Limit"}

# ErrorInfo codes after which the order may exist (§6.5): look it up, never resend.
_OUTCOME_UNKNOWN_CODES: Final = frozenset(
    {"TradeNotCompleted", "OrderCommandTimeout", "OrderCommandPending"}
)
_NO_FUNDS_CODES: Final = frozenset({"InsufficientCash", "WouldExceedMargin"})

_ACTIVITY_STATUSES: Final = {
    "Placed": OrderStatus.OPEN,
    "Working": OrderStatus.OPEN,
    "Changed": OrderStatus.OPEN,
    "Fill": OrderStatus.PARTIALLY_FILLED,
    "FinalFill": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "Expired": OrderStatus.EXPIRED,
    "DoneForDay": OrderStatus.EXPIRED,
}


def order_body(request: OrderRequest, *, account_key: str, uic: int, asset_type: str) -> bytes:
    """The JSON body of ``POST /trade/v2/orders`` for ``request`` (§4.12), exact Decimals.

    ``ManualOrder`` is ``false`` (tradecore places orders automatically) and ``ExternalReference``
    is the client order id. Saxo takes no GoodTillCancel market order, so a market order with
    GTC (our default) is sent as ``DayOrder``; IOC, FOK and DAY are sent as they are.
    """
    duration = DURATION_TYPES[request.time_in_force]
    is_limit = request.order_type is OrderType.LIMIT
    if not is_limit and request.time_in_force is TimeInForce.GTC:
        duration = DURATION_TYPES[TimeInForce.DAY]
    body: dict[str, object] = {
        "AccountKey": account_key,
        "Uic": uic,
        "AssetType": asset_type,
        "BuySell": _SIDE_TEXT[request.side],
        "Amount": request.quantity,
        "OrderType": _ORDER_TYPE_TEXT[request.order_type],
    }
    if is_limit:
        body["OrderPrice"] = request.limit_price
    body["OrderDuration"] = {"DurationType": duration}
    body["ManualOrder"] = False
    body["ExternalReference"] = request.client_order_id
    return dumps_exact(body)


def placed_order(payload: object, *, request: OrderRequest, now: datetime) -> Order:
    """The order a 2xx ``POST /trade/v2/orders`` answer says was placed (§4.12).

    ``{"OrderId": …}`` without ``ErrorInfo`` is an open order created ``now``.

    :raises OrderOutcomeUnknown: no ``OrderId``; an ``ErrorInfo`` with ``TradeNotCompleted``,
        ``OrderCommandTimeout`` or ``OrderCommandPending`` (§6.5); an ``OrderId`` together with
        an ``ErrorInfo``; an echoed ``ExternalReference`` that is not the request's; or an answer
        that cannot be read at all. The order may exist: look it up, never resend.
    :raises InsufficientFunds: ``ErrorInfo`` ``InsufficientCash`` or ``WouldExceedMargin``
        without an ``OrderId``.
    :raises OrderRejected: any other ``ErrorInfo`` without an ``OrderId``.
    """
    client_order_id = request.client_order_id

    def unknown(detail: str, code: str | None = None) -> OrderOutcomeUnknown:
        return OrderOutcomeUnknown(
            f"Saxo {_PLACE}: {detail}; the order may have been placed: it will be looked up by "
            f"its ExternalReference {client_order_id}, never sent again",
            broker=BROKER,
            code=code,
            client_order_id=client_order_id,
        )

    if not isinstance(payload, dict):
        raise unknown(f"the answer is {kind(payload)}, not an object")
    raw_id = payload.get("OrderId")
    order_id: str | None = None
    if type(raw_id) is int or (isinstance(raw_id, str) and raw_id.strip()):
        order_id = str(raw_id)
    elif raw_id is not None:
        raise unknown(f"'OrderId' is {kind(raw_id)}")
    error_info = payload.get("ErrorInfo")
    if error_info is not None:
        if not isinstance(error_info, dict):
            raise unknown(f"'ErrorInfo' is {kind(error_info)}")
        raw_code = error_info.get("ErrorCode")
        code = raw_code[:60] if isinstance(raw_code, str) and raw_code else None
        raw_message = error_info.get("Message")
        message = _clean(raw_message) if isinstance(raw_message, str) else ""
        said = f"{code}: {message}" if message else str(code)
        if code is None or code in _OUTCOME_UNKNOWN_CODES or order_id is not None:
            raise unknown(f"Saxo said {said}", code)
        error = InsufficientFunds if code in _NO_FUNDS_CODES else OrderRejected
        raise error(f"Saxo refused order {client_order_id}: {said}", broker=BROKER, code=code)
    if order_id is None:
        raise unknown("the answer has no 'OrderId'")
    echoed = payload.get("ExternalReference")
    if echoed is not None and echoed != client_order_id:
        raise unknown(f"the answer's 'ExternalReference' is {kind(echoed)}, not the request's")
    return Order(
        request=request,
        status=OrderStatus.OPEN,
        broker_order_id=order_id,
        created_at=now,
    )


def _order_type(m: Mapping[str, object], key: str, *, what: str) -> OrderType:
    value = text(m, key, what=what)
    order_type = _ORDER_TYPES.get(value)
    if order_type is None:
        raise malformed(
            what, f"{key!r} is {kind(value)}: unsupported order type (only Market and Limit)"
        )
    return order_type


def _time_in_force(m: Mapping[str, object], *, what: str) -> TimeInForce:
    duration = child(m, "Duration", what=what)
    value = text(duration, "DurationType", what=f"{what} Duration")
    time_in_force = _TIMES_IN_FORCE.get(value)
    if time_in_force is None:
        raise malformed(
            f"{what} Duration",
            f"'DurationType' is {kind(value)}: unsupported duration "
            "(only GoodTillCancel, DayOrder, ImmediateOrCancel and FillOrKill)",
        )
    return time_in_force


def _reference(m: Mapping[str, object], *, what: str) -> str:
    reference = text(m, "ExternalReference", what=what)
    if len(reference) > CLIENT_ORDER_ID_MAX_LENGTH:
        raise malformed(
            what,
            f"'ExternalReference' is longer than {CLIENT_ORDER_ID_MAX_LENGTH} characters "
            "(not a tradecore client order id)",
        )
    return reference


def _rebuilt_request(
    m: Mapping[str, object],
    *,
    what: str,
    connection_id: str,
    account_id: str,
    type_key: str,
    time_in_force: TimeInForce,
) -> OrderRequest:
    display = opt_child(m, "DisplayAndFormat", what=what)
    order_type = _order_type(m, type_key, what=what)
    return OrderRequest(
        connection_id=connection_id,
        account_id=account_id,
        client_order_id=_reference(m, what=what),
        instrument=_instrument_in(m, what=what, symbol=_display_symbol(display, what=what)),
        side=_side(m, "BuySell", what=what),
        order_type=order_type,
        quantity=_positive(m, "Amount", what=what),
        limit_price=(_positive(m, "Price", what=what) if order_type is OrderType.LIMIT else None),
        time_in_force=time_in_force,
    )


def _filled(m: Mapping[str, object], key: str, *, what: str) -> Decimal | None:
    return _opt_non_negative(m, key, what=what)


def open_order_from(item: object, *, connection_id: str) -> Order:
    """The open order of one ``GET /port/v1/orders`` item (§4.8).

    The request is rebuilt from the item: ``account_id`` is its ``AccountKey``, the client order
    id its ``ExternalReference`` (required), the order type ``OpenOrderType`` (``Market`` or
    ``Limit`` only), the limit price ``Price``, the time in force ``Duration.DurationType``. The
    status is ``OPEN``, or ``PARTIALLY_FILLED`` when ``FilledAmount`` > 0; ``created_at`` is
    ``OrderTime``.
    """
    what = f"{_ORDERS} item"
    body = obj(item, what=what)
    try:
        request = _rebuilt_request(
            body,
            what=what,
            connection_id=connection_id,
            account_id=text(body, "AccountKey", what=what),
            type_key="OpenOrderType",
            time_in_force=_time_in_force(body, what=what),
        )
        filled = _filled(body, "FilledAmount", what=what) or _ZERO
        return Order(
            request=request,
            status=OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.OPEN,
            broker_order_id=identifier(body, "OrderId", what=what),
            filled_quantity=filled,
            created_at=utc_time(body, "OrderTime", what=what),
        )
    except DomainError as exc:
        raise malformed(what, str(exc)) from None


def activity_order(item: object, *, connection_id: str, account_id: str) -> Order:
    """The order as one ``GET /cs/v1/audit/orderactivities`` entry (``EntryType=Last``) last saw
    it (§4.9).

    ``Status`` ``Placed``/``Working``/``Changed`` → ``OPEN`` (``PARTIALLY_FILLED`` when
    ``FilledAmount`` > 0), ``Fill`` → ``PARTIALLY_FILLED``, ``FinalFill`` → ``FILLED`` (filled
    ``FilledAmount``, else ``Amount``), ``Cancelled`` → ``CANCELED``, ``Expired``/``DoneForDay``
    → ``EXPIRED``. ``filled_quantity`` is ``FilledAmount`` (``FillAmount`` when only that is
    sent); ``average_fill_price`` is ``AveragePrice`` once something filled. The order type is
    ``OrderType`` (``OpenOrderType`` when absent); an entry without ``Duration`` is taken as a
    DayOrder for a market order and GoodTillCancel for a limit order (what :func:`order_body`
    sends). ``created_at`` and ``updated_at`` are ``ActivityTime``.
    """
    what = f"{_ACTIVITIES} item"
    body = obj(item, what=what)
    try:
        status_text = text(body, "Status", what=what)
        status = _ACTIVITY_STATUSES.get(status_text)
        if status is None:
            raise malformed(what, f"'Status' is {kind(status_text)}, not a known order activity")
        type_key = "OrderType" if "OrderType" in body else "OpenOrderType"
        if body.get("Duration") is not None:
            time_in_force = _time_in_force(body, what=what)
        elif _order_type(body, type_key, what=what) is OrderType.MARKET:
            time_in_force = TimeInForce.DAY
        else:
            time_in_force = TimeInForce.GTC
        request = _rebuilt_request(
            body,
            what=what,
            connection_id=connection_id,
            account_id=account_id,
            type_key=type_key,
            time_in_force=time_in_force,
        )
        filled = _filled(body, "FilledAmount", what=what)
        if filled is None:
            filled = _filled(body, "FillAmount", what=what)
        if status is OrderStatus.FILLED and filled is None:
            filled = request.quantity
        filled = filled or _ZERO
        if status is OrderStatus.OPEN and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        average = _opt_non_negative(body, "AveragePrice", what=what) if filled > 0 else None
        at = utc_time(body, "ActivityTime", what=what)
        return Order(
            request=request,
            status=status,
            broker_order_id=identifier(body, "OrderId", what=what),
            filled_quantity=filled,
            average_fill_price=average,
            created_at=at,
            updated_at=at,
        )
    except DomainError as exc:
        raise malformed(what, str(exc)) from None


def cancel_results(payload: object) -> dict[str, str | None]:
    """``{OrderId: ErrorCode}`` of a ``DELETE /trade/v2/orders/{OrderIds}`` answer
    ``{"Orders": [...]}`` (§4.13); the code is ``None`` for an order Saxo cancelled.

    :raises MalformedResponse: no ``Orders`` list, an entry without ``OrderId``, or an
        ``ErrorInfo`` without ``ErrorCode``.
    """
    what = _CANCEL
    body = obj(payload, what=what)
    if "Orders" not in body:
        raise malformed(what, "'Orders' is missing")
    entries = body["Orders"]
    if not isinstance(entries, list):
        raise malformed(what, f"'Orders' is {kind(entries)}, not a list")
    results: dict[str, str | None] = {}
    for index, raw in enumerate(entries):
        where = f"{what} order {index}"
        entry = obj(raw, what=where)
        error_info = opt_child(entry, "ErrorInfo", what=where)
        results[identifier(entry, "OrderId", what=where)] = (
            None if error_info is None else text(error_info, "ErrorCode", what=f"{where} ErrorInfo")
        )
    return results


# --- errors (§7, §2.9) --------------------------------------------------------------------------

_MAX_MESSAGE: Final = 300
_MAX_CODE: Final = 80
_MAX_FIELDS: Final = 3
_WHITESPACE: Final = re.compile(r"\s+")
# Long runs of key/token characters with both letters and digits (JWTs, keys, refresh tokens).
_TOKEN_LIKE: Final = re.compile(r"[A-Za-z0-9+/=_\-.~|]{20,}")
_MASK: Final = "[redacted]"


def _mask_token(match: re.Match[str]) -> str:
    run = match.group(0)
    has_digit = any(c.isdigit() for c in run)
    has_letter = any(c.isalpha() for c in run)
    return _MASK if has_digit and has_letter else run


def _clean(message: str, limit: int = _MAX_MESSAGE) -> str:
    """One line, no token-like text, at most ``limit`` characters."""
    flat = _WHITESPACE.sub(" ", message).strip()
    flat = _TOKEN_LIKE.sub(_mask_token, redact(flat))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@frozen
class SaxoError:
    """What a Saxo error answer said (§7).

    :param status: the HTTP status.
    :param code: Saxo's ``ErrorCode`` (or OAuth ``error``), when the body had one.
    :param message: the message in words: one line, at most 300 characters, no token-like text;
        never the raw body.
    """

    status: int
    code: str | None
    message: str


def _model_state(value: object) -> str:
    if not isinstance(value, dict):
        return ""
    parts: list[str] = []
    for field_name, problems in list(value.items())[:_MAX_FIELDS]:
        first = problems[0] if isinstance(problems, list) and problems else problems
        parts.append(f"{field_name}: {first}" if isinstance(first, str) else str(field_name))
    if len(value) > _MAX_FIELDS:
        parts.append(f"and {len(value) - _MAX_FIELDS} more")
    return "; ".join(parts)


def _error_source(body: Mapping[str, object]) -> tuple[object, object]:
    """``(code, message)`` from the first shape of §7 / §2.9 the body has."""
    info = body.get("ErrorInfo")
    if isinstance(info, dict) and info.get("ErrorCode") is not None:
        return info.get("ErrorCode"), info.get("Message")
    if body.get("ErrorCode") is not None:
        return body.get("ErrorCode"), body.get("Message")
    if body.get("error") is not None:
        return body.get("error"), body.get("error_description")
    orders = body.get("Orders")
    if isinstance(orders, list):
        for entry in orders:
            leg = entry.get("ErrorInfo") if isinstance(entry, dict) else None
            if isinstance(leg, dict) and leg.get("ErrorCode") is not None:
                return leg.get("ErrorCode"), leg.get("Message")
    return None, body.get("Message")


def error_from(status: int, content: bytes) -> SaxoError:
    """The :class:`SaxoError` of an error answer (§7; token endpoint §2.9). Never raises.

    Reads ``{"ErrorCode", "Message", "ModelState"?}``, ``{"ErrorInfo": {...}}``, per-order
    ``{"Orders": [{"ErrorInfo": {...}}]}`` and OAuth ``{"error", "error_description"}``; the first
    few ``ModelState`` messages are appended. An empty, HTML or other non-JSON body (a 401 has
    none; a wrong URL answers an HTML 404 page) gives ``code`` ``None`` and ``"HTTP 404 with no
    JSON body"``.
    """
    try:
        body = json.loads(content, parse_float=Decimal, parse_constant=Decimal)
    except (ValueError, RecursionError, TypeError):
        return SaxoError(status, None, f"HTTP {status} with no JSON body")
    if not isinstance(body, dict):
        return SaxoError(status, None, f"HTTP {status} with an unrecognised JSON body")
    raw_code, raw_message = _error_source(body)
    code = _clean(raw_code, _MAX_CODE) if isinstance(raw_code, str) and raw_code.strip() else None
    message = raw_message if isinstance(raw_message, str) and raw_message.strip() else ""
    details = _model_state(body.get("ModelState"))
    if details:
        message = f"{message} ({details})" if message else details
    if not message:
        message = (
            f"HTTP {status} {code}"
            if code is not None
            else f"HTTP {status} with an unrecognised JSON body"
        )
    return SaxoError(status, code, _clean(message))
