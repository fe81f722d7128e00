"""The fast path of a trade page: ``myTrades`` / ``userTrades`` bytes straight to domain trades.

A history sync reads hundreds of thousands of fills, and the strict reader of :mod:`._mapping`
checks each value in Python one at a time. Here a page is decoded by msgspec into typed rows
(:class:`SpotRow`, :class:`FuturesRow`) in one pass: ids and times are JSON integers within their
ranges, the side a JSON boolean (spot) or ``"BUY"``/``"SELL"`` (futures), the commission asset a
non-empty string, and every amount a **JSON string**, never a number. The amounts of the page are
then checked together (one regular expression over all of them): plain ASCII decimal notation,
at most 15 integer digits, 12 decimal places and 18 digits, so within the rule for amounts of
:mod:`tradecore_adapters._reported`; quantities above zero. Only then are the trades built with
:func:`~tradecore.domain.trade.unchecked_trade`, which does not check again what was proved here.

Anything outside that accepted set (a float amount, an id out of range, ``"1E-8"``, a row of
another symbol, a missing field…) is not an error here: the page goes to the strict reader, which
accepts what Binance may legitimately send (a JSON integer amount, trailing zeros past 12
places) and refuses the rest with the sentence it always gave. So this path never accepts a value
the strict reader would refuse, and every refusal reads the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final, Literal

import msgspec

from tradecore.domain import Account, Instrument, Side, Trade
from tradecore.domain.trade import unchecked_trade
from tradecore_adapters._reported import EARLIEST, INT64_MAX, LATEST
from tradecore_adapters.binance._mapping import MAX_TRADE_ID

__all__ = [
    "FastRows",
    "FuturesRow",
    "SpotRow",
    "decode_futures_page",
    "decode_spot_page",
    "fast_trades",
]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS: Final = timedelta(milliseconds=1)
_EARLIEST_MS: Final = (EARLIEST - _EPOCH) // _ONE_MS
_LATEST_MS: Final = (LATEST - _EPOCH) // _ONE_MS

_TradeId = Annotated[int, msgspec.Meta(ge=0, le=MAX_TRADE_ID)]
_OrderId = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
_Time = Annotated[int, msgspec.Meta(ge=_EARLIEST_MS, lt=_LATEST_MS)]
_Text = Annotated[str, msgspec.Meta(min_length=1)]

# Amounts one per line; each: optional sign, 1 to 15 integer digits, up to 12 decimal places,
# at most 19 characters (18 digits and the point).
_UNSIGNED: Final = re.compile(r"(?:(?=[0-9.]{1,19}\n)[0-9]{1,15}(?:\.[0-9]{1,12})?\n)*")
_SIGNED: Final = re.compile(r"(?:(?=-?[0-9.]{1,19}\n)-?[0-9]{1,15}(?:\.[0-9]{1,12})?\n)*")


class SpotRow(msgspec.Struct):
    """One ``GET /api/v3/myTrades`` row as the fast path accepts it (other keys ignored)."""

    symbol: str
    id: _TradeId
    orderId: _OrderId  # Binance's keys, as sent
    price: str
    qty: str
    commission: str
    commissionAsset: _Text
    time: _Time
    isBuyer: bool


class FuturesRow(msgspec.Struct):
    """One ``GET /fapi/v1/userTrades`` row as the fast path accepts it (other keys ignored)."""

    symbol: str
    id: _TradeId
    orderId: _OrderId
    side: Literal["BUY", "SELL"]
    price: str
    qty: str
    commission: str
    commissionAsset: _Text
    time: _Time


class FastRows:
    """A page msgspec decoded: its typed rows (:func:`fast_trades` maps them)."""

    __slots__ = ("rows",)

    def __init__(self, rows: list[SpotRow] | list[FuturesRow]) -> None:
        self.rows = rows

    def builtins(self) -> Any:
        """The rows as the JSON values they were decoded from (for the strict reader)."""
        return msgspec.to_builtins(self.rows)


_SPOT_DECODER: Final = msgspec.json.Decoder(list[SpotRow])
_FUTURES_DECODER: Final = msgspec.json.Decoder(list[FuturesRow])


def _decoder(decoder: msgspec.json.Decoder[Any]) -> Callable[[bytes], Any]:
    def decode(content: bytes) -> Any:
        try:
            return FastRows(decoder.decode(content))
        except msgspec.MsgspecError:
            # Not the accepted shape (or not JSON): the strict reader says what is wrong, and
            # json raises ValueError for a body that is not JSON at all, as the client expects.
            return json.loads(content)

    return decode


decode_spot_page: Final = _decoder(_SPOT_DECODER)
"""A ``myTrades`` body: :class:`FastRows`, or the decoded JSON when it is not of the accepted
shape. :raises ValueError: not JSON."""

decode_futures_page: Final = _decoder(_FUTURES_DECODER)
"""A ``userTrades`` body, like :data:`decode_spot_page`."""


def _amounts_accepted(texts: list[str], pattern: re.Pattern[str]) -> bool:
    joined = "\n".join(texts) + "\n"
    return joined.count("\n") == len(texts) and pattern.fullmatch(joined) is not None


def fast_trades(
    page: FastRows, *, account: Account, instrument: Instrument
) -> tuple[list[Trade], int | None] | None:
    """The trades of ``page`` and its highest trade id (``None`` when empty); ``None`` when a
    value is outside the accepted set (see the module docstring): use the strict reader then."""
    rows = page.rows
    if not rows:
        return [], None
    symbol = instrument.symbol
    if not (
        all(row.symbol == symbol for row in rows)
        and _amounts_accepted([row.qty for row in rows], _UNSIGNED)
        and _amounts_accepted([row.price for row in rows], _UNSIGNED)
        and _amounts_accepted([row.commission for row in rows], _SIGNED)
    ):
        return None
    connection_id = account.connection_id
    account_id = account.account_id
    buy, sell = Side.BUY, Side.SELL
    epoch, one_ms = _EPOCH, _ONE_MS
    trades: list[Trade] = []
    append = trades.append
    try:
        for row in rows:
            quantity = Decimal(row.qty)
            if not quantity:
                return None
            if isinstance(row, SpotRow):
                side = buy if row.isBuyer else sell
            else:
                side = buy if row.side == "BUY" else sell
            append(
                unchecked_trade(
                    connection_id=connection_id,
                    account_id=account_id,
                    broker_trade_id=str(row.id),
                    broker_order_id=str(row.orderId),
                    instrument=instrument,
                    side=side,
                    quantity=quantity,
                    price=Decimal(row.price),
                    fee=Decimal(row.commission),
                    fee_asset=row.commissionAsset,
                    executed_at=epoch + one_ms * row.time,
                )
            )
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimal notation
        return None
    return trades, max(row.id for row in rows)
