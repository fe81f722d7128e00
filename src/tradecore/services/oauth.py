"""Use cases of a browser login (OAuth) for a connection whose broker logs in that way (Saxo).

:meth:`OAuthLogins.begin` prepares the authorization URL (no I/O) and returns the
:class:`~tradecore.ports.LoginRequest` a front end keeps until the browser comes back: the
command line in memory while it listens on the redirect URI, a web server in the person's
session. :meth:`OAuthLogins.complete` checks the URL the browser was redirected to, exchanges
its code for tokens once, and stores them encrypted. See ``docs/brokers/saxo.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress

from attrs import frozen

from tradecore.domain import BrokerConnection, OAuthTokens, User
from tradecore.errors import DomainError
from tradecore.ports import LoginRequest, OAuthLogin
from tradecore.services.brokers import describe_broker_failure
from tradecore.services.connections import Connections
from tradecore.services.context import ServiceContext
from tradecore.services.tokens import save_login

__all__ = ["OAuthLogins", "TokenRenewal"]


@frozen(kw_only=True)
class TokenRenewal:
    """One connection's forced token renewal: the new tokens, or why it failed (masked)."""

    user: User
    connection: BrokerConnection
    tokens: OAuthTokens | None = None
    problem: str | None = None


class OAuthLogins:
    """Log a user's connection in at its broker through a browser."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    async def begin(self, user_id: str, name: str) -> tuple[BrokerConnection, LoginRequest]:
        """Prepare the login of the user's connection ``name``: the URL to open in a browser,
        with a fresh anti-forgery state and PKCE verifier.

        :raises NotFound: the user has no connection by that name.
        :raises PluginError: its broker is not installed.
        :raises DomainError: its broker does not log in through a browser.
        :raises ConfigurationError: its settings cannot make a login (no client id…).
        """
        connection = await Connections(self._context).get(user_id, name)
        request = self._login_of(connection).begin(connection, clock=self._context.clock)
        return connection, request

    async def complete(
        self, user_id: str, name: str, request: LoginRequest, redirected_to: str
    ) -> OAuthTokens:
        """Finish the login that :meth:`begin` prepared: check the redirect (its state must be
        the request's), exchange the code for tokens, and store them under the connection's row
        lock; the tokens as stored are returned. Nothing is stored when anything fails.

        :raises NotFound: the user has no connection by that name (or it was removed).
        :raises AuthenticationFailed: the broker refused, the state does not match, or the
            person denied access.
        """
        connection = await Connections(self._context).get(user_id, name)
        tokens = await self._login_of(connection).complete(
            connection,
            request,
            redirected_to.strip(),
            clock=self._context.clock,
            http_client=self._context.http_client,
        )
        return await save_login(self._context.repository, connection, tokens)

    async def renew_all(self, user_ids: Sequence[str] | None = None) -> list[TokenRenewal]:
        """Renew now the OAuth tokens of every active connection that has logged in, of the
        users given (every user by default); the rotated tokens are stored before use.

        :raises NotFound: a user given does not exist.
        """
        async with self._context.repository.unit_of_work() as uow:
            if user_ids is None:
                users = list(await uow.users.list())
            else:
                users = [await uow.users.get(user_id) for user_id in user_ids]
            logged_in = [
                (user, connection)
                for user in users
                for connection in await uow.connections.list(user.id, active_only=True)
                if connection.tokens is not None
            ]
        renewals = []
        for user, connection in logged_in:
            adapter = self._context.create_broker(connection)
            try:
                tokens = await adapter.refresh_auth_token()
            except Exception as exc:
                problem = describe_broker_failure(exc, connection)
                renewals.append(TokenRenewal(user=user, connection=connection, problem=problem))
            else:
                if tokens is not None:
                    renewals.append(TokenRenewal(user=user, connection=connection, tokens=tokens))
            finally:
                with suppress(Exception):  # closing is best effort
                    await adapter.aclose()
        return renewals

    def _login_of(self, connection: BrokerConnection) -> OAuthLogin:
        factory = Connections(self._context).factory(connection.broker)
        if factory.login is None:
            raise DomainError(
                f"connection {connection.name!r} ({connection.broker}) does not log in through "
                "a browser; its credentials were given when it was added"
            )
        return factory.login
