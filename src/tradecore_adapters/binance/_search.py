"""The Binance order search (:class:`~tradecore.ports.OrderSearch`): every way Binance offers to
find a spot order besides ``GET /api/v3/order`` by client id, which can answer "Order does not
exist." (-2013) for a while about an order that exists.

1. ``GET /api/v3/allOrders`` of the symbol, from a margin before the order was recorded: the row
   carrying its client order id is the order (status and amounts as Binance reports them).
2. ``GET /api/v3/myTrades`` of the symbol over the same window: a fill whose order the listing
   does not name is looked up by its ``orderId`` (``GET /api/v3/order``), and is the order when
   that shows our client id. When that lookup too answers "does not exist", the fills are
   matched conservatively: same side, together no more than the order's quantity, in the window.
   Such fills are taken as the order's (the cost of a wrong "not found" is a second order).

Windows are at most 24 hours (Binance's limit for both endpoints) and pages at most 1000 rows: a
full page that does not settle it is an error, never a "not found".
Endpoints and limits: https://developers.binance.com/docs/binance-spot-api-docs/rest-api
(Account endpoints: "All orders", "Account trade list"; Trading endpoints: "Query order").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from tradecore.domain import Account, Order, OrderRequest
from tradecore.errors import BrokerError, OrderNotFound
from tradecore_adapters.binance import _mapping as mapping
from tradecore_adapters.binance._client import BinanceClient
from tradecore_adapters.binance._errors import BROKER
from tradecore_adapters.binance._orders import (
    fills_order,
    listed_client_ids,
    listed_order,
    order_from_payload,
    unattributed_fills,
)

__all__ = ["SEARCH_MARGIN", "search_spot_order"]

SEARCH_MARGIN: Final = timedelta(minutes=5)
"""How long before the order was recorded the search starts (clock skew between this host and
Binance, and between the hosts of several daemons)."""

_WINDOW: Final = timedelta(hours=24) - timedelta(milliseconds=1)
_PAGE: Final = 1000


def _ms(when: datetime) -> str:
    return str(int(when.timestamp() * 1000))


async def search_spot_order(
    client: BinanceClient,
    base_url: str,
    *,
    request: OrderRequest,
    account: Account,
    since: datetime,
    now: datetime,
) -> Order:
    """Find ``request``'s order in the listings (see the module docstring).

    :raises OrderNotFound: neither listing holds it.
    :raises BrokerError: a listing was too long to search conclusively, or a request failed.
    """
    symbol = request.instrument.symbol
    start = since - SEARCH_MARGIN
    end = min(now, start + _WINDOW)
    window = [
        ("symbol", symbol),
        ("startTime", _ms(start)),
        ("endTime", _ms(max(end, start))),
        ("limit", str(_PAGE)),
    ]
    rows = await client.signed_get(base_url, "/api/v3/allOrders", window, weight=20)
    found = listed_order(rows, request=request, account=account, now=now)
    if found is not None:
        return found
    listed = listed_client_ids(rows)
    _conclusive(len(listed), "allOrders", request)
    raw = await client.signed_get(base_url, "/api/v3/myTrades", window, weight=20)
    trades = mapping.spot_trades(raw, account=account, instrument=request.instrument)
    _conclusive(len(trades), "myTrades", request)
    for order_id, fills in sorted(
        unattributed_fills(trades, listed=listed, request=request).items()
    ):
        params = [("symbol", symbol), ("orderId", order_id)]
        try:
            payload = await client.signed_get(base_url, "/api/v3/order", params, weight=4)
        except OrderNotFound:  # Binance's lag again: the fills are all there is to go by
            return fills_order(fills, request=request, order_id=order_id)
        order = order_from_payload(payload, request=None, account=account, now=now)
        if order.client_order_id == request.client_order_id:
            return order_from_payload(payload, request=request, account=account, now=now)
    raise OrderNotFound(
        f"Binance lists no order with client id {request.client_order_id} on {symbol} since "
        f"{start:%Y-%m-%d %H:%M:%S} UTC (allOrders and myTrades searched)",
        broker=BROKER,
    )


def _conclusive(rows: int, endpoint: str, request: OrderRequest) -> None:
    if rows >= _PAGE:
        raise BrokerError(
            f"Binance's {endpoint} holds {rows} or more entries for {request.instrument.symbol} "
            f"since order {request.client_order_id} was recorded: too many to show it was never "
            "placed; it stays unresolved (look it up by hand)",
            broker=BROKER,
        )
