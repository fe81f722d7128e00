"""The built-in strategy types, ``dca`` and ``rebalance``, shipped as a plugin exactly like a third
party's: :mod:`tradecore_adapters.strategies.plugin` registers their factories through the
``tradecore.plugins`` entry point, and they use only the public strategy port.

Both are pure: they read the :class:`~tradecore.ports.StrategyContext` they are given and return a
:class:`~tradecore.domain.StrategyDecision`; every intent then passes the risk checks and the
order protocol. See ``docs/strategies/``.
"""
