"""Pure functions between Saxo OpenAPI payloads and tradecore's domain types.

Clients and accounts, net positions, position lots and closed positions, and the trade report
live here; instruments and prices in :mod:`._market`, orders in :mod:`._order_mapping`, error
bodies in :mod:`._error_body` and the shared instrument and number rules in :mod:`._fields`, all
re-exported here. Value reading is in :mod:`._json`.

No I/O and no clock: every time comes in as an argument or from the payload. A payload that does
not have the documented shape raises :class:`~tradecore.errors.MalformedResponse` naming the
endpoint, the item and the field; messages never quote a payload, only describe one value.
Unknown extra keys are ignored (Saxo adds field groups and fields over time). Money is Decimal
end to end and times are aware UTC datetimes.

Instruments are named by ``DisplayAndFormat.Symbol`` when Saxo sends it (``AAPL:xnas``), else
``"{Uic}:{AssetType}"``; their ``broker_key`` is always ``"{Uic}:{AssetType}"`` (Saxo's key for an
instrument is the pair), read back by :func:`saxo_key`.

Endpoints, fields and enums are those of Saxo's OpenAPI reference,
https://www.developer.saxo/openapi/referencedocs (by service group and path). Netting modes:
https://www.developer.saxo/openapi/learn/real-time-vs-eod-netting; the trade report:
https://www.developer.saxo/openapi/learn/reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Final

from attrs import frozen

from tradecore.domain import (
    CLIENT_ORDER_ID_MAX_LENGTH,
    Account,
    Instrument,
    Position,
    Side,
    Trade,
)
from tradecore_adapters.saxo._error_body import (
    SaxoError,
    error_from,
)
from tradecore_adapters.saxo._fields import (
    _ACCOUNTS,
    _CLIENT,
    _CLOSED_POSITIONS,
    _NET_POSITIONS,
    _POSITIONS,
    _TRADES,
    _ZERO,
    SAXO_ASSET_TYPES,
    _display_symbol,
    _each,
    _instrument_in,
    _non_negative,
    _opt_identifier,
    _opt_non_negative,
    _side,
    asset_type_of,
    instrument,
    saxo_key,
)
from tradecore_adapters.saxo._json import (
    BROKER,
    child,
    day,
    identifier,
    kind,
    malformed,
    number,
    obj,
    opt_child,
    opt_number,
    opt_text,
    opt_utc_time,
    text,
    utc_time,
)
from tradecore_adapters.saxo._market import asset_from, asset_with_details, quote_from
from tradecore_adapters.saxo._order_mapping import (
    DURATION_TYPES,
    activity_order,
    cancel_results,
    open_order_from,
    order_body,
    placed_order,
)
from tradecore_adapters.saxo._ranges import (
    amount_in_range,
    figure_in_range,
    id_in_range,
    opt_figure_in_range,
    text_id_in_range,
    time_in_range,
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

# --- client and accounts ------------------------------------------------------------------------


@frozen
class SaxoClient:
    """What ``GET /port/v1/clients/me`` says about the logged-in client.

    :param client_key: ``ClientKey``, needed by the ``?ClientKey=`` and report endpoints.
    :param default_account_key: ``DefaultAccountKey``, when Saxo sends it.
    :param default_currency: ``DefaultCurrency``.
    :param netting_mode: ``PositionNettingMode`` (``EndOfDay``, ``Intraday``…: a netting mode).
    """

    client_key: str
    default_account_key: str | None
    default_currency: str | None
    netting_mode: str | None


def client_from(payload: object) -> SaxoClient:
    """The :class:`SaxoClient` of a ``GET /port/v1/clients/me`` answer."""
    body = obj(payload, what=_CLIENT)
    return SaxoClient(
        client_key=text(body, "ClientKey", what=_CLIENT),
        default_account_key=opt_text(body, "DefaultAccountKey", what=_CLIENT),
        default_currency=opt_text(body, "DefaultCurrency", what=_CLIENT),
        netting_mode=opt_text(body, "PositionNettingMode", what=_CLIENT),
    )


def accounts_from(payload_items: Sequence[object], *, connection_id: str) -> list[Account]:
    """The accounts in ``GET /port/v1/accounts/me`` items.

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


# --- positions ----------------------------------------------------------------------------------


def net_positions_from(
    payload_items: Sequence[object], *, connection_id: str, account_id: str, as_of: datetime
) -> list[Position]:
    """One :class:`Position` per non-zero net position of ``GET /port/v1/netpositions`` items
    (with the ``DisplayAndFormat`` field group).

    ``quantity`` is ``NetPositionBase.Amount`` (negative: short); ``average_price`` is
    ``NetPositionView.AverageOpenPrice``, ``market_value`` ``NetPositionView.MarketValue`` and
    ``unrealized_pnl`` ``NetPositionView.ProfitLossOnTrade``, each when sent; ``currency`` is
    ``DisplayAndFormat.Currency``. Net positions with ``Amount`` 0 (squared under end-of-day
    netting) are left out.
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
        amount = amount_in_range(base, "Amount", what=base_where, signed=True)
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
                else figure_in_range(
                    _opt_non_negative(view, "AverageOpenPrice", what=view_where),
                    "AverageOpenPrice",
                    what=view_where,
                )
            ),
            currency=(
                None
                if display is None
                else opt_text(display, "Currency", what=f"{where} DisplayAndFormat")
            ),
            market_value=(
                None if view is None else opt_figure_in_range(view, "MarketValue", what=view_where)
            ),
            unrealized_pnl=(
                None
                if view is None
                else opt_figure_in_range(view, "ProfitLossOnTrade", what=view_where)
            ),
            as_of=as_of,
        )

    return _each(payload_items, _NET_POSITIONS, build)


@frozen(kw_only=True)
class PositionLot:
    """One position (a lot) of ``GET /port/v1/positions``; lots of an instrument make up its net
    position (see the netting modes).

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
    """The lots in ``GET /port/v1/positions`` items, zero amounts included."""

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
    """One closed position of ``GET /port/v1/closedpositions``.

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


def closed_positions_from(payload_items: Sequence[object]) -> list[ClosedPosition]:
    """The closed positions in ``GET /port/v1/closedpositions`` items.

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


# --- trades -------------------------------------------------------------------------------------

_TRADE_EVENTS: Final = {"Bought": Side.BUY, "Sold": Side.SELL}


def _client_order_id(reference: str | None) -> str | None:
    """Our client order id when an ``ExternalReference`` is one of ours (``tc-…``, ≤ 36 chars)."""
    if reference is None or len(reference) > CLIENT_ORDER_ID_MAX_LENGTH:
        return None
    return reference if reference.startswith("tc-") else None


def trades_from(
    report_items: Sequence[object], *, connection_id: str, account_id: str
) -> list[Trade]:
    """The fills in ``GET /cs/v1/reports/trades/{ClientKey}`` items (the trade report).

    ``broker_trade_id`` is ``TradeId``; ``client_order_id`` is the ``ExternalReference`` when it
    is one of ours (starts ``tc-``, at most 36 characters). The side is ``TradeEventType``
    (``Bought``/``Sold``) or, when that is absent or another value, the sign of ``Amount``
    (negative: sold); the two must agree. ``quantity`` is ``abs(Amount)``. ``executed_at`` is
    ``TradeExecutionTime``, else ``TradeDate`` at 00:00 UTC. The report carries no commission in
    the reference; when a ``Commission`` field is present, ``fee`` is its absolute value in
    ``AccountCurrency``, else 0 with no fee asset.
    """

    def build(item: Mapping[str, object], where: str) -> Trade:
        amount = amount_in_range(item, "Amount", what=where, signed=True)
        if not amount:
            raise malformed(where, "'Amount' is zero")
        by_sign = Side.BUY if amount > 0 else Side.SELL
        event = item.get("TradeEventType")
        if event is not None and not isinstance(event, str):
            raise malformed(where, f"'TradeEventType' is {kind(event)}, not a string")
        by_event = _TRADE_EVENTS.get(event) if event is not None else None
        if by_event is not None and by_event is not by_sign:
            raise malformed(where, "'TradeEventType' contradicts the sign of 'Amount'")
        price = amount_in_range(item, "Price", what=where)
        executed_at = opt_utc_time(item, "TradeExecutionTime", what=where)
        time_key = "TradeExecutionTime"
        if executed_at is None:
            time_key = "TradeDate"
            executed_at = datetime.combine(day(item, "TradeDate", what=where), time(0), UTC)
        executed_at = time_in_range(executed_at, time_key, what=where)
        fee, fee_asset = _ZERO, None
        if item.get("Commission") is not None:
            fee = abs(amount_in_range(item, "Commission", what=where, signed=True))
            fee_asset = opt_text(item, "AccountCurrency", what=where)
        order_id = _opt_identifier(item, "OrderId", what=where)
        return Trade(
            connection_id=connection_id,
            account_id=account_id,
            broker_trade_id=id_in_range(item, "TradeId", what=where),
            broker_order_id=(
                None if order_id is None else text_id_in_range(order_id, "OrderId", what=where)
            ),
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
