"""The ``saxo`` plugin: hook implementations only."""

from __future__ import annotations

from functools import partial

from tradecore.plugins import BrokerFactory, hookimpl
from tradecore_adapters.saxo.broker import InstrumentCache, SaxoBroker
from tradecore_adapters.saxo.config import SECRETS, SETTINGS
from tradecore_adapters.saxo.login import SaxoLogin


@hookimpl
def tradecore_register_brokers() -> list[BrokerFactory]:
    """Provide the ``saxo`` broker. Its connections share one instrument cache per gateway."""
    return [
        BrokerFactory(
            name="saxo",
            description="Saxo Bank OpenAPI (SIM or LIVE): net positions, end-of-day trade "
            "reports, quotes, market and limit orders; OAuth2 login with automatic refresh.",
            create=partial(SaxoBroker.create, cache=InstrumentCache()),
            settings=SETTINGS,
            secrets=SECRETS,
            login=SaxoLogin(),
        )
    ]
