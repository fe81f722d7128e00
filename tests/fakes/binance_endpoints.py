"""Endpoints of the fake Binance and their weights, as Binance documents them.

Spot: https://developers.binance.com/docs/binance-spot-api-docs/; USD-M futures:
https://developers.binance.com/docs/derivatives/usds-margined-futures/.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from tests.fakes.binance_models import (
    BinanceError,
    FakeOrder,
    Row,
    TradeLog,
    fmt8,
    plain,
)
from tests.fakes.binance_requests import (
    CLIENT_ID,
    DAY_MS,
    SIGNED_PARAMS,
    Call,
    Handler,
    Route,
    bool_param,
    decimal_param,
    illegal,
    int_param,
    limit_param,
    mandatory,
    not_sent,
    symbol_param,
    symbols_param,
)
from tests.fakes.binance_state import BinanceState, FakeAccount

# -- public endpoints ------------------------------------------------------------------------


def ping(state: BinanceState, call: Call) -> Any:
    """``GET /api/v3/ping``."""
    return {}


def server_time(state: BinanceState, call: Call) -> Any:
    """``GET /api/v3/time`` and ``/fapi/v1/time``."""
    return {"serverTime": call.now}


def exchange_info(state: BinanceState, call: Call) -> Any:
    """``GET /api/v3/exchangeInfo``: rateLimits (REQUEST_WEIGHT first) and the symbols."""
    symbols = symbols_param(state, call.params)
    status = call.params.get("symbolStatus")
    if status is not None:
        if "symbol" in call.params or "symbols" in call.params:
            raise BinanceError(400, -1128, "Combination of optional parameters invalid.")
        symbols = [sym for sym in symbols if sym.status == status]
    return {
        "timezone": "UTC",
        "serverTime": call.now,
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": call.weight_limit,
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000},
            {
                "rateLimitType": "RAW_REQUESTS",
                "interval": "MINUTE",
                "intervalNum": 5,
                "limit": 300000,
            },
        ],
        "exchangeFilters": [],
        "symbols": [sym.info() for sym in symbols],
    }


def ticker_price(state: BinanceState, call: Call) -> Any:
    """``GET /api/v3/ticker/price``: one object with ``symbol``, else an array."""
    rows = [{"symbol": s.symbol, "price": fmt8(s.price)} for s in symbols_param(state, call.params)]
    return rows[0] if "symbol" in call.params else rows


def futures_ticker_price(state: BinanceState, call: Call) -> Any:
    """``GET /fapi/v1/ticker/price`` (futures rows add ``time``)."""
    rows = [
        {"symbol": s.symbol, "price": plain(s.price), "time": call.now}
        for s in symbols_param(state, call.params)
    ]
    return rows[0] if "symbol" in call.params else rows


# -- account and trades ----------------------------------------------------------------------


def account_info(state: BinanceState, call: Call) -> Any:
    """``GET /api/v3/account``; zero balances included unless ``omitZeroBalances=true``."""
    omit_zero = bool_param(call.params, "omitZeroBalances")
    account = call.user
    assets = list(account.balances)
    listed = {asset for sym in state.symbols.values() for asset in (sym.base, sym.quote)}
    assets += sorted(listed - set(assets))
    balances = []
    for asset in assets:
        balance = account.balances.get(asset)
        free, locked = (balance.free, balance.locked) if balance else (Decimal(0), Decimal(0))
        if omit_zero and not free and not locked:
            continue
        balances.append({"asset": asset, "free": fmt8(free), "locked": fmt8(locked)})
    return {
        "makerCommission": 10,
        "takerCommission": 10,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": "0.00100000",
            "taker": "0.00100000",
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": account.update_time_ms,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": account.uid,
    }


def _trades(log: TradeLog | None, call: Call, *, max_window_ms: int, default_ms: int | None) -> Any:
    """The paging rules shared by spot myTrades and futures userTrades."""
    params = call.params
    order_id = int_param(params, "orderId")
    from_id = int_param(params, "fromId")
    start, end = int_param(params, "startTime"), int_param(params, "endTime")
    limit = limit_param(params)
    timed = start is not None or end is not None
    if timed and (from_id is not None or order_id is not None):
        raise BinanceError(400, -1128, "Combination of optional parameters invalid.")
    if log is None:
        return []
    if order_id is not None:
        rows = log.from_id(from_id or 0, 2**62) if from_id is not None else list(log)
        return [row for row in rows if row["orderId"] == order_id][:limit]
    if from_id is not None:
        return log.from_id(from_id, limit)
    if timed:
        if start is not None and end is not None and end - start > max_window_ms:
            hours = max_window_ms // 3_600_000
            msg = f"More than {hours} hours between startTime and endTime."
            raise BinanceError(400, -1127, msg)
        low = start if start is not None else end - max_window_ms  # type: ignore[operator]
        high = end if end is not None else low + max_window_ms
        return [row for row in log if low <= row["time"] <= high][:limit]
    if default_ms is None:
        return log.latest(limit)
    recent: list[Row] = []
    for row in log.descending():
        if len(recent) >= limit or row["time"] < call.now - default_ms:
            break
        recent.append(row)
    recent.reverse()
    return recent


def my_trades(state: BinanceState, call: Call) -> Any:
    """``GET /api/v3/myTrades``: symbol required; fromId pages ascending; else the latest."""
    sym = symbol_param(state, call.params)
    log = call.user.trades.get(sym.symbol)
    return _trades(log, call, max_window_ms=DAY_MS, default_ms=None)


def _futures_symbol(state: BinanceState, account: FakeAccount, name: str) -> None:
    known = (
        name in state.symbols
        or name in account.futures_trades
        or any(symbol == name for symbol, _side in account.futures_positions)
    )
    if not known:
        raise BinanceError(400, -1121, "Invalid symbol.")


def user_trades(state: BinanceState, call: Call) -> Any:
    """``GET /fapi/v1/userTrades``: like myTrades; without fromId or times, the last 7 days."""
    symbol = mandatory(call.params, "symbol")
    _futures_symbol(state, call.user, symbol)
    log = call.user.futures_trades.get(symbol)
    return _trades(log, call, max_window_ms=7 * DAY_MS, default_ms=7 * DAY_MS)


def position_risk(state: BinanceState, call: Call) -> Any:
    """``GET /fapi/v3/positionRisk``: only non-zero positions, as documented."""
    symbol = call.params.get("symbol")
    if symbol is not None:
        _futures_symbol(state, call.user, symbol)
    return [
        dict(row)
        for (name, _side), row in call.user.futures_positions.items()
        if Decimal(row["positionAmt"]) != 0 and symbol in (None, name)
    ]


# -- orders ----------------------------------------------------------------------------------


_ORDER_TYPES = frozenset(
    {
        "LIMIT",
        "MARKET",
        "STOP_LOSS",
        "STOP_LOSS_LIMIT",
        "TAKE_PROFIT",
        "TAKE_PROFIT_LIMIT",
        "LIMIT_MAKER",
    }
)


def new_order(state: BinanceState, call: Call, *, dry_run: bool = False) -> Any:
    """``POST /api/v3/order`` (and ``/order/test`` with ``dry_run``)."""
    params = call.params
    sym = symbol_param(state, params)
    side = mandatory(params, "side")
    type_ = mandatory(params, "type")
    if side not in ("BUY", "SELL"):
        raise BinanceError(400, -1117, "Invalid side.")
    if type_ not in _ORDER_TYPES:
        raise BinanceError(400, -1116, "Invalid orderType.")
    if type_ not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
        raise BinanceError(
            400, -1116, "Invalid orderType. (the fake supports LIMIT, MARKET, LIMIT_MAKER)"
        )
    qty = decimal_param(params, "quantity")
    quote_qty = decimal_param(params, "quoteOrderQty")
    price = decimal_param(params, "price")
    tif = "GTC"
    if type_ == "MARKET":
        not_sent(params, "price", "timeInForce")
        if qty is None and quote_qty is None:
            msg = "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
            raise BinanceError(400, -1102, msg)
        if qty is not None and quote_qty is not None:
            not_sent(params, "quoteOrderQty")
    else:
        not_sent(params, "quoteOrderQty")
        if type_ == "LIMIT":
            tif = mandatory(params, "timeInForce")
            if tif not in ("GTC", "IOC", "FOK"):
                raise BinanceError(400, -1115, "Invalid timeInForce.")
        else:
            not_sent(params, "timeInForce")
        mandatory(params, "quantity")
        mandatory(params, "price")
    client_id = params.get("newClientOrderId")
    if client_id is not None and not CLIENT_ID.match(client_id):
        raise illegal("newClientOrderId", "^[a-zA-Z0-9-_]{1,36}$")
    default_type = "FULL" if type_ in ("MARKET", "LIMIT") else "ACK"
    resp_type = params.get("newOrderRespType", default_type)
    if resp_type not in ("ACK", "RESULT", "FULL"):
        raise illegal("newOrderRespType", "ACK, RESULT, FULL")
    order = state.place_order(
        call.user,
        sym,
        side=side,
        type_=type_,
        time_in_force=tif,
        qty=qty,
        quote_qty=quote_qty,
        price=price,
        client_order_id=client_id,
        now=call.now,
        dry_run=dry_run,
    )
    if order is None:
        return {}
    if resp_type == "ACK":
        return order.ack(call.now)
    return order.result(call.now) if resp_type == "RESULT" else order.full(call.now)


def _lookup(state: BinanceState, call: Call) -> FakeOrder | None:
    sym = symbol_param(state, call.params)
    order_id = int_param(call.params, "orderId")
    client_id = call.params.get("origClientOrderId") or None
    if order_id is None and client_id is None:
        msg = "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
        raise BinanceError(400, -1102, msg)
    return call.user.find_order(sym.symbol, order_id, client_id)


def query_order(state: BinanceState, call: Call) -> Any:
    """``GET /api/v3/order``: -2013 when not found."""
    order = _lookup(state, call)
    if order is None:
        raise BinanceError(400, -2013, "Order does not exist.")
    return order.query()


def cancel_order(state: BinanceState, call: Call) -> Any:
    """``DELETE /api/v3/order``: -2011 "Unknown order sent." when unknown or not open."""
    order = _lookup(state, call)
    if order is None or not order.is_open:
        raise BinanceError(400, -2011, "Unknown order sent.")
    cancel_id = call.params.get("newClientOrderId") or f"cancel{order.order_id:016d}"
    state.cancel_order(call.user, order, call.now)
    return order.canceled(cancel_id, call.now)


def open_orders(state: BinanceState, call: Call) -> Any:
    """``GET /api/v3/openOrders``: all symbols when ``symbol`` is absent."""
    symbol = symbol_param(state, call.params).symbol if "symbol" in call.params else None
    return [order.query() for order in call.user.open_orders(symbol)]


def all_orders(state: BinanceState, call: Call) -> Any:
    """``GET /api/v3/allOrders``: symbol required; ``orderId`` (from that id on) or a window of
    at most 24 h; else the most recent ``limit`` orders; ascending by order id."""
    params = call.params
    sym = symbol_param(state, params)
    order_id = int_param(params, "orderId")
    start, end = int_param(params, "startTime"), int_param(params, "endTime")
    limit = limit_param(params)
    if start is not None and end is not None and end - start > DAY_MS:
        raise BinanceError(400, -1127, "More than 24 hours between startTime and endTime.")
    rows = [order for order in call.user.orders if order.symbol == sym.symbol]
    if order_id is not None:
        rows = [order for order in rows if order.order_id >= order_id]
    if start is not None:
        rows = [order for order in rows if order.time_ms >= start]
    if end is not None:
        rows = [order for order in rows if order.time_ms <= end]
    rows.sort(key=lambda order: order.order_id)
    chosen = rows[:limit] if (order_id, start, end) != (None, None, None) else rows[-limit:]
    return [order.query() for order in chosen]


# -- routes ----------------------------------------------------------------------------------


def _fixed(weight: int) -> Callable[[Mapping[str, str]], int]:
    return lambda _params: weight


_ORDER_PARAMS = frozenset(
    {
        "symbol",
        "side",
        "type",
        "timeInForce",
        "quantity",
        "quoteOrderQty",
        "price",
        "newClientOrderId",
        "newOrderRespType",
        "strategyId",
        "strategyType",
        "stopPrice",
        "trailingDelta",
        "icebergQty",
        "selfTradePreventionMode",
        "computeCommissionRates",
    }
)
_TRADE_PARAMS = frozenset({"symbol", "orderId", "startTime", "endTime", "fromId", "limit"})
_LOOKUP_PARAMS = frozenset({"symbol", "orderId", "origClientOrderId"})
_MARKET_PARAMS = frozenset({"symbol", "symbols", "symbolStatus"})


def _routes() -> dict[tuple[str, str], Route]:
    def signed(
        handler: Handler, weight: Callable[[Mapping[str, str]], int], params: frozenset[str]
    ) -> Route:
        return Route(handler, weight, True, params | SIGNED_PARAMS)

    one_or_all = _MARKET_PARAMS
    return {
        ("GET", "/api/v3/ping"): Route(ping, _fixed(1), False, frozenset()),
        ("GET", "/api/v3/time"): Route(server_time, _fixed(1), False, frozenset()),
        ("GET", "/api/v3/exchangeInfo"): Route(
            exchange_info, _fixed(20), False, one_or_all | {"permissions", "showPermissionSets"}
        ),
        ("GET", "/api/v3/ticker/price"): Route(
            ticker_price, lambda p: 2 if "symbol" in p else 4, False, one_or_all
        ),
        ("GET", "/api/v3/account"): signed(
            account_info, _fixed(20), frozenset({"omitZeroBalances"})
        ),
        ("GET", "/api/v3/myTrades"): signed(
            my_trades, lambda p: 5 if "orderId" in p else 20, _TRADE_PARAMS
        ),
        ("POST", "/api/v3/order"): signed(new_order, _fixed(1), _ORDER_PARAMS),
        ("POST", "/api/v3/order/test"): signed(
            lambda s, c: new_order(s, c, dry_run=True),
            lambda p: 20 if p.get("computeCommissionRates") == "true" else 1,
            _ORDER_PARAMS,
        ),
        ("GET", "/api/v3/order"): signed(query_order, _fixed(4), _LOOKUP_PARAMS),
        ("DELETE", "/api/v3/order"): signed(
            cancel_order, _fixed(1), _LOOKUP_PARAMS | {"newClientOrderId", "cancelRestrictions"}
        ),
        ("GET", "/api/v3/allOrders"): signed(
            all_orders,
            _fixed(20),
            frozenset({"symbol", "orderId", "startTime", "endTime", "limit"}),
        ),
        ("GET", "/api/v3/openOrders"): signed(
            open_orders, lambda p: 6 if "symbol" in p else 80, frozenset({"symbol"})
        ),
        ("GET", "/fapi/v1/ping"): Route(ping, _fixed(1), False, frozenset()),
        ("GET", "/fapi/v1/time"): Route(server_time, _fixed(1), False, frozenset()),
        ("GET", "/fapi/v1/ticker/price"): Route(
            futures_ticker_price, lambda p: 1 if "symbol" in p else 2, False, one_or_all
        ),
        ("GET", "/fapi/v3/positionRisk"): signed(position_risk, _fixed(5), frozenset({"symbol"})),
        ("GET", "/fapi/v1/userTrades"): signed(user_trades, _fixed(5), _TRADE_PARAMS),
    }


ROUTES = _routes()
"""(method, path) to route; the weights are Binance's documented ones (spot and futures)."""
