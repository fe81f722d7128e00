"""The SQL automation repository: each user's schedule (the config columns of
``automation_configs``; the lease columns of the same rows belong to :mod:`._leases`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import DBAPIError

from tradecore.domain import AutomationConfig
from tradecore.errors import NotFound
from tradecore_adapters.sqlalchemy._rows import automation_from_row, automation_row, fetching
from tradecore_adapters.sqlalchemy._unit import Transaction, database_error
from tradecore_adapters.sqlalchemy.schema import automation_configs, users

__all__ = ["Automation"]


class Automation:
    """:class:`~tradecore.ports.AutomationRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, user_id: str) -> AutomationConfig | None:
        db = await self._tx.read()
        query = select(automation_configs).where(automation_configs.c.user_id == user_id)
        result = await db.execute(query)
        with fetching("automation_configs"):
            row = result.mappings().first()
        return None if row is None else automation_from_row(row)

    async def get_for_update(self, user_id: str) -> AutomationConfig | None:
        # As Connections.get_for_update: PostgreSQL locks the row (FOR UPDATE, which also
        # waits for a claim or release in progress); SQLite takes the database's write lock
        # (BEGIN IMMEDIATE) before reading.
        query = select(automation_configs).where(automation_configs.c.user_id == user_id)
        if not self._tx.sqlite:
            query = query.with_for_update()
        try:
            db = await self._tx.write()
            result = await db.execute(query)
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
            if not await db.scalar(select(exists().where(users.c.id == config.user_id))):
                raise NotFound(f"no user with id {config.user_id!r}")
            result = await db.execute(
                update(automation_configs)
                .where(automation_configs.c.user_id == config.user_id)
                .values({k: v for k, v in row.items() if k != "user_id"})
            )
            if result.rowcount == 0:
                await db.execute(insert(automation_configs), [row])

    async def list(self) -> Sequence[AutomationConfig]:
        db = await self._tx.read()
        query = select(automation_configs).order_by(
            self._tx.text_order(automation_configs.c.user_id)
        )
        result = await db.execute(query)
        with fetching("automation_configs"):
            rows = result.mappings().all()
        return [automation_from_row(row) for row in rows]
