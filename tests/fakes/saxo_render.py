"""Payload shapes of the fake Saxo Bank's gateway, one function per item type.

Field names and groups follow Saxo's OpenAPI reference and its examples
(https://www.developer.saxo/openapi/referencedocs); numbers stay ``Decimal`` so ``saxo_wire.dumps``
writes them exactly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.fakes.saxo_state import (
    FakeAccount,
    FakeClosedPosition,
    FakeInstrument,
    FakeNetPosition,
    FakeOrder,
    FakePosition,
    FakeTrade,
    OrderActivity,
    SaxoState,
)

Row = dict[str, Any]


def instrument_or_stub(state: SaxoState, uic: int, asset_type: str) -> FakeInstrument:
    """The instrument, or a stand-in for positions seeded on an instrument never added."""
    known = state.instruments.get((uic, asset_type))
    if known is not None:
        return known
    return FakeInstrument(
        uic, asset_type, f"UIC{uic}", f"Instrument {uic}", "USD", Decimal(0), Decimal(0)
    )


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def legal_asset_types(state: SaxoState) -> list[str]:
    """The asset types of the instruments added (``["FxSpot", "Stock"]`` when none)."""
    return sorted({asset for _, asset in state.instruments}) or ["FxSpot", "Stock"]


def _valuation(
    instrument: FakeInstrument, amount: Decimal, given: Decimal | None, fallback: Decimal
) -> tuple[Decimal, str]:
    # A long is valued at the bid, a short at the ask (what closing it would get).
    if given is not None:
        return given, "Bid" if amount >= 0 else "Ask"
    price = instrument.bid if amount >= 0 else instrument.ask
    return (price, "Bid" if amount >= 0 else "Ask") if price else (fallback, "Bid")


# -- portfolio ---------------------------------------------------------------------------------


def account(state: SaxoState, item: FakeAccount) -> Row:
    """An ``/port/v1/accounts`` item."""
    return {
        "AccountGroupKey": item.account_key,
        "AccountId": item.account_id,
        "AccountKey": item.account_key,
        "AccountType": "Normal",
        "Active": True,
        "ClientId": state.client_id,
        "ClientKey": state.client_key,
        "Currency": item.currency,
        "CurrencyDecimals": 2,
        "IsMarginTradingAllowed": False,
        "IsTrialAccount": True,
        "LegalAssetTypes": legal_asset_types(state),
        "ManagementType": "Client",
    }


def net_position(
    state: SaxoState, item: FakeAccount, net: FakeNetPosition, groups: set[str]
) -> Row:
    """A ``/port/v1/netpositions`` item with the field groups asked for."""
    instrument = instrument_or_stub(state, net.uic, net.asset_type)
    price, price_type = _valuation(instrument, net.amount, net.current_price, net.average_price)
    lots = sum(1 for p in item.positions if (p.uic, p.asset_type) == (net.uic, net.asset_type))
    row: Row = {"NetPositionId": net.net_position_id}
    if "NetPositionBase" in groups:
        row["NetPositionBase"] = {
            "AccountId": item.account_id,
            "Amount": net.amount,
            "AssetType": net.asset_type,
            "CanBeClosed": net.amount != 0,
            "ClientId": state.client_id,
            "IsMarketOpen": True,
            "NumberOfRelatedOrders": 0,
            "OpeningDirection": "Buy" if net.amount > 0 else "Sell" if net.amount < 0 else "None",
            "PositionsAccount": item.account_id,
            "Uic": net.uic,
            "ValueDate": net.opened_at,
        }
    if "NetPositionView" in groups:
        row["NetPositionView"] = {
            "AverageOpenPrice": net.average_price,
            "AverageOpenPriceIncludingCosts": net.average_price,
            "CalculationReliability": "Ok",
            "CurrentPrice": price,
            "CurrentPriceType": price_type,
            "Exposure": net.amount * price,
            "ExposureCurrency": instrument.currency,
            "MarketValue": net.amount * price,
            "PositionCount": lots,
            "ProfitLossOnTrade": (price - net.average_price) * net.amount,
            "Status": "Open",
            "TradeCostsTotal": Decimal(0),
        }
    if "DisplayAndFormat" in groups:
        row["DisplayAndFormat"] = instrument.display()
    return row


def position(state: SaxoState, item: FakeAccount, lot: FakePosition, groups: set[str]) -> Row:
    """A ``/port/v1/positions`` item."""
    instrument = instrument_or_stub(state, lot.uic, lot.asset_type)
    price, price_type = _valuation(instrument, lot.amount, None, lot.open_price)
    row: Row = {"NetPositionId": f"{lot.uic}__{lot.asset_type}", "PositionId": lot.position_id}
    if "PositionBase" in groups:
        row["PositionBase"] = {
            "AccountId": item.account_id,
            "Amount": lot.amount,
            "AssetType": lot.asset_type,
            "CanBeClosed": True,
            "ClientId": state.client_id,
            "ExecutionTimeOpen": lot.execution_time_open,
            "OpenPrice": lot.open_price,
            "Status": "Open",
            "Uic": lot.uic,
            "ValueDate": lot.execution_time_open,
        }
    if "PositionView" in groups:
        row["PositionView"] = {
            "CalculationReliability": "Ok",
            "CurrentPrice": price,
            "CurrentPriceType": price_type,
            "Exposure": lot.amount * price,
            "ExposureCurrency": instrument.currency,
            "ProfitLossOnTrade": (price - lot.open_price) * lot.amount,
            "ProfitLossOnTradeInBaseCurrency": (price - lot.open_price) * lot.amount,
        }
    if "DisplayAndFormat" in groups:
        row["DisplayAndFormat"] = instrument.display()
    return row


def closed_position(
    state: SaxoState, item: FakeAccount, closed: FakeClosedPosition, groups: set[str]
) -> Row:
    """A ``/port/v1/closedpositions`` item."""
    instrument = instrument_or_stub(state, closed.uic, closed.asset_type)
    profit = (closed.closing_price - closed.open_price) * closed.amount
    row: Row = {
        "ClosedPositionUniqueId": closed.unique_id,
        "NetPositionId": f"{closed.uic}__{closed.asset_type}",
    }
    if "ClosedPosition" in groups:
        row["ClosedPosition"] = {
            "AccountId": item.account_id,
            "Amount": closed.amount,
            "AssetType": closed.asset_type,
            "BuyOrSell": "Buy" if closed.amount > 0 else "Sell",
            "ClosedProfitLoss": profit,
            "ClosedProfitLossInBaseCurrency": profit,
            "ClosingMethod": closed.closing_method,
            "ClosingPositionId": closed.closing_position_id,
            "ClosingPrice": closed.closing_price,
            "ExecutionTimeClose": closed.execution_time_close,
            "ExecutionTimeOpen": closed.execution_time_open,
            "OpenPrice": closed.open_price,
            "OpeningPositionId": closed.opening_position_id,
            "Uic": closed.uic,
        }
    if "DisplayAndFormat" in groups:
        row["DisplayAndFormat"] = instrument.display()
    return row


def open_order(state: SaxoState, order: FakeOrder, groups: set[str]) -> Row:
    """A ``/port/v1/orders`` item."""
    instrument = instrument_or_stub(state, order.uic, order.asset_type)
    market = instrument.ask if order.buy_sell == "Buy" else instrument.bid
    row: Row = {
        "AccountId": order.account_id,
        "AccountKey": order.account_key,
        "Amount": order.amount,
        "AssetType": order.asset_type,
        "BuySell": order.buy_sell,
        "ClientKey": state.client_key,
        "CurrentPrice": market,
        "CurrentPriceType": "Ask" if order.buy_sell == "Buy" else "Bid",
        "Duration": {"DurationType": order.duration_type},
        "FilledAmount": order.filled_amount,
        "IsForceOpen": False,
        "IsMarketOpen": True,
        "NonTradableReason": "None",
        "OpenOrderType": order.order_type,
        "OrderAmountType": "Quantity",
        "OrderId": order.order_id,
        "OrderRelation": "StandAlone",
        "OrderTime": order.placed_at,
        "Status": "Working",
        "Uic": order.uic,
    }
    if order.price is not None:
        row["Price"] = order.price
        row["DistanceToMarket"] = abs(market - order.price)
    if order.external_reference is not None:
        row["ExternalReference"] = order.external_reference
    if "DisplayAndFormat" in groups:
        row["DisplayAndFormat"] = instrument.display()
    return row


def balance(item: FakeAccount, rows: list[Row], orders: int) -> Row:
    """A ``/port/v1/balances`` answer from the account's rendered net positions."""
    value = sum((r["NetPositionView"]["MarketValue"] for r in rows), Decimal(0))
    return {
        "CalculationReliability": "Ok",
        "CashAvailableForTrading": item.cash,
        "CashBalance": item.cash,
        "Currency": item.currency,
        "CurrencyDecimals": 2,
        "NetPositionsCount": len(rows),
        "OpenPositionsCount": len(item.positions),
        "OrdersCount": orders,
        "TotalValue": item.cash + value,
        "UnrealizedPositionsValue": value,
    }


# -- cs: audit and reports ---------------------------------------------------------------------


def activity(state: SaxoState, entry: OrderActivity, groups: set[str]) -> Row:
    """A ``/cs/v1/audit/orderactivities`` entry."""
    order = entry.order
    row: Row = {
        "AccountId": order.account_id,
        "ActivityTime": entry.activity_time,
        "Amount": order.amount,
        "AssetType": order.asset_type,
        "BuySell": order.buy_sell,
        "ClientId": state.client_id,
        "Duration": {"DurationType": order.duration_type},
        "FilledAmount": entry.filled_amount,
        "HandledBy": state.user_id,
        "LogId": str(entry.log_id),
        "OrderId": order.order_id,
        "OrderRelation": "StandAlone",
        "OrderType": order.order_type,
        "Status": entry.status,
        "SubStatus": "Confirmed",
        "Uic": order.uic,
    }
    if order.price is not None:
        row["Price"] = order.price
    if order.external_reference is not None:
        row["ExternalReference"] = order.external_reference
    if entry.fill_amount is not None:
        row["FillAmount"] = entry.fill_amount
    if entry.average_price is not None:
        row["AveragePrice"] = entry.average_price
    if "DisplayAndFormat" in groups:
        row["DisplayAndFormat"] = instrument_or_stub(state, order.uic, order.asset_type).display()
    return row


def report_trade(state: SaxoState, item: FakeAccount, trade: FakeTrade) -> Row:
    """A ``/cs/v1/reports/trades`` row. ``TradedValue`` = -(price * amount) (spec)."""
    instrument = instrument_or_stub(state, trade.uic, trade.asset_type)
    row: Row = {
        "AccountCurrency": item.currency,
        "AccountCurrencyDecimals": 2,
        "AccountId": trade.account_id,
        "AdjustedTradeDate": trade.trade_date,
        "Amount": trade.amount,
        "AssetType": trade.asset_type,
        "ClientCurrency": item.currency,
        "ExchangeDescription": instrument.exchange_id,
        "InstrumentCurrencyDecimal": instrument.decimals,
        "InstrumentDescription": instrument.description,
        "InstrumentSymbol": instrument.symbol,
        "OrderId": trade.order_id,
        "Price": trade.price,
        "TradeDate": trade.trade_date,
        "TradeEventType": "Bought" if trade.amount > 0 else "Sold",
        "TradeExecutionTime": trade.executed_at,
        "TradeId": trade.trade_id,
        "TradeType": "Market",
        "TradedValue": -(trade.price * trade.amount),
        "Uic": trade.uic,
        "ValueDate": trade.trade_date + timedelta(days=2),
        "Venue": instrument.exchange_id,
    }
    if trade.external_reference is not None:
        row["ExternalReference"] = trade.external_reference
    return row


# -- ref and trade -----------------------------------------------------------------------------


def instrument_summary(instrument: FakeInstrument, keyword_match: bool) -> Row:
    """A ``/ref/v1/instruments`` search item."""
    return {
        "AssetType": instrument.asset_type,
        "CurrencyCode": instrument.currency,
        "Description": instrument.description,
        "ExchangeId": instrument.exchange_id,
        "GroupId": 0,
        "Identifier": instrument.uic,
        "IsKeywordMatch": keyword_match,
        "PrimaryListing": instrument.uic,
        "SummaryType": "Instrument",
        "Symbol": instrument.symbol,
        "TradableAs": [instrument.asset_type],
    }


def instrument_details(instrument: FakeInstrument) -> Row:
    """``/ref/v1/instruments/details/{Uic}/{AssetType}``."""
    return {
        "AmountDecimals": max(_decimals(instrument.lot_size), _decimals(instrument.min_amount)),
        "AssetType": instrument.asset_type,
        "CurrencyCode": instrument.currency,
        "DefaultAmount": instrument.min_amount,
        "Description": instrument.description,
        "Exchange": {"ExchangeId": instrument.exchange_id, "Name": instrument.exchange_id},
        "Format": {
            "Decimals": instrument.decimals,
            "Format": "Normal",
            "OrderDecimals": instrument.decimals,
        },
        "IsTradable": True,
        "LotSize": instrument.lot_size,
        "LotSizeType": "OddLotsAllowed" if instrument.lot_size == 1 else "LotsOnly",
        "MinimumTradeSize": instrument.min_amount,
        "SupportedOrderTypes": ["Market", "Limit"],
        "Symbol": instrument.symbol,
        "TickSize": instrument.tick_size,
        "TradableAs": [instrument.asset_type],
        "Uic": instrument.uic,
    }


def info_price(instrument: FakeInstrument, groups: set[str], now: datetime) -> Row:
    """A ``/trade/v1/infoprices`` answer: a tradable, undelayed quote."""
    row: Row = {"AssetType": instrument.asset_type, "LastUpdated": now, "Uic": instrument.uic}
    if "Quote" in groups:
        row["Quote"] = {
            "Amount": instrument.min_amount,
            "Ask": instrument.ask,
            "Bid": instrument.bid,
            "DelayedByMinutes": 0,
            "ErrorCode": "None",
            "MarketState": "Open",
            "Mid": instrument.mid,
            "PriceTypeAsk": "Tradable",
            "PriceTypeBid": "Tradable",
        }
    if "DisplayAndFormat" in groups:
        row["DisplayAndFormat"] = instrument.display()
    return row
