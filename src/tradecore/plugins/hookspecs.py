"""The hooks a tradecore plugin may implement.

Every hook is prefixed ``tradecore_``, takes keyword arguments only, and contributes a list; a
plugin implements only the hooks it needs. Documented in ``docs/plugins/hooks.md``.
"""

from __future__ import annotations

from tradecore.plugins._markers import hookspec
from tradecore.ports.factories import BrokerFactory, NotifierFactory, StrategyFactory

__all__ = [
    "tradecore_register_brokers",
    "tradecore_register_notifiers",
    "tradecore_register_strategies",
]


@hookspec
def tradecore_register_brokers() -> list[BrokerFactory]:  # type: ignore[empty-body]
    """Return the brokers this plugin provides.

    Broker names must be unique across every installed plugin.
    """


@hookspec
def tradecore_register_notifiers() -> list[NotifierFactory]:  # type: ignore[empty-body]
    """Return the notifiers (digest delivery targets) this plugin provides."""


@hookspec
def tradecore_register_strategies() -> list[StrategyFactory]:  # type: ignore[empty-body]
    """Return the strategy types this plugin provides."""
