"""The ``paper`` plugin: hook implementations only."""

from __future__ import annotations

from tradecore.plugins import BrokerFactory, hookimpl
from tradecore_adapters.paper.broker import PaperBroker
from tradecore_adapters.paper.config import SETTINGS


@hookimpl
def tradecore_register_brokers() -> list[BrokerFactory]:
    """Provide the ``paper`` broker; its venue lives in the store tradecore gives it."""
    return [
        BrokerFactory(
            name="paper",
            description="Simulated broker with deterministic prices and history; no credentials.",
            create=PaperBroker.create,
            settings=SETTINGS,
        )
    ]
