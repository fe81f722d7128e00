"""What the Binance order search reads from ``allOrders`` and ``myTrades`` (pure functions of
``_orders``): an order listed under our client id is ours; a fill is ours only when its order is
not listed under another id, and it is on our side and within our quantity."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tradecore.domain import Account, OrderStatus, Side
from tradecore.errors import MalformedResponse
from tradecore.testing.builders import DEFAULT_TIME, make_order, make_trade
from tradecore_adapters.binance._orders import (
    fills_order,
    listed_client_ids,
    listed_order,
    unattributed_fills,
)

REQUEST = make_order(client_order_id="tc-ours", quantity=Decimal("0.1")).request
ACCOUNT = Account(connection_id=REQUEST.connection_id, account_id="spot")


def row(order_id: int, client_id: str, status: str = "FILLED") -> dict[str, Any]:
    return {
        "symbol": "BTCUSDT",
        "orderId": order_id,
        "orderListId": -1,
        "clientOrderId": client_id,
        "price": "0.00000000",
        "origQty": "0.10000000",
        "executedQty": "0.10000000" if status == "FILLED" else "0.00000000",
        "cummulativeQuoteQty": "4200.00000000" if status == "FILLED" else "0.00000000",
        "status": status,
        "timeInForce": "GTC",
        "type": "MARKET",
        "side": "BUY",
        "time": 1_764_000_000_000 + order_id,
        "updateTime": 1_764_000_000_000 + order_id,
    }


def test_the_newest_row_with_our_client_id_is_the_order() -> None:
    rows = [row(7, "web_abc"), row(8, "tc-ours", "CANCELED"), row(9, "tc-ours")]

    order = listed_order(rows, request=REQUEST, account=ACCOUNT, now=DEFAULT_TIME)

    assert order is not None
    assert (order.broker_order_id, order.status) == ("9", OrderStatus.FILLED)
    assert order.request == REQUEST
    assert (
        listed_order([row(7, "web_abc")], request=REQUEST, account=ACCOUNT, now=DEFAULT_TIME)
        is None
    )


def test_a_listing_that_is_not_a_list_of_orders_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        listed_client_ids({"orders": []})
    with pytest.raises(MalformedResponse):
        listed_client_ids([{"orderId": 1}])


def fill(order_id: str, quantity: str, side: Side = Side.BUY, trade_id: str = "1") -> Any:
    return make_trade(
        broker_trade_id=trade_id,
        broker_order_id=order_id,
        side=side,
        quantity=Decimal(quantity),
        price=Decimal("42000"),
    )


def test_only_fills_of_unlisted_orders_on_our_side_within_our_quantity_may_be_ours() -> None:
    trades = [
        fill("7", "0.1"),  # listed under another client id: someone else's
        fill("10", "0.1", Side.SELL),  # the other side
        fill("11", "0.06", trade_id="2"),
        fill("11", "0.06", trade_id="3"),  # 0.12 in all: more than ours
        fill("12", "0.04", trade_id="4"),
        fill("12", "0.06", trade_id="5"),  # 0.1: could be ours
    ]

    candidates = unattributed_fills(trades, listed={"7": "web_abc"}, request=REQUEST)

    assert sorted(candidates) == ["12"]


def test_fills_adding_up_to_the_quantity_are_a_filled_order_at_their_average() -> None:
    fills = [fill("12", "0.04", trade_id="4"), fill("12", "0.06", trade_id="5")]

    order = fills_order(fills, request=REQUEST, order_id="12")

    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, Decimal("0.10"))
    assert order.average_fill_price == Decimal("42000")
    assert "found by its fills" in (order.reason or "")
    part = fills_order(fills[:1], request=REQUEST, order_id="12")
    assert part.status is OrderStatus.PARTIALLY_FILLED
