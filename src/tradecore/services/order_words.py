"""How an order reads to a person: ``buy 0.5 BTC-USD at market``, and its status, as translatable
phrases whose quantity, symbol and price keep their exact digits (docs/translations.md)."""

from __future__ import annotations

from tradecore.domain import Order, OrderIntent, OrderStatus, Phrase, Side, phrase

__all__ = ["describe_order", "order_phrase", "status_phrase"]


def describe_order(order: Order | OrderIntent) -> str:
    """``buy 0.5 BTC-USD at market`` / ``sell 2 AAPL limit 190.5``, for an order or an intent."""
    return str(order_phrase(order))


def order_phrase(order: Order | OrderIntent) -> Phrase:
    """:func:`describe_order` as a translatable phrase; quantity, symbol and price stay exact."""
    what = order.request if isinstance(order, Order) else order
    quantity, symbol = str(what.quantity), what.instrument.symbol
    if what.limit_price is None:
        if what.side is Side.BUY:
            return phrase("buy {quantity} {symbol} at market", quantity=quantity, symbol=symbol)
        return phrase("sell {quantity} {symbol} at market", quantity=quantity, symbol=symbol)
    price = str(what.limit_price)
    if what.side is Side.BUY:
        return phrase(
            "buy {quantity} {symbol} limit {price}", quantity=quantity, symbol=symbol, price=price
        )
    return phrase(
        "sell {quantity} {symbol} limit {price}", quantity=quantity, symbol=symbol, price=price
    )


def status_phrase(status: OrderStatus) -> Phrase:
    """An order's status as a translatable word; in English, its value (``partially_filled``)."""
    return _STATUS_WORDS[status]


_STATUS_WORDS = {
    OrderStatus.PENDING_SUBMIT: phrase("pending_submit"),
    OrderStatus.OPEN: phrase("open"),
    OrderStatus.PARTIALLY_FILLED: phrase("partially_filled"),
    OrderStatus.FILLED: phrase("filled"),
    OrderStatus.CANCELED: phrase("canceled"),
    OrderStatus.REJECTED: phrase("rejected"),
    OrderStatus.EXPIRED: phrase("expired"),
    OrderStatus.UNKNOWN: phrase("unknown"),
    OrderStatus.NOT_PLACED: phrase("not_placed"),
}
