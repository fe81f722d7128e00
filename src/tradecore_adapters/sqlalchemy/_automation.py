"""The SQL automation repository: each user's schedule (the config columns of
``automation_configs``; the lease columns of the same rows belong to :mod:`._leases`)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, exists, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Select

from tradecore.domain import AutomationConfig
from tradecore.errors import NotFound
from tradecore_adapters.sqlalchemy._rows import automation_from_row, automation_row, fetching
from tradecore_adapters.sqlalchemy._unit import Transaction, database_error, text_order
from tradecore_adapters.sqlalchemy.schema import automation_configs, users

__all__ = ["Automation"]

_configs = automation_configs.c

# The statements, built once, their values bound ("b_…") when run.
_BY_USER = select(automation_configs).where(_configs.user_id == bindparam("b_user_id"))
_USER_EXISTS = select(exists().where(users.c.id == bindparam("b_user_id")))
_INSERT = insert(automation_configs)


@functools.cache
def _by_user_locked(sqlite: bool) -> Select[Any]:
    """The user's row, locked on PostgreSQL (``FOR UPDATE``)."""
    return _BY_USER if sqlite else _BY_USER.with_for_update()


@functools.cache
def _update(columns: tuple[str, ...]) -> Any:
    """The update of the user's (``b_user_id``) row, setting ``columns`` (from ``b_set_…``)."""
    return (
        update(automation_configs)
        .where(_configs.user_id == bindparam("b_user_id"))
        .values({name: bindparam(f"b_set_{name}") for name in columns})
    )


@functools.cache
def _all(sqlite: bool) -> Select[Any]:
    user_id = _configs.user_id
    return select(automation_configs).order_by(text_order(user_id, sqlite=sqlite))


class Automation:
    """:class:`~tradecore.ports.AutomationRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, user_id: str) -> AutomationConfig | None:
        db = await self._tx.read()
        result = await db.execute(_BY_USER, {"b_user_id": user_id})
        with fetching("automation_configs"):
            row = result.mappings().first()
        return None if row is None else automation_from_row(row)

    async def get_for_update(self, user_id: str) -> AutomationConfig | None:
        # As Connections.get_for_update: PostgreSQL locks the row (FOR UPDATE, which also
        # waits for a claim or release in progress); SQLite takes the database's write lock
        # (BEGIN IMMEDIATE) before reading.
        query = _by_user_locked(self._tx.sqlite)
        try:
            db = await self._tx.write()
            result = await db.execute(query, {"b_user_id": user_id})
            with fetching("automation_configs"):
                row = result.mappings().first()
        except DBAPIError as exc:
            raise database_error(exc) from None
        return None if row is None else automation_from_row(row)

    async def save(self, config: AutomationConfig) -> None:
        # The config columns only: the lease columns (leased_by, lease_until, fencing,
        # lease_run_id) belong to the lease repository, and a control saved while a cycle
        # runs must leave its lease as it is.
        row = automation_row(config)
        async with self._tx.atomic() as db:
            if not await db.scalar(_USER_EXISTS, {"b_user_id": config.user_id}):
                raise NotFound(f"no user with id {config.user_id!r}")
            columns = tuple(k for k in row if k != "user_id")
            result = await db.execute(
                _update(columns),
                {"b_user_id": config.user_id} | {f"b_set_{k}": row[k] for k in columns},
            )
            if result.rowcount == 0:
                await db.execute(_INSERT, [row])

    async def list(self) -> Sequence[AutomationConfig]:
        db = await self._tx.read()
        result = await db.execute(_all(self._tx.sqlite))
        with fetching("automation_configs"):
            rows = result.mappings().all()
        return [automation_from_row(row) for row in rows]
