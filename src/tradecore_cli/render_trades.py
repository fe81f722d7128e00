"""Trades and positions for the terminal (rich) and for scripts (JSON-ready dicts).

Amounts are exact: a Decimal becomes its plain digits (``"0.00000001"``, never ``1E-8`` and never
a float), and times are ISO 8601 in UTC with their offset (``2024-01-02T15:00:00+00:00``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from rich.table import Table

from tradecore.domain import Position, Trade
from tradecore_cli.render import literal_table

__all__ = ["amount", "position_json", "timestamp", "trade_json", "trades_table"]


def amount(value: Decimal | None) -> str | None:
    """The exact digits of ``value`` (no exponent), or ``None``."""
    return None if value is None else format(value, "f")


def timestamp(value: datetime) -> str:
    """``value`` in ISO 8601 with its UTC offset."""
    return value.isoformat()


def position_json(position: Position, *, connection: str) -> dict[str, Any]:
    """One position as a JSON object; ``connection`` is the connection's name."""
    return {
        "connection": connection,
        "account": position.account_id,
        "symbol": position.instrument.symbol,
        "asset_type": position.instrument.asset_type.value,
        "quantity": amount(position.quantity),
        "average_price": amount(position.average_price),
        "market_value": amount(position.market_value),
        "unrealized_pnl": amount(position.unrealized_pnl),
        "currency": position.currency,
        "as_of": timestamp(position.as_of),
    }


def trade_json(trade: Trade, *, connection: str) -> dict[str, Any]:
    """One trade as a JSON object; ``connection`` is the connection's name."""
    return {
        "connection": connection,
        "account": trade.account_id,
        "symbol": trade.instrument.symbol,
        "asset_type": trade.instrument.asset_type.value,
        "side": trade.side.value,
        "quantity": amount(trade.quantity),
        "price": amount(trade.price),
        "fee": amount(trade.fee),
        "fee_asset": trade.fee_asset,
        "executed_at": timestamp(trade.executed_at),
        "broker_trade_id": trade.broker_trade_id,
        "broker_order_id": trade.broker_order_id,
        "client_order_id": trade.client_order_id,
    }


def trades_table(
    trades: Sequence[Trade],
    *,
    connection_names: Mapping[str, str] | None = None,
    title: str = "Trades",
) -> Table:
    """One row per trade, oldest first: when (UTC), where, symbol, side, quantity, price, fee
    and the broker's trade id. ``connection_names`` maps connection ids to the names shown."""
    names = connection_names or {}
    table = Table(title=title, title_justify="left")
    headers = (
        "executed (UTC)",
        "connection / account",
        "symbol",
        "side",
        "quantity",
        "price",
        "fee",
        "trade id",
    )
    for index, header in enumerate(headers):
        table.add_column(header, justify="right" if 4 <= index <= 6 else "left", no_wrap=True)
    for trade in trades:
        fee = amount(trade.fee) or ""
        if trade.fee and trade.fee_asset:
            fee = f"{fee} {trade.fee_asset}"
        table.add_row(
            trade.executed_at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{names.get(trade.connection_id, trade.connection_id)} / {trade.account_id}",
            trade.instrument.symbol,
            trade.side.value,
            amount(trade.quantity),
            amount(trade.price),
            fee,
            trade.broker_trade_id,
        )
    return literal_table(table)
