"""Pure functions between Binance's JSON payloads and tradecore's domain types.

No I/O and no clock: every time comes in as an argument or from the payload. Money and quantities
are built from Binance's decimal strings exactly (``Decimal("4.00000100")`` keeps its digits and
exponent); JSON integers are accepted for decimals too, JSON floats never. Ids and times are JSON
integers; times are epoch milliseconds, turned into aware UTC datetimes without float rounding.

Anything that does not have the documented shape raises :class:`MalformedResponse` naming the
endpoint and the field; messages never quote a payload, only a short description of one value.
Unknown extra keys are ignored: Binance adds conditional fields (``icebergQty``, ``stopPrice``…).

The trade mappers are the hot path of a history sync (hundreds of thousands of rows): they do one
dict lookup per field, no regex, and reuse the caller's :class:`Instrument` for every row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, InvalidOperation
from typing import Any, Final

from attrs import frozen

from tradecore.domain import (
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
from tradecore.errors import DomainError, MalformedResponse, OrderRejected

__all__ = [
    "BROKER",
    "FUTURES_ACCOUNT_ID",
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

BROKER: Final = "binance"
SPOT_ACCOUNT_ID: Final = "spot"
FUTURES_ACCOUNT_ID: Final = "usdm-futures"

_EXCHANGE_INFO: Final = "GET exchangeInfo"
_ACCOUNT: Final = "GET /api/v3/account"
_MY_TRADES: Final = "GET /api/v3/myTrades"
_USER_TRADES: Final = "GET /fapi/v1/userTrades"
_POSITION_RISK: Final = "GET /fapi/positionRisk"
_ORDER: Final = "order payload"
_TICKER: Final = "GET /api/v3/ticker/price"

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS: Final = timedelta(milliseconds=1)
_ZERO: Final = Decimal(0)
# Explicit arithmetic context: averages must not depend on whatever the caller's thread set.
_ARITHMETIC: Final = Context(prec=28)
_MAX_MESSAGE: Final = 500

_SIDES: Final = {"BUY": Side.BUY, "SELL": Side.SELL}
_SIDE_PARAMS: Final = {Side.BUY: "BUY", Side.SELL: "SELL"}
_ORDER_TYPES: Final = {"MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT}
_TYPE_PARAMS: Final = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT"}
_TIMES_IN_FORCE: Final = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_TIME_IN_FORCE_PARAMS: Final = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
}
_POSITION_SIDES: Final = frozenset({"BOTH", "LONG", "SHORT"})
_ORDER_STATUSES: Final = {
    "NEW": OrderStatus.OPEN,
    "PENDING_NEW": OrderStatus.OPEN,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}


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


# --- validation helpers -------------------------------------------------------------------------


class _Bad(Exception):
    """One field is unusable; the caller adds the endpoint and row before raising."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key!r} {problem}")


def _malformed(where: str, detail: object) -> MalformedResponse:
    return MalformedResponse(f"Binance {where}: {detail}", broker=BROKER)


def _kind(value: object) -> str:
    """A short description of a value that never quotes more than a few characters of it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        shown = value if len(value) <= 24 else value[:24] + "…"
        return f"the text {shown!r}"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a JSON float"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _decimal(value: object, key: str) -> Decimal:
    """A finite Decimal from a JSON decimal string (exactly) or JSON integer; never a float."""
    if type(value) is str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise _Bad(key, f"is {_kind(value)}, not a decimal number") from None
        # Decimal() also takes surrounding whitespace, "1_000" and non-ASCII digits; Binance
        # sends none of those, so they mean the payload is not what we think it is.
        if (
            number.is_finite()
            and value.isascii()
            and "_" not in value
            and value[0] > " "
            and value[-1] > " "
        ):
            return number
        raise _Bad(key, f"is {_kind(value)}, not a finite decimal number")
    if type(value) is int:
        return Decimal(value)
    raise _Bad(key, f"is {_kind(value)}; decimals must be JSON strings")


def _non_negative(value: object, key: str) -> Decimal:
    number = _decimal(value, key)
    if number < 0:
        raise _Bad(key, "is negative")
    return number


def _positive(value: object, key: str) -> Decimal:
    number = _decimal(value, key)
    if number <= 0:
        raise _Bad(key, "is not greater than zero")
    return number


def _integer(value: object, key: str) -> int:
    if type(value) is not int:
        raise _Bad(key, f"is {_kind(value)}, not an integer")
    return value


def _text(value: object, key: str) -> str:
    if type(value) is not str or not value:
        raise _Bad(key, f"is {_kind(value)}, not a non-empty string")
    return value


def _time(value: object, key: str) -> datetime:
    """Epoch milliseconds (a JSON integer) as an aware UTC datetime, exactly."""
    if type(value) is not int:
        raise _Bad(key, f"is {_kind(value)}, not epoch milliseconds")
    try:
        # Integer microsecond arithmetic: equal to ``_EPOCH + timedelta(milliseconds=value)``
        # for every int, and about twice as fast on the hot path.
        return _EPOCH + _ONE_MS * value
    except OverflowError:
        raise _Bad(key, "is out of the datetime range") from None


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _malformed(where, f"expected a JSON object, got {_kind(value)}")
    return value


def _array(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _malformed(where, f"expected a JSON array, got {_kind(value)}")
    return value


def _missing(exc: KeyError) -> str:
    return f"missing {exc.args[0]!r}" if exc.args else "missing a field"


def decimal_field(payload: Mapping[str, object], key: str, where: str) -> Decimal:
    """``payload[key]`` as an exact, finite Decimal; :class:`MalformedResponse` otherwise."""
    if not isinstance(payload, Mapping):
        raise _malformed(where, f"expected a JSON object, got {_kind(payload)}")
    try:
        return _decimal(payload[key], key)
    except KeyError:
        raise _malformed(where, f"missing {key!r}") from None
    except _Bad as exc:
        raise _malformed(where, exc) from None


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
        price = _non_negative(body["price"], "price")
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
            total = _non_negative(row["free"], "free") + _non_negative(row["locked"], "locked")
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
            amount = _decimal(row["positionAmt"], "positionAmt")
            if not amount:
                continue
            entry = _non_negative(row["entryPrice"], "entryPrice")
            notional = _decimal(row["notional"], "notional")
            pnl = _decimal(row["unRealizedProfit"], "unRealizedProfit")
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
    """The fills of ``GET /api/v3/myTrades`` for ``instrument`` (every row must be its symbol)."""
    items = _array(rows, _MY_TRADES)
    connection_id = account.connection_id
    account_id = account.account_id
    symbol = instrument.symbol
    trades: list[Trade] = []
    append = trades.append
    for index, row in enumerate(items):
        if not isinstance(row, dict):
            raise _malformed(_MY_TRADES, f"row {index} is {_kind(row)}, not an object")
        try:
            if row["symbol"] != symbol:
                raise _Bad("symbol", f"is {_kind(row['symbol'])}, not {symbol!r}")
            is_buyer = row["isBuyer"]
            if is_buyer is True:
                side = Side.BUY
            elif is_buyer is False:
                side = Side.SELL
            else:
                raise _Bad("isBuyer", f"is {_kind(is_buyer)}, not a boolean")
            append(
                Trade(
                    connection_id=connection_id,
                    account_id=account_id,
                    broker_trade_id=str(_integer(row["id"], "id")),
                    broker_order_id=str(_integer(row["orderId"], "orderId")),
                    instrument=instrument,
                    side=side,
                    quantity=_positive(row["qty"], "qty"),
                    price=_non_negative(row["price"], "price"),
                    fee=_decimal(row["commission"], "commission"),
                    fee_asset=_text(row["commissionAsset"], "commissionAsset"),
                    executed_at=_time(row["time"], "time"),
                )
            )
        except KeyError as exc:
            raise _malformed(_MY_TRADES, f"row {index} {_missing(exc)}") from None
        except _Bad as exc:
            raise _malformed(_MY_TRADES, f"row {index}: {exc}") from None
        except DomainError as exc:
            # The fields are checked above, so only a rule of the domain's own can fire here
            # (a negative commission while Trade.fee refuses rebates, say).
            raise _malformed(_MY_TRADES, f"row {index}: {exc}") from None
    return trades


def futures_trades(rows: object, *, account: Account, instrument: Instrument) -> list[Trade]:
    """The fills of ``GET /fapi/v1/userTrades`` for ``instrument``; commissions may be negative.

    A negative commission is a rebate. It reaches :class:`Trade` as is; if the domain refuses
    negative fees, the row is reported as :class:`MalformedResponse` rather than altered.
    """
    items = _array(rows, _USER_TRADES)
    connection_id = account.connection_id
    account_id = account.account_id
    symbol = instrument.symbol
    sides = _SIDES
    trades: list[Trade] = []
    append = trades.append
    for index, row in enumerate(items):
        if not isinstance(row, dict):
            raise _malformed(_USER_TRADES, f"row {index} is {_kind(row)}, not an object")
        try:
            if row["symbol"] != symbol:
                raise _Bad("symbol", f"is {_kind(row['symbol'])}, not {symbol!r}")
            value = row["side"]
            side = sides.get(value) if type(value) is str else None
            if side is None:
                raise _Bad("side", f"is {_kind(value)}, not BUY or SELL")
            append(
                Trade(
                    connection_id=connection_id,
                    account_id=account_id,
                    broker_trade_id=str(_integer(row["id"], "id")),
                    broker_order_id=str(_integer(row["orderId"], "orderId")),
                    instrument=instrument,
                    side=side,
                    quantity=_positive(row["qty"], "qty"),
                    price=_non_negative(row["price"], "price"),
                    fee=_decimal(row["commission"], "commission"),
                    fee_asset=_text(row["commissionAsset"], "commissionAsset"),
                    executed_at=_time(row["time"], "time"),
                )
            )
        except KeyError as exc:
            raise _malformed(_USER_TRADES, f"row {index} {_missing(exc)}") from None
        except _Bad as exc:
            raise _malformed(_USER_TRADES, f"row {index}: {exc}") from None
        except DomainError as exc:
            raise _malformed(_USER_TRADES, f"row {index}: {exc}") from None
    return trades


def max_trade_id(trades: Sequence[Trade]) -> int | None:
    """The largest Binance trade id among ``trades`` (the next page starts after it)."""
    if not trades:
        return None
    try:
        return max(int(trade.broker_trade_id) for trade in trades)
    except ValueError:
        raise _malformed("trades", "a trade id is not an integer") from None


# --- orders -------------------------------------------------------------------------------------


def order_status(value: str) -> OrderStatus:
    """The domain status of a Binance order ``status``."""
    status = _ORDER_STATUSES.get(value) if type(value) is str else None
    if status is None:
        raise _malformed(_ORDER, f"unknown order status: {_kind(value)}")
    return status


def order_params(request: OrderRequest) -> list[tuple[str, str]]:
    """The ``POST /api/v3/order`` parameters of ``request``, in a fixed order (before signing).

    Raises :class:`OrderRejected` for what Binance spot cannot do, before anything is sent.
    """
    time_in_force = request.time_in_force
    if time_in_force is TimeInForce.DAY:
        raise OrderRejected(
            "Binance spot has no DAY time in force; use GTC, IOC or FOK", broker=BROKER
        )
    is_limit = request.order_type is OrderType.LIMIT
    if not is_limit and time_in_force is not TimeInForce.GTC:
        raise OrderRejected(
            f"Binance spot market orders take no time in force; got {time_in_force.value.upper()}, "
            "leave it at GTC",
            broker=BROKER,
        )
    params = [
        ("symbol", request.instrument.symbol),
        ("side", _SIDE_PARAMS[request.side]),
        ("type", _TYPE_PARAMS[request.order_type]),
    ]
    if is_limit:
        params.append(("timeInForce", _TIME_IN_FORCE_PARAMS[time_in_force]))
    params.append(("quantity", format(request.quantity, "f")))
    if is_limit:
        assert request.limit_price is not None  # OrderRequest guarantees it for LIMIT
        params.append(("price", format(request.limit_price, "f")))
    params.append(("newClientOrderId", request.client_order_id))
    params.append(("newOrderRespType", "FULL"))
    return params


def _fill_rows(body: Mapping[str, Any]) -> list[Any]:
    fills = body.get("fills", [])
    if not isinstance(fills, list):
        raise _Bad("fills", f"is {_kind(fills)}, not a list")
    return fills


def _average_price(body: Mapping[str, Any], executed: Decimal) -> Decimal | None:
    fills = _fill_rows(body)
    if fills:
        notional = quantity = _ZERO
        for fill in fills:
            if not isinstance(fill, dict):
                raise _Bad("fills", f"has {_kind(fill)} where an object belongs")
            if "price" not in fill or "qty" not in fill:
                raise _Bad("fills", "has an entry without 'price' or 'qty'")
            price = _non_negative(fill["price"], "fills.price")
            qty = _positive(fill["qty"], "fills.qty")
            notional = _ARITHMETIC.add(notional, _ARITHMETIC.multiply(price, qty))
            quantity = _ARITHMETIC.add(quantity, qty)
        return _ARITHMETIC.divide(notional, quantity)
    if executed > 0 and "cummulativeQuoteQty" in body:
        # Negative means "not available" for some historical orders (GET /api/v3/order).
        quote_quantity = _decimal(body["cummulativeQuoteQty"], "cummulativeQuoteQty")
        if quote_quantity >= 0:
            return _ARITHMETIC.divide(quote_quantity, executed)
    return None


def _optional_time(body: Mapping[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        if key in body:
            return _time(body[key], key)
    return None


def _rebuilt_request(body: Mapping[str, Any], symbol: str, account: Account) -> OrderRequest:
    value = body["side"]
    side = _SIDES.get(value) if type(value) is str else None
    if side is None:
        raise _Bad("side", f"is {_kind(value)}, not BUY or SELL")
    value = body["type"]
    order_type = _ORDER_TYPES.get(value) if type(value) is str else None
    if order_type is None:
        raise _Bad("type", f"is {_kind(value)}: unsupported order type (only MARKET and LIMIT)")
    value = body.get("timeInForce", "GTC")
    time_in_force = _TIMES_IN_FORCE.get(value) if type(value) is str else None
    if time_in_force is None:
        raise _Bad("timeInForce", f"is {_kind(value)}, not GTC, IOC or FOK")
    # A DELETE payload's clientOrderId names the cancel request; the order's own is the orig one.
    key = "origClientOrderId" if "origClientOrderId" in body else "clientOrderId"
    return OrderRequest(
        connection_id=account.connection_id,
        account_id=account.account_id,
        client_order_id=_text(body[key], key),
        instrument=Instrument(symbol=symbol, asset_type=AssetType.SPOT),
        side=side,
        order_type=order_type,
        quantity=_positive(body["origQty"], "origQty"),
        limit_price=(_positive(body["price"], "price") if order_type is OrderType.LIMIT else None),
        time_in_force=time_in_force,
    )


def order_from_payload(
    payload: object, *, request: OrderRequest | None, account: Account, now: datetime
) -> Order:
    """The order in a ``POST`` (ACK, RESULT or FULL), ``GET`` or ``DELETE /api/v3/order`` payload.

    With ``request`` the order keeps it, after checking the payload is about that client order
    id; without, the request is rebuilt from the payload (MARKET and LIMIT orders only).
    ``now`` stands in for times the payload does not carry.
    """
    body = _object(payload, _ORDER)
    try:
        symbol = _text(body["symbol"], "symbol")
        broker_order_id = str(_integer(body["orderId"], "orderId"))
        if request is None:
            request = _rebuilt_request(body, symbol, account)
        else:
            if symbol != request.instrument.symbol:
                raise _Bad("symbol", f"is {_kind(symbol)}, not {request.instrument.symbol!r}")
            wanted = request.client_order_id
            if body.get("clientOrderId") != wanted and body.get("origClientOrderId") != wanted:
                raise _Bad("clientOrderId", f"does not match the request's {wanted!r}")
        status = order_status(body["status"]) if "status" in body else OrderStatus.OPEN
        executed = _non_negative(body.get("executedQty", 0), "executedQty")
        average = _average_price(body, executed)
        created_at = _optional_time(body, "time", "transactTime") or now
        updated_at = _optional_time(body, "updateTime", "transactTime") or now
    except KeyError as exc:
        raise _malformed(_ORDER, _missing(exc)) from None
    except _Bad as exc:
        raise _malformed(_ORDER, exc) from None
    except DomainError as exc:  # the rebuilt request breaks a domain rule (e.g. a 40-char id)
        raise _malformed(_ORDER, exc) from None
    try:
        return Order(
            request=request,
            status=status,
            broker_order_id=broker_order_id,
            filled_quantity=executed,
            average_fill_price=average,
            created_at=created_at,
            updated_at=updated_at,
        )
    except DomainError as exc:  # e.g. executedQty larger than the order's quantity
        raise _malformed(_ORDER, exc) from None


def order_fills(
    payload: object,
    *,
    account: Account,
    instrument: Instrument,
    side: Side,
    broker_order_id: str,
    client_order_id: str,
    executed_at: datetime,
) -> list[Trade]:
    """The trades in a FULL ``POST /api/v3/order`` response's ``fills`` (none when absent)."""
    body = _object(payload, _ORDER)
    try:
        fills = _fill_rows(body)
    except _Bad as exc:
        raise _malformed(_ORDER, exc) from None
    trades: list[Trade] = []
    for index, fill in enumerate(fills):
        if not isinstance(fill, dict):
            raise _malformed(_ORDER, f"fill {index} is {_kind(fill)}, not an object")
        try:
            trade_id = _integer(fill["tradeId"], "tradeId")
            quantity = _positive(fill["qty"], "qty")
            price = _non_negative(fill["price"], "price")
            fee = _decimal(fill["commission"], "commission")
            fee_asset = _text(fill["commissionAsset"], "commissionAsset")
        except KeyError as exc:
            raise _malformed(_ORDER, f"fill {index} {_missing(exc)}") from None
        except _Bad as exc:
            raise _malformed(_ORDER, f"fill {index}: {exc}") from None
        try:
            trade = Trade(
                connection_id=account.connection_id,
                account_id=account.account_id,
                broker_trade_id=str(trade_id),
                broker_order_id=broker_order_id,
                client_order_id=client_order_id,
                instrument=instrument,
                side=side,
                quantity=quantity,
                price=price,
                fee=fee,
                fee_asset=fee_asset,
                executed_at=executed_at,
            )
        except DomainError as exc:
            raise _malformed(_ORDER, f"fill {index}: {exc}") from None
        trades.append(trade)
    return trades


# --- errors -------------------------------------------------------------------------------------


def error_body(content: bytes) -> tuple[int | None, str | None]:
    """``(code, msg)`` of a Binance error body such as ``{"code": -1121, "msg": "Invalid symbol."}``.

    Anything else (HTML from a proxy, an empty body, bad JSON, another shape) gives
    ``(None, None)``; a body with only one of the two gives that one. Never raises.
    """
    try:
        body = json.loads(content)
    except (ValueError, TypeError, RecursionError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    code = body.get("code")
    message = body.get("msg")
    return (
        code if type(code) is int else None,
        message[:_MAX_MESSAGE] if isinstance(message, str) else None,
    )
