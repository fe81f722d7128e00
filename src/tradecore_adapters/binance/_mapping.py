"""Pure functions between Binance's JSON payloads and tradecore's domain types: market rules,
balances and positions, trades. Orders are in :mod:`._orders`, value reading in :mod:`._json`.

No I/O and no clock: every time comes in as an argument or from the payload. Anything that does
not have the documented shape raises :class:`MalformedResponse` naming the endpoint and the field;
messages never quote a payload, only a short description of one value. Unknown extra keys are
ignored: Binance adds conditional fields (``icebergQty``, ``stopPrice``…).

The trade mappers are the hot path of a history sync (hundreds of thousands of rows): they do one
dict lookup per field, no regex, and reuse the caller's :class:`Instrument` for every row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from attrs import frozen

from tradecore.domain import (
    Account,
    Asset,
    AssetType,
    Instrument,
    Position,
    Quote,
    Side,
    Trade,
)
from tradecore.errors import DomainError
from tradecore_adapters._reported import (
    INT64_MAX,
    id_in_range,
    reported_amount,
    reported_figure,
    reported_time,
)
from tradecore_adapters.binance._json import (
    BROKER,
    decimal_field,
    error_body,
)
from tradecore_adapters.binance._json import Bad as _Bad
from tradecore_adapters.binance._json import array as _array
from tradecore_adapters.binance._json import decimal as _decimal
from tradecore_adapters.binance._json import integer as _integer
from tradecore_adapters.binance._json import kind as _kind
from tradecore_adapters.binance._json import malformed as _malformed
from tradecore_adapters.binance._json import missing as _missing
from tradecore_adapters.binance._json import non_negative as _non_negative
from tradecore_adapters.binance._json import object_ as _object
from tradecore_adapters.binance._json import positive as _positive
from tradecore_adapters.binance._json import text as _text
from tradecore_adapters.binance._json import time as _time
from tradecore_adapters.binance._orders import (
    order_fills,
    order_from_payload,
    order_params,
    order_status,
)

__all__ = [
    "BROKER",
    "FUTURES_ACCOUNT_ID",
    "MAX_TRADE_ID",
    "SPOT_ACCOUNT_ID",
    "SymbolRules",
    "assets",
    "decimal_field",
    "error_body",
    "exchange_symbols",
    "futures_positions",
    "futures_trades",
    "max_trade_id",
    "order_fills",
    "order_from_payload",
    "order_params",
    "order_status",
    "quote",
    "request_weight_limit",
    "server_time_ms",
    "spot_balances",
    "spot_positions",
    "spot_trades",
]


SPOT_ACCOUNT_ID: Final = "spot"
FUTURES_ACCOUNT_ID: Final = "usdm-futures"

_EXCHANGE_INFO: Final = "GET exchangeInfo"
_ACCOUNT: Final = "GET /api/v3/account"
_MY_TRADES: Final = "GET /api/v3/myTrades"
_USER_TRADES: Final = "GET /fapi/v1/userTrades"
_POSITION_RISK: Final = "GET /fapi/positionRisk"
_TICKER: Final = "GET /api/v3/ticker/price"


MAX_TRADE_ID: Final = INT64_MAX - 1
"""The largest trade id accepted: Binance's ids are ``long`` values (0 to 2^63-1) and the next
page asks from the id after the last one, which must still be one (``fromId``, else -1100)."""

_SIDES: Final = {"BUY": Side.BUY, "SELL": Side.SELL}
_POSITION_SIDES: Final = frozenset({"BOTH", "LONG", "SHORT"})


# --- values within their documented ranges ------------------------------------------------------


def _amount(value: object, key: str, *, signed: bool = False) -> Decimal:
    # A Binance decimal string within the rule for amounts (tradecore_adapters._reported).
    number = _decimal(value, key) if signed else _non_negative(value, key)
    try:
        return reported_amount(number, signed=signed)
    except ValueError as exc:
        raise _Bad(key, str(exc)) from None


def _figure(value: object, key: str) -> Decimal:
    # A figure Binance computed (entry price, notional, profit): any digits, a sane size.
    try:
        return reported_figure(_decimal(value, key))
    except ValueError as exc:
        raise _Bad(key, str(exc)) from None


def _quantity(value: object, key: str) -> Decimal:
    number = _positive(value, key)
    try:
        return reported_amount(number)
    except ValueError as exc:
        raise _Bad(key, str(exc)) from None


def _id(value: object, key: str, high: int = INT64_MAX) -> int:
    # Binance's ids are int64 and never negative.
    try:
        return id_in_range(_integer(value, key), high=high)
    except ValueError as exc:
        raise _Bad(key, str(exc)) from None


def _when(value: object, key: str) -> datetime:
    try:
        return reported_time(_time(value, key))
    except ValueError as exc:
        raise _Bad(key, str(exc)) from None


@frozen(kw_only=True)
class SymbolRules:
    """One symbol of ``exchangeInfo`` with the trading rules tradecore uses.

    :param tick_size: ``PRICE_FILTER.tickSize``; ``None`` when absent or zero (no rule).
    :param step_size: ``LOT_SIZE.stepSize``; ``None`` when absent or zero.
    :param min_qty: ``LOT_SIZE.minQty``; ``None`` when absent or zero.
    """

    symbol: str
    base: str
    quote: str
    status: str
    tick_size: Decimal | None
    step_size: Decimal | None
    min_qty: Decimal | None

    @property
    def tradable(self) -> bool:
        """``True`` when Binance accepts orders for the symbol now (status ``TRADING``)."""
        return self.status == "TRADING"

    def instrument(self, asset_type: AssetType = AssetType.SPOT) -> Instrument:
        """The domain instrument of the symbol."""
        return Instrument(
            symbol=self.symbol, asset_type=asset_type, base=self.base, quote=self.quote
        )


# --- market data and rules ----------------------------------------------------------------------


def server_time_ms(payload: object, where: str = "time") -> int:
    """``serverTime`` of ``GET /api/v3/time`` (or ``/fapi/v1/time``), in epoch milliseconds."""
    body = _object(payload, where)
    try:
        value = _integer(body["serverTime"], "serverTime")
    except KeyError:
        raise _malformed(where, "missing 'serverTime'") from None
    except _Bad as exc:
        raise _malformed(where, exc) from None
    if value < 0:
        raise _malformed(where, "'serverTime' is negative")
    return value


def _filter_step(value: object, key: str) -> Decimal | None:
    number = _non_negative(value, key)
    return number if number else None


def _symbol_rules(item: object) -> SymbolRules:
    if not isinstance(item, dict):
        raise _Bad("symbols", f"has {_kind(item)} where an object belongs")
    tick_size = step_size = min_qty = None
    filters = item.get("filters", [])
    if not isinstance(filters, list):
        raise _Bad("filters", f"is {_kind(filters)}, not a list")
    for entry in filters:
        if not isinstance(entry, dict):
            raise _Bad("filters", f"has {_kind(entry)} where an object belongs")
        kind = entry.get("filterType")
        if kind == "PRICE_FILTER":
            tick_size = _filter_step(entry.get("tickSize", "0"), "PRICE_FILTER.tickSize")
        elif kind == "LOT_SIZE":
            step_size = _filter_step(entry.get("stepSize", "0"), "LOT_SIZE.stepSize")
            min_qty = _filter_step(entry.get("minQty", "0"), "LOT_SIZE.minQty")
    return SymbolRules(
        symbol=_text(item["symbol"], "symbol"),
        base=_text(item["baseAsset"], "baseAsset"),
        quote=_text(item["quoteAsset"], "quoteAsset"),
        status=_text(item["status"], "status"),
        tick_size=tick_size,
        step_size=step_size,
        min_qty=min_qty,
    )


def exchange_symbols(payload: object) -> dict[str, SymbolRules]:
    """The ``symbols`` of ``exchangeInfo`` (spot or futures), keyed by symbol."""
    body = _object(payload, _EXCHANGE_INFO)
    items = _array(body.get("symbols"), f"{_EXCHANGE_INFO} 'symbols'")
    rules: dict[str, SymbolRules] = {}
    for index, item in enumerate(items):
        try:
            rule = _symbol_rules(item)
        except KeyError as exc:
            raise _malformed(_EXCHANGE_INFO, f"symbol {index} {_missing(exc)}") from None
        except _Bad as exc:
            raise _malformed(_EXCHANGE_INFO, f"symbol {index}: {exc}") from None
        if rule.symbol in rules:
            raise _malformed(_EXCHANGE_INFO, f"symbol {rule.symbol!r} is listed twice")
        rules[rule.symbol] = rule
    return rules


def request_weight_limit(payload: object) -> int | None:
    """The ``REQUEST_WEIGHT`` limit per 1 minute from ``exchangeInfo.rateLimits``, if listed."""
    body = _object(payload, _EXCHANGE_INFO)
    if "rateLimits" not in body:
        return None
    where = f"{_EXCHANGE_INFO} 'rateLimits'"
    for index, item in enumerate(_array(body["rateLimits"], where)):
        if not isinstance(item, dict):
            raise _malformed(where, f"entry {index} is {_kind(item)}, not an object")
        if (
            item.get("rateLimitType") == "REQUEST_WEIGHT"
            and item.get("interval") == "MINUTE"
            and type(item.get("intervalNum")) is int
            and item["intervalNum"] == 1
        ):
            limit = item.get("limit")
            if type(limit) is not int or limit <= 0:
                raise _malformed(where, f"entry {index} 'limit' is {_kind(limit)}")
            return limit
    return None


def assets(rules: Iterable[SymbolRules]) -> list[Asset]:
    """One spot :class:`Asset` per symbol, with its lot and tick rules."""
    return [
        Asset(
            instrument=rule.instrument(),
            currency=rule.quote,
            tradable=rule.tradable,
            min_quantity=rule.min_qty,
            quantity_step=rule.step_size,
            price_step=rule.tick_size,
        )
        for rule in rules
    ]


def quote(payload: object, *, instrument: Instrument, as_of: datetime) -> Quote:
    """The last price of ``GET /api/v3/ticker/price?symbol=…``."""
    body = _object(payload, _TICKER)
    try:
        symbol = body["symbol"]
        price = _amount(body["price"], "price")
    except KeyError as exc:
        raise _malformed(_TICKER, _missing(exc)) from None
    except _Bad as exc:
        raise _malformed(_TICKER, exc) from None
    if symbol != instrument.symbol:
        raise _malformed(_TICKER, f"'symbol' is {_kind(symbol)}, not {instrument.symbol!r}")
    return Quote(instrument=instrument, last=price, currency=instrument.quote, as_of=as_of)


# --- balances and positions ---------------------------------------------------------------------


def spot_balances(payload: object) -> dict[str, Decimal]:
    """``{asset: free + locked}`` of ``GET /api/v3/account``, leaving out zero totals."""
    body = _object(payload, _ACCOUNT)
    rows = _array(body.get("balances"), f"{_ACCOUNT} 'balances'")
    balances: dict[str, Decimal] = {}
    seen: set[str] = set()
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise _malformed(_ACCOUNT, f"balance {index} is {_kind(row)}, not an object")
        try:
            asset = _text(row["asset"], "asset")
            total = _amount(row["free"], "free") + _amount(row["locked"], "locked")
        except KeyError as exc:
            raise _malformed(_ACCOUNT, f"balance {index} {_missing(exc)}") from None
        except _Bad as exc:
            raise _malformed(_ACCOUNT, f"balance {index}: {exc}") from None
        if asset in seen:
            raise _malformed(_ACCOUNT, f"asset {asset!r} is listed twice")
        seen.add(asset)
        if total:
            balances[asset] = total
    return balances


def spot_positions(payload: object, *, account: Account, as_of: datetime) -> list[Position]:
    """One spot position per non-zero balance of ``GET /api/v3/account`` (free plus locked)."""
    return [
        Position(
            connection_id=account.connection_id,
            account_id=account.account_id,
            instrument=Instrument(symbol=asset, asset_type=AssetType.SPOT, base=asset),
            quantity=total,
            as_of=as_of,
        )
        for asset, total in spot_balances(payload).items()
    ]


def futures_positions(payload: object, *, account: Account, as_of: datetime) -> list[Position]:
    """The open positions of ``GET /fapi/v3/positionRisk`` (``/fapi/v2`` rows work too).

    Zero rows are skipped. In hedge mode a symbol has a ``LONG`` and a ``SHORT`` row, so their
    positions are named ``SYMBOL:LONG`` and ``SYMBOL:SHORT``; one-way (``BOTH``) rows keep the symbol.
    """
    rows = _array(payload, _POSITION_RISK)
    positions = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise _malformed(_POSITION_RISK, f"row {index} is {_kind(row)}, not an object")
        try:
            symbol = _text(row["symbol"], "symbol")
            side = row["positionSide"]
            if side not in _POSITION_SIDES:
                raise _Bad("positionSide", f"is {_kind(side)}, not BOTH, LONG or SHORT")
            amount = _amount(row["positionAmt"], "positionAmt", signed=True)
            if not amount:
                continue
            entry = _figure(row["entryPrice"], "entryPrice")
            if entry < 0:
                raise _Bad("entryPrice", "is negative")
            notional = _figure(row["notional"], "notional")
            pnl = _figure(row["unRealizedProfit"], "unRealizedProfit")
            margin_asset = row.get("marginAsset")
            if margin_asset is not None:
                margin_asset = _text(margin_asset, "marginAsset")
        except KeyError as exc:
            raise _malformed(_POSITION_RISK, f"row {index} {_missing(exc)}") from None
        except _Bad as exc:
            raise _malformed(_POSITION_RISK, f"row {index}: {exc}") from None
        positions.append(
            Position(
                connection_id=account.connection_id,
                account_id=account.account_id,
                instrument=Instrument(
                    symbol=symbol if side == "BOTH" else f"{symbol}:{side}",
                    asset_type=AssetType.FUTURE,
                ),
                quantity=amount,
                average_price=entry or None,
                currency=margin_asset,
                market_value=notional,
                unrealized_pnl=pnl,
                as_of=as_of,
            )
        )
    return positions


# --- trades -------------------------------------------------------------------------------------


def spot_trades(rows: object, *, account: Account, instrument: Instrument) -> list[Trade]:
    """The fills of ``GET /api/v3/myTrades`` for ``instrument`` (every row must be its symbol).

    Every value must be within its documented range, or the whole page is refused (nothing of it
    may be stored): ``id`` from 0 to :data:`MAX_TRADE_ID`, ``orderId`` a non-negative int64,
    ``qty``, ``price`` and ``commission`` within the rule for amounts (``qty`` above 0), ``time``
    within :data:`tradecore_adapters._reported.EARLIEST` … ``LATEST``. The error names the
    endpoint, the symbol, the row, the field and the value.
    """
    return _trades(rows, _MY_TRADES, _spot_side, account=account, instrument=instrument)


def futures_trades(rows: object, *, account: Account, instrument: Instrument) -> list[Trade]:
    """The fills of ``GET /fapi/v1/userTrades`` for ``instrument``; a negative commission (a
    rebate) is kept as it is."""
    return _trades(rows, _USER_TRADES, _futures_side, account=account, instrument=instrument)


def _spot_side(row: Mapping[str, Any]) -> Side:
    is_buyer = row["isBuyer"]
    if is_buyer is True:
        return Side.BUY
    if is_buyer is False:
        return Side.SELL
    raise _Bad("isBuyer", f"is {_kind(is_buyer)}, not a boolean")


def _futures_side(row: Mapping[str, Any]) -> Side:
    value = row["side"]
    side = _SIDES.get(value) if type(value) is str else None
    if side is None:
        raise _Bad("side", f"is {_kind(value)}, not BUY or SELL")
    return side


def _trades(
    rows: object,
    where: str,
    side_of: Callable[[Mapping[str, Any]], Side],
    *,
    account: Account,
    instrument: Instrument,
) -> list[Trade]:
    # The hot path of a history sync: one dict lookup per field, the caller's Instrument reused.
    items = _array(rows, where)
    connection_id = account.connection_id
    account_id = account.account_id
    symbol = instrument.symbol
    trades: list[Trade] = []
    append = trades.append
    for index, row in enumerate(items):
        if not isinstance(row, dict):
            raise _malformed(f"{where} {symbol}", f"row {index} is {_kind(row)}, not an object")
        try:
            if row["symbol"] != symbol:
                raise _Bad("symbol", f"is {_kind(row['symbol'])}, not {symbol!r}")
            append(
                Trade(
                    connection_id=connection_id,
                    account_id=account_id,
                    broker_trade_id=str(_id(row["id"], "id", MAX_TRADE_ID)),
                    broker_order_id=str(_id(row["orderId"], "orderId")),
                    instrument=instrument,
                    side=side_of(row),
                    quantity=_quantity(row["qty"], "qty"),
                    price=_amount(row["price"], "price"),
                    fee=_amount(row["commission"], "commission", signed=True),
                    fee_asset=_text(row["commissionAsset"], "commissionAsset"),
                    executed_at=_when(row["time"], "time"),
                )
            )
        except KeyError as exc:
            raise _malformed(f"{where} {symbol}", f"row {index} {_missing(exc)}") from None
        except (_Bad, DomainError) as exc:
            raise _malformed(f"{where} {symbol}", f"row {index}: {exc}") from None
    return trades


def max_trade_id(trades: Sequence[Trade]) -> int | None:
    """The largest Binance trade id among ``trades`` (the next page starts after it).

    :raises MalformedResponse: an id is not an integer from 0 to :data:`MAX_TRADE_ID`, so the
        next ``fromId`` would not be one Binance accepts.
    """
    if not trades:
        return None
    try:
        highest = max(int(trade.broker_trade_id) for trade in trades)
    except ValueError:
        raise _malformed("trades", "a trade id is not an integer") from None
    if not 0 <= highest <= MAX_TRADE_ID:
        symbol = trades[0].instrument.symbol
        raise _malformed(
            f"trades {symbol}", f"trade id {highest} is outside the range 0..{MAX_TRADE_ID}"
        )
    return highest
