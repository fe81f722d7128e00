"""Helpers the broker contract's checks share (and adapter test suites reuse)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal

import attrs
import pytest

from tradecore.domain import (
    Account,
    Instrument,
    Order,
    OrderRequest,
    OrderType,
    Side,
    Trade,
    client_order_id_for,
    new_id,
)
from tradecore.ports.broker import BrokerPort

MAX_PAGES = 1000
"""More ``has_more`` pages than this in one test means the cursor does not advance."""


def _request(
    account: Account,
    instrument: Instrument,
    quantity: Decimal,
    *,
    limit_price: Decimal | None = None,
) -> OrderRequest:
    return OrderRequest(
        connection_id=account.connection_id,
        account_id=account.account_id,
        client_order_id=client_order_id_for(f"contract-{new_id()}"),
        instrument=instrument,
        side=Side.BUY,
        order_type=OrderType.MARKET if limit_price is None else OrderType.LIMIT,
        quantity=quantity,
        limit_price=limit_price,
    )


async def _all_trades(
    broker: BrokerPort, account: Account, cursor: str | None
) -> tuple[list[Trade], str | None]:
    # Follow has_more to the end; return every fill and the cursor to store.
    trades: list[Trade] = []
    for _ in range(MAX_PAGES):
        page = await broker.get_trades(account, cursor=cursor)
        trades.extend(page.trades)
        if not page.has_more:
            return trades, page.cursor if page.cursor is not None else cursor
        assert page.cursor is not None, "has_more without a cursor"
        assert page.cursor != cursor, "has_more without a new cursor"
        cursor = page.cursor
    pytest.fail(f"get_trades still had more after {MAX_PAGES} pages")


def _belongs_to(trade: Trade, order: Order) -> bool:
    if trade.client_order_id is not None:
        return trade.client_order_id == order.client_order_id
    return order.broker_order_id is not None and trade.broker_order_id == order.broker_order_id


async def _price_step(broker: BrokerPort, instrument: Instrument) -> Decimal | None:
    for asset in await broker.get_assets():
        if asset.instrument.symbol == instrument.symbol:
            return asset.price_step
    return None


def _far_below(price: Decimal, step: Decimal | None) -> Decimal:
    # 30% under the market: far enough not to fill, near enough for price-band filters.
    target = price * Decimal("0.7")
    if step:
        return max((target / step).to_integral_value(ROUND_DOWN) * step, step)
    return target.quantize(price, rounding=ROUND_DOWN)


async def _resting_limit(
    broker: BrokerPort, account: Account, instrument: Instrument, quantity: Decimal
) -> OrderRequest:
    # A limit buy far below the market: it rests, so the venue keeps it open.
    quote = await broker.get_asset_price(instrument)
    price = _far_below(quote.bid or quote.last, await _price_step(broker, instrument))
    return _request(account, instrument, quantity, limit_price=price)


def _floats_in(value: object, path: str = "") -> list[str]:
    # Where a float hides in a returned value (attrs fields, mappings, sequences), by path.
    if isinstance(value, float):
        return [path or "<value>"]
    if attrs.has(type(value)):
        return [
            found
            for field in attrs.fields(type(value))  # type: ignore[arg-type]
            for found in _floats_in(getattr(value, field.name), f"{path}.{field.name}")
        ]
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in _floats_in(v, f"{path}[{k!r}]")]
    if isinstance(value, list | tuple | frozenset | set):
        return [found for n, item in enumerate(value) for found in _floats_in(item, f"{path}[{n}]")]
    return []


def _no_floats(values: Iterable[object], what: str) -> None:
    found = [place for value in values for place in _floats_in(value)]
    assert not found, f"{what} carries a float at {', '.join(found[:5])}"
