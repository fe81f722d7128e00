"""The risk check every order passes before it is recorded: loading a user's :class:`RiskGate`
(limits, the global kill switch, the user's paused automation) and pricing an order's notional."""

from __future__ import annotations

from decimal import Decimal

from tradecore.domain import AutomationState, Quote, RiskGate, Side, TradingHalt
from tradecore.ports import UnitOfWork

__all__ = ["engage_halt", "load_risk_gate", "notional_of", "release_halt"]


async def load_risk_gate(uow: UnitOfWork, user_id: str) -> RiskGate:
    """The gate for ``user_id`` now: their limits, whether trading is halted for everyone, and
    whether their automation is paused (which stops all their order placement)."""
    limits = await uow.risk.get_limits(user_id)
    halt = await uow.risk.get_halt()
    automation = await uow.automation.get(user_id)
    paused = automation is not None and automation.state is AutomationState.PAUSED
    return RiskGate(limits=limits, halt=halt, paused=paused)


def notional_of(
    side: Side, quantity: Decimal, *, limit_price: Decimal | None, quote: Quote | None
) -> Decimal | None:
    """What an order is worth: quantity times its limit price, or, at market, times the price it
    would trade at (the ask for a buy, the bid for a sell, else the last price). ``None`` when no
    price is known."""
    price = limit_price
    if price is None and quote is not None:
        touch = quote.ask if side is Side.BUY else quote.bid
        price = touch if touch else quote.last
    return None if price is None else quantity * price


async def engage_halt(uow: UnitOfWork, halt: TradingHalt) -> None:
    """Engage the global kill switch: from the next order on, nothing is placed for anyone."""
    await uow.risk.set_halt(halt)


async def release_halt(uow: UnitOfWork) -> TradingHalt | None:
    """Release the kill switch; returns the halt that was engaged, if any."""
    engaged = await uow.risk.get_halt()
    await uow.risk.set_halt(None)
    return engaged
