"""The :class:`Strategy` port: turn what a user holds into what they want to order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from attrs import field, frozen

from tradecore.domain import (
    Account,
    Instrument,
    OrderIntent,
    Position,
    Quote,
    StrategyConfig,
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


@frozen(kw_only=True)
class StrategyContext:
    """Everything a strategy may look at. It does no I/O of its own.

    :param prices: current quotes by symbol, for the positions' instruments and
        :meth:`Strategy.instruments`.
    :param recent_trades: the connection's fills, oldest first.
    :param now: the cycle's time, UTC.
    """

    config: StrategyConfig
    accounts: tuple[Account, ...] = field(converter=_accounts)
    positions: tuple[Position, ...] = field(converter=_positions)
    prices: Mapping[str, Quote] = field(converter=freeze_mapping, hash=False)
    recent_trades: tuple[Trade, ...] = field(converter=_trades)
    now: datetime = field(converter=utc)

    @property
    def parameters(self) -> Mapping[str, str]:
        """The strategy's parameters, as configured."""
        return self.config.parameters


@runtime_checkable
class Strategy(Protocol):
    """A configured strategy, ready to evaluate."""

    def instruments(self) -> Sequence[Instrument]:
        """The instruments whose prices it needs beyond those of current positions."""
        ...

    async def evaluate(self, context: StrategyContext) -> Sequence[OrderIntent]:
        """Decide what to order now. Returning nothing is a normal outcome."""
        ...
