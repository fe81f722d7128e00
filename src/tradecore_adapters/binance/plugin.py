"""The ``binance`` plugin: hook implementations only.

Light on purpose: it imports the settings it declares, and the broker (httpx, tenacity, the
signing code) only when a ``binance`` connection is built, so a command that uses no Binance
connection never loads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradecore.plugins import BrokerContext, BrokerFactory, hookimpl
from tradecore_adapters.binance.config import SECRETS, SETTINGS

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradecore.domain import BrokerConnection
    from tradecore.ports import BrokerPort
    from tradecore_adapters.binance._limits import BinanceHosts


def _create_with_shared_hosts() -> Callable[[BrokerConnection, BrokerContext], BrokerPort]:
    # One BinanceHosts per factory (per plugin registry), made when its first broker is.
    hosts: list[BinanceHosts] = []

    def create(connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
        from tradecore_adapters.binance._limits import BinanceHosts
        from tradecore_adapters.binance.broker import BinanceBroker

        if not hosts:
            hosts.append(BinanceHosts())
        return BinanceBroker.create(connection, context, hosts=hosts[0])

    return create


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
            create=_create_with_shared_hosts(),
            settings=SETTINGS,
            secrets=SECRETS,
        )
    ]
