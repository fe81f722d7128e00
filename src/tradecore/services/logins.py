"""Keep OAuth logins alive between cycles.

A Saxo refresh token lives one hour (``refresh_token_expires_in``: 3600 s), while a user's cycles
may be up to two hours apart: without help, a user with a slow schedule would have to log in
again after every gap. The schedulers (the daemon every few minutes, and every ``tradecore run``
pass) renew the tokens of active connections whose refresh token would lapse within
:data:`KEEP_ALIVE_HORIZON`. Renewal goes through the connection's
:class:`~tradecore.services.tokens.RepositoryTokenStore`: under the connection's row lock, and
not at all when another process rotated the tokens meanwhile, so several schedulers never waste
or lose a refresh token.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from attrs import frozen

from tradecore.domain import BrokerConnection
from tradecore.ports import BrokerFactory, Clock, RepositoryPort
from tradecore.services._steps import describe_error
from tradecore.services.brokers import create_broker

__all__ = ["KEEP_ALIVE_HORIZON", "KeptLogin", "keep_logins_alive"]

KEEP_ALIVE_HORIZON = timedelta(minutes=15)
"""Renew a refresh token that would lapse within this much time (three daemon rounds of five
minutes, or three cron passes)."""

_log = logging.getLogger("tradecore.logins")


@frozen(kw_only=True)
class KeptLogin:
    """One renewal: which connection, and why it failed (``None`` when it worked)."""

    user_id: str
    connection: str
    error: str | None = None


def _lapsing(connection: BrokerConnection, now: datetime, horizon: timedelta) -> bool:
    tokens = connection.tokens
    if tokens is None or tokens.login_required is not None or tokens.refresh_token is None:
        return False
    expires = tokens.refresh_expires_at
    return expires is not None and now < expires <= now + horizon


async def keep_logins_alive(
    *,
    repository: RepositoryPort,
    brokers: Mapping[str, BrokerFactory],
    clock: Clock,
    http_client: object | None = None,
    horizon: timedelta = KEEP_ALIVE_HORIZON,
) -> list[KeptLogin]:
    """Renew the tokens of every active connection whose refresh token lapses within
    ``horizon``; return what was renewed. A failure (the broker refused the refresh token: the
    connection is then marked as needing a login) is logged and reported, never raised."""
    now = clock.now()
    async with repository.unit_of_work() as uow:
        due = [
            connection
            for user in await uow.users.list()
            for connection in await uow.connections.list(user.id, active_only=True)
            if _lapsing(connection, now, horizon)
        ]
    kept: list[KeptLogin] = []
    for connection in due:
        try:
            broker = create_broker(
                connection, brokers=brokers, repository=repository, clock=clock,
                http_client=http_client,
            )  # fmt: skip
        except Exception as exc:
            kept.append(_failed(connection, exc))
            continue
        try:
            await broker.refresh_auth_token()
        except Exception as exc:
            kept.append(_failed(connection, exc))
        else:
            _log.info("renewed the login of connection %r before it lapsed", connection.name)
            kept.append(KeptLogin(user_id=connection.user_id, connection=connection.name))
        finally:
            try:
                await broker.aclose()
            except Exception:  # closing is best effort
                _log.debug("closing the broker of %r failed", connection.name)
    return kept


def _failed(connection: BrokerConnection, exc: BaseException) -> KeptLogin:
    error = describe_error(exc)
    _log.warning("could not renew the login of connection %r: %s", connection.name, error)
    return KeptLogin(user_id=connection.user_id, connection=connection.name, error=error)
