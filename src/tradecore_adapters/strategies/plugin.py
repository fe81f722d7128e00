"""Registers the built-in ``dca`` and ``rebalance`` strategy types (hookimpls only)."""

from __future__ import annotations

from tradecore.plugins import StrategyFactory, hookimpl
from tradecore_adapters.strategies.dca import DCA_FACTORY
from tradecore_adapters.strategies.rebalance import REBALANCE_FACTORY


@hookimpl
def tradecore_register_strategies() -> list[StrategyFactory]:
    """Provide the ``dca`` and ``rebalance`` strategy types."""
    return [DCA_FACTORY, REBALANCE_FACTORY]
