"""Memory repository of users' API tokens (:class:`~tradecore.ports.ApiTokenRepository`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tradecore.domain import ApiToken
from tradecore.errors import AlreadyExists, NotFound
from tradecore_adapters.memory._session import Session
from tradecore_adapters.memory._store import Tables, aware, copy_entity

__all__ = ["ApiTokens"]


def _owned(tables: Tables, user_id: str, token_id: str) -> ApiToken:
    token = tables.api_tokens.get(token_id)
    if token is None or token.user_id != user_id:
        raise NotFound(f"no API token {token_id!r} for this user")
    return token


class ApiTokens:
    """:class:`~tradecore.ports.ApiTokenRepository` in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, token: ApiToken) -> None:
        row = copy_entity(token)

        def add(tables: Tables) -> None:
            if tables.users.get(row.user_id) is None:
                raise NotFound(f"no user {row.user_id!r}")
            taken = tables.api_tokens.get(row.id) is not None or any(
                t.digest == row.digest for t in tables.api_tokens.values()
            )
            if taken:
                raise AlreadyExists("an API token with this id or digest exists")
            tables.api_tokens.put(row.id, row)

        self._session.write(add)

    async def list(self, user_id: str) -> Sequence[ApiToken]:
        def list_(tables: Tables) -> list[ApiToken]:
            mine = [t for t in tables.api_tokens.values() if t.user_id == user_id]
            return [copy_entity(t) for t in sorted(mine, key=lambda t: (t.created_at, t.id))]

        return self._session.read(list_)

    async def get(self, user_id: str, token_id: str) -> ApiToken:
        return self._session.read(lambda tables: copy_entity(_owned(tables, user_id, token_id)))

    async def find_by_digest(self, digest: str) -> ApiToken:
        def find(tables: Tables) -> ApiToken:
            for token in tables.api_tokens.values():
                if token.digest == digest:
                    return copy_entity(token)
            raise NotFound("no such API token")

        return self._session.read(find)

    async def touch(self, user_id: str, token_id: str, when: datetime) -> None:
        aware(when, "when")

        def touch(tables: Tables) -> None:
            used = copy_entity(_owned(tables, user_id, token_id))
            used.last_used_at = when
            tables.api_tokens.put(token_id, used)

        self._session.write(touch)

    async def remove(self, user_id: str, token_id: str) -> None:
        def remove(tables: Tables) -> None:
            _owned(tables, user_id, token_id)
            tables.api_tokens.delete(token_id)

        self._session.write(remove)
