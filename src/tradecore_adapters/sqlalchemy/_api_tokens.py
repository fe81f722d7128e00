"""The SQL repository of users' API tokens: ``api_tokens`` (digest, scopes, label, times).

Only the SHA-256 digest of a token is stored (unique, so a token is found by one indexed
lookup); scopes are one space-separated column.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, delete, exists, insert, select, update
from sqlalchemy.engine import RowMapping

from tradecore.domain import ApiToken
from tradecore.errors import AlreadyExists, NotFound
from tradecore_adapters.sqlalchemy._unit import Transaction
from tradecore_adapters.sqlalchemy.schema import api_tokens, users

__all__ = ["ApiTokens"]


# Built once, run with their values as bound parameters (``b_…``, never a column's name): these
# are on the web's per-request path.
_USER_ID: BindParameter[str] = bindparam("b_user_id")
_TOKEN_ID: BindParameter[str] = bindparam("b_token_id")
_USER_EXISTS = select(exists().where(users.c.id == _USER_ID))
_TAKEN = select(
    exists().where((api_tokens.c.id == _TOKEN_ID) | (api_tokens.c.digest == bindparam("b_digest")))
)
_INSERT = insert(api_tokens)
_OF_USER = (
    select(api_tokens)
    .where(api_tokens.c.user_id == _USER_ID)
    .order_by(api_tokens.c.created_at, api_tokens.c.id)
)
_BY_ID = select(api_tokens).where(api_tokens.c.id == _TOKEN_ID, api_tokens.c.user_id == _USER_ID)
_BY_DIGEST = select(api_tokens).where(api_tokens.c.digest == bindparam("b_digest"))
_UPDATE = update(api_tokens).where(  # SET: the columns given
    api_tokens.c.id == _TOKEN_ID, api_tokens.c.user_id == _USER_ID
)
_DELETE = delete(api_tokens).where(api_tokens.c.id == _TOKEN_ID, api_tokens.c.user_id == _USER_ID)


def _row(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "user_id": token.user_id,
        "digest": token.digest,
        "scopes": " ".join(sorted(scope.value for scope in token.scopes)),
        "name": token.name,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
    }


def _token(row: RowMapping) -> ApiToken:
    return ApiToken(
        id=row["id"],
        user_id=row["user_id"],
        digest=row["digest"],
        scopes=row["scopes"].split(),
        name=row["name"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        expires_at=row["expires_at"],
    )


class ApiTokens:
    """:class:`~tradecore.ports.ApiTokenRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, token: ApiToken) -> None:
        async with self._tx.atomic() as connection:
            if not await connection.scalar(_USER_EXISTS, {"b_user_id": token.user_id}):
                raise NotFound(f"no user {token.user_id!r}")
            taken = await connection.scalar(
                _TAKEN, {"b_token_id": token.id, "b_digest": token.digest}
            )
            if taken:
                raise AlreadyExists("an API token with this id or digest exists")
            await connection.execute(_INSERT, [_row(token)])

    async def list(self, user_id: str) -> Sequence[ApiToken]:
        connection = await self._tx.read()
        result = await connection.execute(_OF_USER, {"b_user_id": user_id})
        return [_token(row) for row in result.mappings()]

    async def get(self, user_id: str, token_id: str) -> ApiToken:
        connection = await self._tx.read()
        result = await connection.execute(_BY_ID, {"b_token_id": token_id, "b_user_id": user_id})
        row = result.mappings().first()
        if row is None:
            raise NotFound(f"no API token {token_id!r} for this user")
        return _token(row)

    async def find_by_digest(self, digest: str) -> ApiToken:
        connection = await self._tx.read()
        row = (await connection.execute(_BY_DIGEST, {"b_digest": digest})).mappings().first()
        if row is None:
            raise NotFound("no such API token")
        return _token(row)

    async def touch(self, user_id: str, token_id: str, when: datetime) -> None:
        async with self._tx.atomic() as connection:
            result = await connection.execute(
                _UPDATE, {"b_token_id": token_id, "b_user_id": user_id, "last_used_at": when}
            )
            if result.rowcount == 0:
                raise NotFound(f"no API token {token_id!r} for this user")

    async def remove(self, user_id: str, token_id: str) -> None:
        async with self._tx.atomic() as connection:
            result = await connection.execute(
                _DELETE, {"b_token_id": token_id, "b_user_id": user_id}
            )
            if result.rowcount == 0:
                raise NotFound(f"no API token {token_id!r} for this user")
