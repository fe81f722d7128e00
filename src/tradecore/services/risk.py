"""Risk: the check every order passes before it is recorded (loading a user's :class:`RiskGate`
and pricing an order's notional), and the use cases on a user's limits and the global kill switch
(:class:`Risk`).

``max_orders_per_cycle`` and ``max_cycle_notional`` count the orders of one strategy cycle: they
stop strategies, never an order placed by hand (docs/orders.md, "Risk limits").
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Final

from attrs import evolve, frozen

from tradecore.domain import (
    AutomationState,
    Quote,
    RiskGate,
    RiskLimits,
    Side,
    TradingHalt,
    checked_amount,
)
from tradecore.errors import DomainError
from tradecore.ports import UnitOfWork
from tradecore.services.context import ServiceContext

__all__ = [
    "UNCHANGED",
    "HaltChange",
    "Risk",
    "RiskOverview",
    "Unchanged",
    "load_risk_gate",
    "notional_of",
]


class Unchanged(enum.Enum):
    """The type of :data:`UNCHANGED`."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED
"""A limit :meth:`Risk.set_limits` leaves as it is (``None`` means "no limit")."""


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


@frozen(kw_only=True)
class RiskOverview:
    """A user's risk limits, the kill switch (for everyone) and whether their automation is
    paused (which stops all their orders)."""

    limits: RiskLimits
    halt: TradingHalt | None
    paused: bool


@frozen(kw_only=True)
class HaltChange:
    """The kill switch as engaged now, and as it was before (``None``: it was not engaged)."""

    halt: TradingHalt
    before: TradingHalt | None


def _amount(kind: str, value: Decimal | None) -> Decimal | None:
    return None if value is None else checked_amount(kind, value)


def _count(value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise DomainError(f"max orders per cycle must be a whole number >= 0, got {value!r}")
    return value


def _symbols(value: Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise DomainError("allowed instruments must be a collection of symbols, not one string")
    symbols = frozenset(symbol.strip() if isinstance(symbol, str) else symbol for symbol in value)
    if not symbols:
        raise DomainError("allowed instruments must list at least one symbol (None allows all)")
    return symbols


class Risk:
    """The use cases on risk limits and the kill switch. Build it with the application's
    :class:`ServiceContext`."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    async def show(self, user_id: str) -> RiskOverview:
        """The user's limits (defaults when never set), the kill switch, and whether the user's
        automation is paused.

        :raises NotFound: there is no such user.
        """
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.get(user_id)
            gate = await load_risk_gate(uow, user_id)
        return RiskOverview(limits=gate.limits, halt=gate.halt, paused=gate.paused)

    async def set_limits(
        self,
        user_id: str,
        *,
        max_order_notional: Decimal | Unchanged | None = UNCHANGED,
        max_cycle_notional: Decimal | Unchanged | None = UNCHANGED,
        max_orders_per_cycle: int | Unchanged | None = UNCHANGED,
        allowed_instruments: Iterable[str] | Unchanged | None = UNCHANGED,
    ) -> RiskLimits:
        """Change the given limits of the user, in one unit of work; the others stay as they
        are. ``None`` removes a limit.

        Amounts follow :func:`~tradecore.domain.checked_amount`; symbols are trimmed and kept
        in the case given (as the brokers spell them). ``max_orders_per_cycle=0`` stops the
        user's strategies from placing any order; orders placed by hand are not counted.

        :returns: the limits as stored now.
        :raises DomainError: nothing to change, or a value breaks its rule; nothing is stored.
        :raises NotFound: there is no such user.
        """
        changes: dict[str, Any] = {}
        if max_order_notional is not UNCHANGED:
            changes["max_order_notional"] = _amount("max order notional", max_order_notional)
        if max_cycle_notional is not UNCHANGED:
            changes["max_cycle_notional"] = _amount("max cycle notional", max_cycle_notional)
        if max_orders_per_cycle is not UNCHANGED:
            changes["max_orders_per_cycle"] = _count(max_orders_per_cycle)
        if allowed_instruments is not UNCHANGED:
            changes["allowed_instruments"] = _symbols(allowed_instruments)
        if not changes:
            raise DomainError("nothing to change; give at least one limit")
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.get(user_id)
            limits = evolve(await uow.risk.get_limits(user_id), **changes)
            await uow.risk.save_limits(limits)
            await uow.commit()
        return limits

    async def halt(self, reason: str) -> HaltChange:
        """Engage the global kill switch: from the next order on, nothing is placed for anyone,
        by a strategy or by hand, until :meth:`resume`. Engaging it again replaces the reason.

        :raises DomainError: the reason is empty.
        """
        text = reason.strip() if isinstance(reason, str) else reason
        if not text:
            raise DomainError("say why trading is halted")
        halt = TradingHalt(reason=text, since=self._context.clock.now())
        async with self._context.repository.unit_of_work() as uow:
            before = await uow.risk.get_halt()
            await uow.risk.set_halt(halt)
            await uow.commit()
        return HaltChange(halt=halt, before=before)

    async def resume(self) -> TradingHalt | None:
        """Release the kill switch; returns the halt that was engaged, if any."""
        async with self._context.repository.unit_of_work() as uow:
            engaged = await uow.risk.get_halt()
            if engaged is not None:
                await uow.risk.set_halt(None)
                await uow.commit()
        return engaged
