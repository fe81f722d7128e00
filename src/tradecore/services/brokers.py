"""Build, open and close the broker adapter of one connection, as every use case does.

The automation cycle, ``tradecore sync`` and ``tradecore broker test`` all need the same thing:
the connection's factory called with a :class:`~tradecore.ports.BrokerContext` whose ``tokens``
store keeps the OAuth tokens (one refresh at a time, rotated tokens committed before use; see
:mod:`tradecore.services.tokens`), a token refresh when the access token is about to expire, and
a best-effort ``aclose`` at the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from tradecore.domain import TOKEN_REFRESH_MARGIN, BrokerConnection
from tradecore.errors import PluginError
from tradecore.ports import (
    BrokerCaches,
    BrokerContext,
    BrokerFactory,
    BrokerPort,
    Clock,
    RepositoryPort,
    SharedLimits,
)
from tradecore.services._steps import describe_error, mask
from tradecore.services.fencing import unfenced
from tradecore.services.tokens import RepositoryTokenStore
from tradecore.services.unreadable import check_connection_readable
from tradecore.services.unsaved_tokens import UnsavedTokens
from tradecore.services.venues import RepositoryVenueStore

__all__ = ["create_broker", "describe_broker_failure", "mask_secrets", "open_broker"]


def create_broker(
    connection: BrokerConnection,
    *,
    brokers: Mapping[str, BrokerFactory],
    repository: RepositoryPort,
    clock: Clock,
    http_client: object | None = None,
    token_refresh_margin: timedelta = TOKEN_REFRESH_MARGIN,
    unsaved_tokens: UnsavedTokens | None = None,
    limits: SharedLimits | None = None,
    caches: BrokerCaches | None = None,
) -> BrokerPort:
    """Build the adapter of ``connection`` with its plugin's factory (no I/O).

    Its OAuth tokens are kept in ``repository`` by a
    :class:`~tradecore.services.tokens.RepositoryTokenStore`, and a simulated broker's venue
    by a :class:`~tradecore.services.venues.RepositoryVenueStore`.

    :param brokers: the installed broker factories by name (``PluginRegistry.brokers``).
    :param http_client: handed to the factory (tests pass one over a mock transport).
    :param token_refresh_margin: tokens expiring within this margin are due for renewal.
    :param unsaved_tokens: what this process holds that the database may not (the process's
        own by default; see :mod:`tradecore.services.unsaved_tokens`).
    :param limits: the limits shared by every process (``BrokerContext.limits``).
    :param caches: the process's caches; the connection's broker type's one is
        ``BrokerContext.cache`` (``None``: no cache).
    :raises PluginError: the connection's broker is not installed.
    :raises ConfigurationError: the factory refused the connection's settings or secrets.
    :raises SecretsUnreadable: the broker needs secrets and the connection's cannot be
        decrypted with the current key (see :mod:`tradecore.services.unreadable`).
    """
    factory = brokers.get(connection.broker)
    if factory is None:
        known = ", ".join(sorted(brokers)) or "none installed"
        raise PluginError(f"broker {connection.broker!r} is not installed (available: {known})")
    check_connection_readable(connection, factory)
    context = BrokerContext(
        clock=clock,
        http_client=http_client,
        tokens=RepositoryTokenStore(
            repository, connection, clock, margin=token_refresh_margin, unsaved=unsaved_tokens
        ),
        # The venue is the broker's side: never fenced by a cycle's lease (services.fencing).
        venue=RepositoryVenueStore(unfenced(repository), connection),
        limits=limits,
        cache=None if caches is None else caches.for_broker(connection.broker),
    )
    return factory.create(connection, context)


@asynccontextmanager
async def open_broker(
    connection: BrokerConnection,
    *,
    brokers: Mapping[str, BrokerFactory],
    repository: RepositoryPort,
    clock: Clock,
    http_client: object | None = None,
    token_refresh_margin: timedelta = TOKEN_REFRESH_MARGIN,
    unsaved_tokens: UnsavedTokens | None = None,
    limits: SharedLimits | None = None,
    caches: BrokerCaches | None = None,
) -> AsyncIterator[BrokerPort]:
    """Build the adapter of ``connection`` (see :func:`create_broker`), refresh its OAuth token
    when it expires within ``token_refresh_margin``, and close the adapter on leaving.

    Closing is best effort: an error while closing never hides what happened inside the block.

    :raises PluginError: the connection's broker is not installed.
    :raises ConfigurationError: the factory refused the connection's settings or secrets.
    :raises BrokerError: the token refresh failed.
    """
    broker = create_broker(
        connection,
        brokers=brokers,
        repository=repository,
        clock=clock,
        http_client=http_client,
        token_refresh_margin=token_refresh_margin,
        unsaved_tokens=unsaved_tokens,
        limits=limits,
        caches=caches,
    )
    try:
        tokens = connection.tokens
        if tokens is not None and tokens.refresh_due(clock.now(), margin=token_refresh_margin):
            await broker.refresh_auth_token()
        yield broker
    finally:
        with suppress(Exception):  # closing is best effort; the outcome is already decided
            await broker.aclose()


def describe_broker_failure(exc: BaseException, connection: BrokerConnection) -> str:
    """Say in one line what went wrong with the broker of ``connection``: the error type, its
    message and the broker's code, with every secret of the connection masked."""
    return mask_secrets(describe_error(exc), connection)


def mask_secrets(text: str, connection: BrokerConnection) -> str:
    """``text`` with every secret value of ``connection`` masked as ``**********``."""
    return mask(text, connection.secret_values())
