"""The :class:`Strategy` port: turn what a user holds into what they want to order.

A strategy type is a :class:`~tradecore.ports.StrategyFactory` a plugin registers; tradecore builds
one :class:`Strategy` per configured strategy with its validated parameters, and each cycle calls
:meth:`Strategy.evaluate` with a :class:`StrategyContext`. A strategy does no I/O: everything it may
look at is in the context, and everything it decides is in the returned
:class:`~tradecore.domain.StrategyDecision` (intents, new state, notes). Every intent then passes the
risk checks and the order protocol; in dry-run it is only recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from attrs import field, frozen

from tradecore.domain import (
    Account,
    Instrument,
    Order,
    Position,
    Quote,
    StrategyConfig,
    StrategyDecision,
    Trade,
)
from tradecore.domain._checks import freeze_mapping, utc

__all__ = ["Strategy", "StrategyContext"]


def _accounts(value: Iterable[Account]) -> tuple[Account, ...]:
    return tuple(value)


def _positions(value: Iterable[Position]) -> tuple[Position, ...]:
    return tuple(value)


def _trades(value: Iterable[Trade]) -> tuple[Trade, ...]:
    return tuple(value)


def _orders(value: Iterable[Order]) -> tuple[Order, ...]:
    return tuple(value)


@frozen(kw_only=True)
class StrategyContext:
    """Everything a strategy may look at. It does no I/O of its own.

    :param prices: current quotes by symbol, for the positions' instruments and
        :meth:`Strategy.instruments`.
    :param recent_trades: the connection's fills, oldest first.
    :param orders: this strategy's recent orders (newest last), whatever became of them.
    :param now: the cycle's time, UTC.
    """

    config: StrategyConfig
    accounts: tuple[Account, ...] = field(converter=_accounts)
    positions: tuple[Position, ...] = field(converter=_positions)
    prices: Mapping[str, Quote] = field(converter=freeze_mapping, hash=False)
    recent_trades: tuple[Trade, ...] = field(converter=_trades)
    orders: tuple[Order, ...] = field(default=(), converter=_orders)
    now: datetime = field(converter=utc)

    @property
    def parameters(self) -> Mapping[str, str]:
        """The strategy's parameters as the user gave them (text); the strategy was built with
        them validated and typed."""
        return self.config.parameters

    @property
    def state(self) -> Mapping[str, str]:
        """What the strategy remembered from its last evaluation (empty the first time)."""
        return self.config.state

    @property
    def dry_run(self) -> bool:
        """``True`` when nothing will be placed; a strategy decides the same either way."""
        return self.config.dry_run

    def position(self, symbol: str) -> Position | None:
        """The position in ``symbol`` (the first, when several accounts hold it)."""
        return next((p for p in self.positions if p.instrument.symbol == symbol), None)


@runtime_checkable
class Strategy(Protocol):
    """A configured strategy, ready to evaluate."""

    def instruments(self) -> Sequence[Instrument]:
        """The instruments whose prices it needs beyond those of current positions."""
        ...

    async def evaluate(self, context: StrategyContext) -> StrategyDecision:
        """Decide what to order now. Deciding nothing is a normal outcome.

        Raising fails only this strategy's step of the cycle (the error is shown in the digest).
        """
        ...
