"""The ``saxo`` plugin: hook implementations only.

Light on purpose: it imports the settings it declares, and the broker and its browser login
(httpx, tenacity) only when a ``saxo`` connection is built or logged in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradecore.plugins import BrokerContext, BrokerFactory, hookimpl
from tradecore_adapters.saxo.config import SECRETS, SETTINGS

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradecore.domain import BrokerConnection, OAuthTokens
    from tradecore.ports import BrokerPort, Clock, LoginRequest
    from tradecore_adapters.saxo.broker import InstrumentCache


def _create_with_shared_cache() -> Callable[[BrokerConnection, BrokerContext], BrokerPort]:
    # One InstrumentCache per factory (per plugin registry), made when its first broker is.
    caches: list[InstrumentCache] = []

    def create(connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
        from tradecore_adapters.saxo.broker import InstrumentCache, SaxoBroker

        if not caches:
            caches.append(InstrumentCache())
        return SaxoBroker.create(connection, context, cache=caches[0])

    return create


class _SaxoLogin:
    # The OAuthLogin of saxo connections: SaxoLogin, imported when a login begins or completes.
    def begin(self, connection: BrokerConnection, *, clock: Clock) -> LoginRequest:
        from tradecore_adapters.saxo.login import SaxoLogin

        return SaxoLogin().begin(connection, clock=clock)

    async def complete(
        self,
        connection: BrokerConnection,
        request: LoginRequest,
        redirected_to: str,
        *,
        clock: Clock,
        http_client: object | None = None,
    ) -> OAuthTokens:
        from tradecore_adapters.saxo.login import SaxoLogin

        return await SaxoLogin().complete(
            connection, request, redirected_to, clock=clock, http_client=http_client
        )


@hookimpl
def tradecore_register_brokers() -> list[BrokerFactory]:
    """Provide the ``saxo`` broker. Its connections share one instrument cache per gateway."""
    return [
        BrokerFactory(
            name="saxo",
            description="Saxo Bank OpenAPI (SIM or LIVE): net positions, end-of-day trade "
            "reports, quotes, market and limit orders; OAuth2 login with automatic refresh.",
            create=_create_with_shared_cache(),
            settings=SETTINGS,
            secrets=SECRETS,
            login=_SaxoLogin(),
        )
    ]
