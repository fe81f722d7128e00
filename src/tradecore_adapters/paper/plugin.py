"""The ``paper`` plugin: hook implementations only.

Light on purpose: it imports the settings it declares, and the simulated broker only when a
``paper`` connection is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradecore.plugins import BrokerContext, BrokerFactory, hookimpl
from tradecore_adapters.paper.config import SETTINGS

if TYPE_CHECKING:
    from tradecore.domain import BrokerConnection
    from tradecore.ports import BrokerPort


def _create(connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
    from tradecore_adapters.paper.broker import PaperBroker

    return PaperBroker.create(connection, context)


@hookimpl
def tradecore_register_brokers() -> list[BrokerFactory]:
    """Provide the ``paper`` broker; its venue lives in the store tradecore gives it."""
    return [
        BrokerFactory(
            name="paper",
            description="Simulated broker with deterministic prices and history; no credentials.",
            create=_create,
            settings=SETTINGS,
        )
    ]
