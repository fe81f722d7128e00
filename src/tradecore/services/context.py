"""What every use case is given: the ports and the installed plugins, wired once.

The composition root (``tradecore_adapters.bootstrap``) builds one :class:`ServiceContext` and
hands it to each use-case class (:class:`~tradecore.services.users.Users`,
:class:`~tradecore.services.connections.Connections`…). It is also the one way to build or open
a connection's broker adapter, so the command line, the cycle, logins and the scheduler all open
brokers alike: the same HTTP client, the same token store, the same refresh margin.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import TypeVar

from attrs import field, frozen

from tradecore.domain import (
    DEFAULT_FREQUENCY_MINUTES,
    TOKEN_REFRESH_MARGIN,
    BrokerConnection,
    LoginPolicy,
)
from tradecore.errors import PluginError
from tradecore.ports import (
    BrokerCaches,
    BrokerFactory,
    BrokerPort,
    Clock,
    NotifierFactory,
    PasswordHasher,
    RepositoryPort,
    SharedLimits,
    StrategyFactory,
)
from tradecore.services.brokers import create_broker, open_broker
from tradecore.services.ledger import Retention
from tradecore.services.notify import NotifierDefaults

__all__ = ["ServiceContext", "installed"]

_F = TypeVar("_F")


def installed(factories: Mapping[str, _F], name: str, kind: str) -> _F:
    """The installed ``kind`` plugin (broker, notifier) called ``name``.

    :raises PluginError: none is installed; the message lists those that are.
    """
    factory = factories.get(name)
    if factory is None:
        known = ", ".join(sorted(factories)) or "none"
        raise PluginError(f"{name!r} is not an installed {kind} plugin (installed: {known})")
    return factory


@frozen(kw_only=True)
class ServiceContext:
    """The ports and plugins the use cases share.

    :param repository: where everything is stored.
    :param clock: the time of the use cases (UTC).
    :param brokers: the installed broker factories by name.
    :param strategies: the installed strategy types by name.
    :param notifiers: the installed notifier factories by name.
    :param notifier_defaults: what a notification target does not set, by notifier (read from
        the environment by the front end); see :mod:`tradecore.services.notify`.
    :param default_frequency_minutes: the automation frequency of a user who never set one.
    :param max_concurrent_connections: how many connections of one user sync at the same time.
    :param lease_ttl: how long a scheduler's claim on a cycle holds without a heartbeat
        (``AUTOMATION_LEASE_SECONDS``); a daemon silent for three of them is not counted as
        running.
    :param retention: what the run ledger keeps (``AUTOMATION_RUN_RETENTION_*``); ``None`` keeps
        everything.
    :param http_client: handed to every broker factory (tests pass one over a mock transport).
    :param token_refresh_margin: OAuth access tokens expiring within this margin are renewed
        before use.
    :param limits: the limits every process of the deployment obeys together, handed to every
        broker and notifier (see :class:`~tradecore.ports.SharedLimits`); failed logins are
        counted there too.
    :param broker_caches: the process's cache per broker type (``BrokerContext.cache``);
        ``None``: adapters get no cache.
    :param password_hasher: hashes and checks users' passwords (``None``: passwords cannot be
        set or checked).
    :param login_policy: how failed logins are slowed and locked out.
    :param languages: the languages a user may choose (lowercase ISO 639-1 codes), those of
        the installed message catalogue; English, the language of the msgids, by default.
    """

    repository: RepositoryPort
    clock: Clock
    brokers: Mapping[str, BrokerFactory] = field(factory=dict)
    strategies: Mapping[str, StrategyFactory] = field(factory=dict)
    notifiers: Mapping[str, NotifierFactory] = field(factory=dict)
    notifier_defaults: Mapping[str, NotifierDefaults] = field(factory=dict)
    default_frequency_minutes: int = DEFAULT_FREQUENCY_MINUTES
    max_concurrent_connections: int = 4
    lease_ttl: timedelta = timedelta(seconds=60)
    retention: Retention | None = None
    http_client: object | None = None
    token_refresh_margin: timedelta = TOKEN_REFRESH_MARGIN
    limits: SharedLimits | None = None
    broker_caches: BrokerCaches | None = None
    password_hasher: PasswordHasher | None = None
    login_policy: LoginPolicy = field(factory=LoginPolicy)
    languages: tuple[str, ...] = ("en",)

    def create_broker(self, connection: BrokerConnection) -> BrokerPort:
        """Build the adapter of ``connection`` (no I/O); see
        :func:`~tradecore.services.brokers.create_broker`.

        :raises PluginError: the connection's broker is not installed.
        :raises ConfigurationError: the plugin refused the connection's settings or secrets.
        """
        return create_broker(
            connection,
            brokers=self.brokers,
            repository=self.repository,
            clock=self.clock,
            http_client=self.http_client,
            token_refresh_margin=self.token_refresh_margin,
            limits=self.limits,
            caches=self.broker_caches,
        )

    def open_broker(self, connection: BrokerConnection) -> AbstractAsyncContextManager[BrokerPort]:
        """The adapter of ``connection`` with its token renewed when due, closed on leaving;
        see :func:`~tradecore.services.brokers.open_broker`."""
        return open_broker(
            connection,
            brokers=self.brokers,
            repository=self.repository,
            clock=self.clock,
            http_client=self.http_client,
            token_refresh_margin=self.token_refresh_margin,
            limits=self.limits,
            caches=self.broker_caches,
        )
