"""Use cases on users' API tokens: create (shown once), list, revoke, authenticate.

A token is ``tc_`` and 32 random bytes (:func:`~tradecore.domain.new_token_secret`); only its
SHA-256 digest is stored, so the database never holds a usable token. A token of 256 random
bits needs no slow hash: the digest cannot be reversed nor the token guessed. A token is found
by its digest (one indexed lookup, no comparison of secrets that leaks time), then the digests
are compared once more in constant time. See ``docs/accounts.md``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from datetime import timedelta

from attrs import field, frozen

from tradecore.domain import (
    MAX_TOKEN_DAYS,
    TOKEN_PREFIX,
    ApiToken,
    Scope,
    User,
    checked_name,
    checked_scopes,
    new_token_secret,
    token_digest,
)
from tradecore.errors import DomainError, LoginRefused, NotFound
from tradecore.services.context import ServiceContext

__all__ = ["ApiTokens", "NewApiToken", "TokenUse"]

_INVALID = "the API token is not valid (unknown, revoked or expired)"
_METRICS_ADMIN = "only an administrator may have a metrics token (it reads every user's figures)"


@frozen(kw_only=True)
class NewApiToken:
    """A token just created: the stored token and the token itself, to show once.

    :param secret: the token (``tc_…``); hidden from ``repr``.
    """

    token: ApiToken
    secret: str = field(repr=False)


@frozen(kw_only=True)
class TokenUse:
    """Who an accepted token acts for, and what it may do."""

    user: User
    scopes: frozenset[Scope]


class ApiTokens:
    """The use cases on API tokens. Build it with the application's :class:`ServiceContext`."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    async def create(
        self,
        user_id: str,
        scopes: Iterable[str],
        *,
        name: str | None = None,
        expires_days: int | None = None,
    ) -> NewApiToken:
        """A new token of the user with ``scopes`` (read, write, execute; or metrics alone,
        for an administrator only: it reads every user's figures).

        :param name: a label (the rule for names, docs/names.md), or none.
        :param expires_days: the token is refused after this many days (1 to
            :data:`MAX_TOKEN_DAYS`); ``None``: it does not expire.
        :raises DomainError: no scope, an unknown scope, metrics with another scope or for a
            user who is not an administrator, a bad label or lifetime.
        :raises NotFound: there is no such user.
        """
        checked = checked_scopes(list(scopes))
        label = None if name is None else checked_name("token", name)
        if expires_days is not None and not 1 <= expires_days <= MAX_TOKEN_DAYS:
            raise DomainError(f"a token's lifetime must be 1 to {MAX_TOKEN_DAYS} days")
        now = self._context.clock.now()
        secret = new_token_secret()
        token = ApiToken(
            user_id=user_id,
            digest=token_digest(secret),
            scopes=checked,
            name=label,
            created_at=now,
            expires_at=None if expires_days is None else now + timedelta(days=expires_days),
        )
        async with self._context.repository.unit_of_work() as uow:
            user = await uow.users.get(user_id)
            if Scope.METRICS in checked and not user.is_admin:
                raise DomainError(_METRICS_ADMIN)
            await uow.api_tokens.add(token)
            await uow.commit()
        return NewApiToken(token=token, secret=secret)

    async def list(self, user_id: str) -> Sequence[ApiToken]:
        """The user's tokens, oldest first (digests only, never a token)."""
        async with self._context.repository.unit_of_work() as uow:
            return await uow.api_tokens.list(user_id)

    async def revoke(self, user_id: str, token_id: str) -> ApiToken:
        """Delete the user's token ``token_id``: it is refused from now on.

        :raises NotFound: the user has no such token (another user's token included).
        """
        async with self._context.repository.unit_of_work() as uow:
            try:
                token = await uow.api_tokens.get(user_id, token_id)
                await uow.api_tokens.remove(user_id, token_id)
            except NotFound:
                raise NotFound(f"there is no API token {token_id!r} of this user") from None
            await uow.commit()
        return token

    async def authenticate(self, secret: str, *, scope: Scope | None = None) -> TokenUse:
        """The user and scopes of the token ``secret``, recording its use.

        A metrics token is accepted only while its user is an administrator.

        :param scope: the scope the request needs; a token without it is refused (and its use
            not recorded).
        :raises LoginRefused: the token is malformed, unknown, revoked or expired (one message
            for all); it lacks ``scope``; or it is a metrics token of a user who is no longer
            an administrator.
        """
        if not isinstance(secret, str) or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            raise LoginRefused(_INVALID)
        digest = token_digest(secret)
        now = self._context.clock.now()
        async with self._context.repository.unit_of_work() as uow:
            try:
                token = await uow.api_tokens.find_by_digest(digest)
            except NotFound:
                raise LoginRefused(_INVALID) from None
            if not hmac.compare_digest(token.digest, digest) or token.expired(now):
                raise LoginRefused(_INVALID)
            user = await uow.users.get(token.user_id)
            if scope is not None and Scope(scope) not in token.scopes:
                raise LoginRefused(f"the API token does not have the {Scope(scope).value} scope")
            if Scope.METRICS in token.scopes and not user.is_admin:
                raise LoginRefused(_METRICS_ADMIN)
            await uow.api_tokens.touch(token.user_id, token.id, now)
            await uow.commit()
        return TokenUse(user=user, scopes=token.scopes)
