"""Risk limits: what may be ordered at all (:class:`RiskLimits`, :class:`TradingHalt`) and the check
every order passes first (:class:`RiskGate`).

The gate is pure: it is given the limits, whether trading is halted or the user's automation is
paused, and each order's notional, and says which rule (:class:`RiskRule`) blocks it, if any.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import Attribute, define, field, frozen
from attrs.validators import optional

from tradecore.domain._checks import non_empty, positive, utc
from tradecore.domain.phrase import Phrase, Wording, phrase
from tradecore.errors import DomainError

__all__ = [
    "DEFAULT_MAX_ORDERS_PER_CYCLE",
    "RiskBlock",
    "RiskGate",
    "RiskLimits",
    "RiskRule",
    "TradingHalt",
]

DEFAULT_MAX_ORDERS_PER_CYCLE = 10
"""How many orders a user's strategies may place in one cycle unless the user says otherwise."""


class RiskRule(enum.StrEnum):
    """The rules an order can be blocked by, in the order they are checked."""

    KILL_SWITCH = "kill_switch"
    AUTOMATION_PAUSED = "automation_paused"
    ALLOWED_INSTRUMENTS = "allowed_instruments"
    MAX_ORDERS_PER_CYCLE = "max_orders_per_cycle"
    PRICE_UNKNOWN = "price_unknown"
    MAX_ORDER_NOTIONAL = "max_order_notional"
    MAX_CYCLE_NOTIONAL = "max_cycle_notional"


def _symbols(value: Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise DomainError("allowed instruments must be a collection of symbols, not one string")
    symbols = frozenset(value)
    for symbol in symbols:
        if not isinstance(symbol, str) or not symbol.strip():
            raise DomainError(f"an allowed instrument must be a symbol, got {symbol!r}")
    return symbols


def _optional_count(instance: object, attribute: Any, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DomainError(f"{attribute.name} must be a whole number >= 0, got {value!r}")


@define(kw_only=True)
class RiskLimits:
    """A user's limits on what their strategies and manual orders may place.

    ``None`` means "no limit". Notional is quantity times price, in the instrument's price
    currency (``BTCUSDT`` in USDT, ``AAPL`` in USD): one number applies to every currency.

    :param max_order_notional: the largest notional of one order.
    :param max_cycle_notional: the largest notional of all orders of one cycle (strategies).
    :param max_orders_per_cycle: how many orders one cycle may place (10 by default; 0 forbids
        strategy orders altogether).
    :param allowed_instruments: the only symbols that may be traded; ``None`` allows all.
    """

    user_id: str = field(validator=non_empty)
    max_order_notional: Decimal | None = field(default=None, validator=optional(positive))
    max_cycle_notional: Decimal | None = field(default=None, validator=optional(positive))
    max_orders_per_cycle: int | None = field(
        default=DEFAULT_MAX_ORDERS_PER_CYCLE, validator=_optional_count
    )
    allowed_instruments: frozenset[str] | None = field(default=None, converter=_symbols)


@frozen(kw_only=True)
class TradingHalt:
    """The global kill switch, engaged: no order is placed for anyone until it is released.

    :param reason: why, as the person who engaged it said.
    :param since: when it was engaged.
    """

    reason: str = field(validator=non_empty)
    since: datetime = field(converter=utc)


def _some_wording(_: object, attribute: Attribute[Wording], value: Wording) -> None:
    if not isinstance(value, str | Phrase) or not str(value).strip():
        raise DomainError(f"{attribute.name} must be a non-empty text, got {value!r}")


@frozen(kw_only=True)
class RiskBlock:
    """Why an order may not be placed: the rule and a sentence naming the figures."""

    rule: RiskRule = field(converter=RiskRule)
    reason: Wording = field(validator=_some_wording)

    @property
    def phrase(self) -> Phrase:
        """``blocked by max_order_notional: …``, translatable; the rule keeps its name."""
        return phrase("blocked by {rule}: {reason}", rule=self.rule.value, reason=self.reason)

    def __str__(self) -> str:
        return str(self.phrase)


@define(kw_only=True)
class RiskGate:
    """The risk check of one cycle (or one manual order) of one user.

    Call :meth:`check` for each order in turn; an allowed order counts against the cycle's
    budget (orders and notional) unless ``consume=False`` (dry runs).

    :param halt: the engaged kill switch, if any.
    :param paused: the user's automation is paused: nothing is placed.
    """

    limits: RiskLimits
    halt: TradingHalt | None = None
    paused: bool = False
    orders: int = 0
    notional: Decimal = Decimal(0)

    def check(
        self, symbol: str, notional: Decimal | None, *, consume: bool = True
    ) -> RiskBlock | None:
        """The first rule that blocks an order of ``symbol`` worth ``notional``, or ``None``.

        :param notional: quantity times price; ``None`` when no price is known, which blocks the
            order only when a notional limit is set (it cannot be checked).
        """
        block = self._first_block(symbol, notional)
        if block is None and consume:
            self.orders += 1
            self.notional += notional or Decimal(0)
        return block

    def _first_block(self, symbol: str, notional: Decimal | None) -> RiskBlock | None:
        limits = self.limits
        if self.halt is not None:
            return RiskBlock(
                rule=RiskRule.KILL_SWITCH,
                reason=phrase(
                    "trading is halted since {since} ({reason})",
                    since=self.halt.since.strftime("%Y-%m-%d %H:%M UTC"),
                    reason=self.halt.reason,
                ),
            )
        if self.paused:
            return RiskBlock(
                rule=RiskRule.AUTOMATION_PAUSED,
                reason=phrase(
                    "the user's automation is paused; nothing is placed until it resumes"
                ),
            )
        allowed = limits.allowed_instruments
        if allowed is not None and symbol not in allowed:
            listed: Wording = ", ".join(sorted(allowed)) or phrase("none")
            return RiskBlock(
                rule=RiskRule.ALLOWED_INSTRUMENTS,
                reason=phrase(
                    "{symbol} is not among the allowed instruments ({listed})",
                    symbol=symbol,
                    listed=listed,
                ),
            )
        most = limits.max_orders_per_cycle
        if most is not None and self.orders >= most:
            return RiskBlock(
                rule=RiskRule.MAX_ORDERS_PER_CYCLE,
                reason=phrase(
                    "{count} order(s) already placed this cycle; the limit is {most}",
                    count=str(self.orders),
                    most=str(most),
                ),
            )
        if notional is None:
            if limits.max_order_notional is not None or limits.max_cycle_notional is not None:
                return RiskBlock(
                    rule=RiskRule.PRICE_UNKNOWN,
                    reason=phrase(
                        "no price for {symbol}, so its notional cannot be checked", symbol=symbol
                    ),
                )
            return None
        if limits.max_order_notional is not None and notional > limits.max_order_notional:
            return RiskBlock(
                rule=RiskRule.MAX_ORDER_NOTIONAL,
                reason=phrase(
                    "notional {notional} exceeds the limit of {limit}",
                    notional=_show(notional),
                    limit=str(limits.max_order_notional),
                ),
            )
        cycle_limit = limits.max_cycle_notional
        if cycle_limit is not None and self.notional + notional > cycle_limit:
            return RiskBlock(
                rule=RiskRule.MAX_CYCLE_NOTIONAL,
                reason=phrase(
                    "notional {notional} on top of {placed} already placed this cycle exceeds "
                    "the limit of {limit}",
                    notional=_show(notional),
                    placed=_show(self.notional),
                    limit=str(cycle_limit),
                ),
            )
        return None


def _show(amount: Decimal) -> str:
    """An amount for a sentence: cents when it is 1 or more, else its own digits."""
    if abs(amount) >= 1:
        return str(amount.quantize(Decimal("0.01")))
    return str(amount.normalize()) if amount else "0"
