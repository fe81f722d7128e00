"""Pure functions between the venue's records and tradecore's domain types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

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
from tradecore_adapters.paper._client import (
    ACCOUNT_ID,
    VenueFill,
    VenueHolding,
    VenueInstrument,
    VenueOrder,
    VenueQuote,
    VenueTicket,
)

__all__ = [
    "cash_instrument",
    "to_account",
    "to_asset",
    "to_instrument",
    "to_order",
    "to_positions",
    "to_quote",
    "to_ticket",
    "to_trade",
]

_CENT = Decimal("0.01")
_ASSET_TYPES = {"crypto": AssetType.SPOT, "stock": AssetType.STOCK, "fx": AssetType.FX}
_STATUSES = {
    "NEW": OrderStatus.OPEN,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
}


def to_instrument(item: VenueInstrument) -> Instrument:
    """The domain instrument of a listed venue instrument."""
    return Instrument(
        symbol=item.symbol, asset_type=_ASSET_TYPES[item.kind], base=item.base, quote=item.quote
    )


def cash_instrument(currency: str) -> Instrument:
    """The pseudo-instrument of the account's cash (tradecore has no cash asset type)."""
    return Instrument(symbol=currency, asset_type=AssetType.CASH, base=currency, quote=currency)


def to_asset(item: VenueInstrument) -> Asset:
    """The asset, with its trading rules, of a listed venue instrument."""
    return Asset(
        instrument=to_instrument(item),
        description=item.name,
        currency=item.quote,
        min_quantity=item.lot,
        quantity_step=item.lot,
        price_step=item.tick,
    )


def to_account(connection_id: str, currency: str) -> Account:
    """The venue's single account."""
    return Account(
        connection_id=connection_id, account_id=ACCOUNT_ID, name="Paper account", currency=currency
    )


def to_quote(quote: VenueQuote, item: VenueInstrument) -> Quote:
    """A domain quote from a venue quote."""
    return Quote(
        instrument=to_instrument(item),
        last=quote.last,
        bid=quote.bid,
        ask=quote.ask,
        currency=item.quote,
        as_of=quote.time,
    )


def to_trade(fill: VenueFill, item: VenueInstrument, *, connection_id: str) -> Trade:
    """A domain trade from a venue fill; the fee is charged in the quote currency."""
    return Trade(
        connection_id=connection_id,
        account_id=ACCOUNT_ID,
        broker_trade_id=fill.fill_id,
        broker_order_id=fill.order_id,
        client_order_id=fill.client_order_id,
        instrument=to_instrument(item),
        side=Side.BUY if fill.side == "BUY" else Side.SELL,
        quantity=fill.quantity,
        price=fill.price,
        fee=fill.fee,
        fee_asset=item.quote,
        executed_at=fill.time,
    )


def to_positions(
    cash: Decimal,
    holdings: Iterable[VenueHolding],
    instruments: Mapping[str, VenueInstrument],
    *,
    connection_id: str,
    currency: str,
    as_of: datetime,
) -> list[Position]:
    """One position per holding, valued at its mark, then the cash (when not zero)."""
    positions = []
    for holding in holdings:
        item = instruments[holding.symbol]
        positions.append(
            Position(
                connection_id=connection_id,
                account_id=ACCOUNT_ID,
                instrument=to_instrument(item),
                quantity=holding.quantity,
                average_price=holding.average_price.quantize(item.tick),
                currency=item.quote,
                market_value=(holding.quantity * holding.mark).quantize(_CENT),
                unrealized_pnl=((holding.mark - holding.average_price) * holding.quantity).quantize(
                    _CENT
                ),
                as_of=as_of,
            )
        )
    if cash:
        positions.append(
            Position(
                connection_id=connection_id,
                account_id=ACCOUNT_ID,
                instrument=cash_instrument(currency),
                quantity=cash,
                average_price=Decimal(1),
                currency=currency,
                market_value=cash,
                unrealized_pnl=Decimal(0),
                as_of=as_of,
            )
        )
    return positions


def to_ticket(request: OrderRequest) -> VenueTicket:
    """The venue ticket for an order request."""
    return VenueTicket(
        client_order_id=request.client_order_id,
        symbol=request.instrument.symbol,
        side="BUY" if request.side is Side.BUY else "SELL",
        kind="MARKET" if request.order_type is OrderType.MARKET else "LIMIT",
        quantity=request.quantity,
        limit_price=request.limit_price,
        time_in_force=request.time_in_force.value.upper(),
    )


def to_order(order: VenueOrder, item: VenueInstrument, *, connection_id: str) -> Order:
    """The domain order the venue reports, with the request rebuilt from the venue's ticket."""
    ticket = order.ticket
    request = OrderRequest(
        connection_id=connection_id,
        account_id=ACCOUNT_ID,
        client_order_id=ticket.client_order_id,
        instrument=to_instrument(item),
        side=Side.BUY if ticket.side == "BUY" else Side.SELL,
        order_type=OrderType.MARKET if ticket.kind == "MARKET" else OrderType.LIMIT,
        quantity=ticket.quantity,
        limit_price=ticket.limit_price,
        time_in_force=TimeInForce(ticket.time_in_force.lower()),
    )
    return Order(
        request=request,
        status=_STATUSES[order.status],
        broker_order_id=order.order_id,
        filled_quantity=order.filled_quantity,
        average_fill_price=order.average_price,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )
