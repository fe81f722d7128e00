"""The ``binance`` plugin: hook implementations only."""

from __future__ import annotations

from functools import partial

from tradecore.plugins import BrokerFactory, hookimpl
from tradecore_adapters.binance._limits import BinanceHosts
from tradecore_adapters.binance.broker import BinanceBroker
from tradecore_adapters.binance.config import SECRETS, SETTINGS


@hookimpl
def tradecore_register_brokers() -> list[BrokerFactory]:
    """Provide the ``binance`` broker. Its connections obey the deployment's shared limits
    (bans, pauses, request weight per host, orders per account) and share one ``exchangeInfo``
    cache per Binance host within the process."""
    return [
        BrokerFactory(
            name="binance",
            description="Binance spot (balances, trades, orders) and USD-M futures positions "
            "and trades; HMAC or Ed25519 API keys; production, testnet or any base URL.",
            create=partial(BinanceBroker.create, hosts=BinanceHosts()),
            settings=SETTINGS,
            secrets=SECRETS,
        )
    ]
