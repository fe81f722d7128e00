"""The ``dca`` strategy type: dollar-cost averaging, a fixed quote amount of one instrument bought
once per period.

Periods are *slots* anchored at the strategy's creation: slot ``n`` covers
``[created_at + n*every, created_at + (n+1)*every)``. The strategy buys at most once per slot and
remembers the slot it last bought in (and when) in its state; after an outage it buys once, never
a burst for the slots it missed. A buy whose order never reached the broker (``not_placed``) is
decided again in its slot; a buy the risk checks blocked or the broker rejected used its slot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from attrs import frozen

from tradecore.domain import (
    Instrument,
    OrderIntent,
    OrderStatus,
    OrderType,
    Phrase,
    Side,
    StrategyConfig,
    StrategyDecision,
    Wording,
    joined,
    phrase,
)
from tradecore.ports import (
    ParameterKind,
    ParameterValues,
    StrategyContext,
    StrategyFactory,
    StrategyParameter,
)
from tradecore_adapters.strategies._amounts import plain, round_down, when
from tradecore_adapters.strategies._market import (
    base_asset,
    buy_price,
    holding,
    order_instrument,
    quote_currency,
)
from tradecore_adapters.strategies._parameters import (
    optional_positive_parameter,
    positive_parameter,
    symbol_parameter,
)

__all__ = ["DCA_FACTORY", "DcaStrategy"]

NAME = "dca"

# State keys (text values, see StrategyConfig.state).
LAST_SLOT = "last_slot"
LAST_BOUGHT_AT = "last_bought_at"

PARAMETERS = (
    StrategyParameter(
        name="instrument",
        description="The symbol to buy, as the connection's broker names it.",
        kind=ParameterKind.TEXT,
        required=True,
        example="BTC-USD",
    ),
    StrategyParameter(
        name="amount",
        description="How much to spend per buy, in the instrument's quote currency (more than 0).",
        kind=ParameterKind.DECIMAL,
        required=True,
        example="100",
    ),
    StrategyParameter(
        name="every",
        description="How often to buy: once per period, periods counted from when the strategy "
        "was added.",
        kind=ParameterKind.DURATION,
        default="1d",
        minimum="5m",
        example="1w",
    ),
    StrategyParameter(
        name="quantity_step",
        description="The broker's lot size: the quantity is amount / price rounded down to a "
        "multiple of it (more than 0).",
        kind=ParameterKind.DECIMAL,
        default="0.0001",
        example="0.001",
    ),
    StrategyParameter(
        name="max_price",
        description="Skip the buy while the price is above this (more than 0); no limit when "
        "unset.",
        kind=ParameterKind.DECIMAL,
        example="70000",
    ),
    StrategyParameter(
        name="order_type",
        description="market, or limit at the current ask (the last price when there is no ask).",
        kind=ParameterKind.TEXT,
        default="market",
        choices=("market", "limit"),
        example="limit",
    ),
)


@frozen(kw_only=True)
class DcaStrategy:
    """One configured ``dca`` strategy.

    :param created_at: the anchor of the slots (the strategy's creation time).
    :param every: the length of a slot.
    :param quantity_step: quantities are rounded down to a multiple of it.
    :param max_price: no buy while the price is above it.
    """

    symbol: str
    amount: Decimal
    created_at: datetime
    every: timedelta
    quantity_step: Decimal
    max_price: Decimal | None = None
    order_type: OrderType = OrderType.MARKET

    def instruments(self) -> Sequence[Instrument]:
        """The instrument it buys, so the cycle prices it even before anything is held."""
        return (Instrument(symbol=self.symbol),)

    async def evaluate(self, context: StrategyContext) -> StrategyDecision:
        """Buy once in the current slot unless already bought in it (see :meth:`decide`)."""
        return self.decide(context)

    def decide(self, context: StrategyContext) -> StrategyDecision:
        """The same as :meth:`evaluate`, synchronously: pure and deterministic."""
        now = context.now
        if now < self.created_at:
            return StrategyDecision(
                notes=[phrase("first buy due at {when}", when=when(self.created_at))]
            )
        slot = (now - self.created_at) // self.every
        start = self.created_at + slot * self.every
        due = phrase("next buy due at {when}", when=when(start + self.every))
        last_slot, last_at, unreadable = _read_state(context.state)
        notes: list[Wording] = [unreadable] if unreadable else []

        if last_at is not None and last_at >= start:
            lost = self._never_placed(context, last_at)
            if not lost:
                slot_at = {"slot": str(last_slot), "when": when(last_at)}
                bought = (
                    phrase("already decided (dry run) in slot {slot} at {when}", **slot_at)
                    if context.dry_run
                    else phrase("already bought in slot {slot} at {when}", **slot_at)
                )
                return StrategyDecision(notes=[*notes, joined([bought, due])])
            notes.append(
                phrase(
                    "the slot {slot} buy was never placed ({orders}), so it is decided again",
                    slot=str(slot),
                    orders=", ".join(lost),
                )
            )
            last_slot = slot - 1  # not a missed slot

        quote = context.prices.get(self.symbol)
        price = buy_price(quote) if quote is not None else None
        if price is None:
            return StrategyDecision(
                notes=[
                    *notes,
                    phrase(
                        "no price for {symbol}, so no buy in slot {slot} yet; tried again next "
                        "cycle",
                        symbol=self.symbol,
                        slot=str(slot),
                    ),
                ]
            )
        if self.max_price is not None and price > self.max_price:
            return StrategyDecision(
                notes=[
                    *notes,
                    phrase(
                        "{symbol} at {price} is above max_price {max_price}, so no buy in slot "
                        "{slot} yet; checked again next cycle",
                        symbol=self.symbol,
                        price=plain(price),
                        max_price=plain(self.max_price),
                        slot=str(slot),
                    ),
                ]
            )

        instrument = order_instrument(context, self.symbol)
        currency = quote_currency(context, self.symbol)
        spend = f"{plain(self.amount)} {currency}" if currency else plain(self.amount)
        quantity = round_down(self.amount / price, self.quantity_step)
        if not quantity:
            return StrategyDecision(
                notes=[
                    *notes,
                    phrase(
                        "{spend} buys less than one quantity_step ({step}) of {symbol} at "
                        "{price}, so no order in slot {slot}; raise amount or lower "
                        "quantity_step",
                        spend=spend,
                        step=plain(self.quantity_step),
                        symbol=self.symbol,
                        price=plain(price),
                        slot=str(slot),
                    ),
                ]
            )

        limit = self.order_type is OrderType.LIMIT
        intent = OrderIntent(
            instrument=instrument,
            side=Side.BUY,
            quantity=quantity,
            order_type=self.order_type,
            limit_price=price if limit else None,
            account_id=self._account(context, currency),
            reason=phrase("dca slot {slot}", slot=str(slot)),
        )
        buy = {
            "quantity": plain(quantity),
            "symbol": self.symbol,
            "spend": spend,
            "price": plain(price),
            "slot": str(slot),
        }
        notes.append(
            phrase("buy {quantity} {symbol} for {spend} limit {price} (slot {slot})", **buy)
            if limit
            else phrase("buy {quantity} {symbol} for {spend} at {price} (slot {slot})", **buy)
        )
        missed = slot - (last_slot + 1 if last_slot is not None else 0)
        if missed > 0:
            notes.append(
                phrase(
                    "{missed} earlier slot(s) had no buy; dca buys once now and does not make "
                    "them up",
                    missed=str(missed),
                )
            )
        notes.append(due)
        return StrategyDecision(
            intents=[intent],
            state={LAST_SLOT: str(slot), LAST_BOUGHT_AT: now.isoformat()},
            notes=notes,
        )

    def _never_placed(self, context: StrategyContext, decided_at: datetime) -> list[str]:
        # The client ids of the buy decided at ``decided_at`` when every order recorded for it
        # ended NOT_PLACED (it never reached the broker, so the slot has no buy); else nothing.
        # A rejected, cancelled or expired buy used its slot: retrying it every cycle would
        # repeat the rejection.
        orders = [
            o
            for o in context.orders
            if o.created_at >= decided_at
            and o.request.instrument.symbol == self.symbol
            and o.request.side is Side.BUY
        ]
        if orders and all(o.status is OrderStatus.NOT_PLACED for o in orders):
            return [o.client_order_id for o in orders]
        return []

    def _account(self, context: StrategyContext, currency: str | None) -> str | None:
        # The account already holding the instrument, else the one holding its quote currency;
        # None (the connection's only account) when neither is held.
        base = base_asset(self.symbol, context.prices.get(self.symbol), currency)
        held = holding(context.positions, self.symbol, base)
        if held is None and currency:
            held = holding(context.positions, currency)
        return held.account_id if held is not None else None


def _read_state(state: Mapping[str, str]) -> tuple[int | None, datetime | None, Phrase | None]:
    # (last slot, when it was bought, a note when the stored state could not be read).
    if not state.get(LAST_BOUGHT_AT):
        return None, None, None
    try:
        last_at = datetime.fromisoformat(state[LAST_BOUGHT_AT])
        last_slot = int(state[LAST_SLOT]) if state.get(LAST_SLOT) else None
    except ValueError:
        return None, None, _unreadable(state)
    if last_at.tzinfo is None or last_at.utcoffset() is None:
        return None, None, _unreadable(state)
    return last_slot, last_at, None


def _unreadable(state: Mapping[str, str]) -> Phrase:
    return phrase("ignored an unreadable stored state ({state})", state=repr(dict(state)))


def create(config: StrategyConfig, values: ParameterValues) -> DcaStrategy:
    """Build a ``dca`` strategy from its validated parameters.

    :raises ConfigurationError: the instrument is not a symbol, or amount, quantity_step or
        max_price is not more than 0.
    """
    owner = f"strategy {config.name!r} ({NAME})"
    return DcaStrategy(
        symbol=symbol_parameter(values, "instrument", owner=owner, example="BTC-USD"),
        amount=positive_parameter(values, "amount", owner=owner),
        created_at=config.created_at,
        every=values.duration("every"),
        quantity_step=positive_parameter(values, "quantity_step", owner=owner),
        max_price=optional_positive_parameter(values, "max_price", owner=owner),
        order_type=OrderType(values.text("order_type")),
    )


DCA_FACTORY = StrategyFactory(
    name=NAME,
    description="Dollar-cost averaging: buy a fixed quote amount of one instrument once per "
    "period.",
    create=create,
    parameters=PARAMETERS,
)
"""The ``dca`` strategy type, registered by :mod:`tradecore_adapters.strategies.plugin`."""
