"""The SQL repository of strategies (their settings, and the state a cycle saves)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, exists, insert, select, update

from tradecore.domain import StrategyConfig
from tradecore.domain._checks import frozen_settings
from tradecore.errors import AlreadyExists, NotFound
from tradecore_adapters.sqlalchemy._directory import connection_owned
from tradecore_adapters.sqlalchemy._rows import fetching, strategy_from_row, strategy_row
from tradecore_adapters.sqlalchemy._unit import Transaction
from tradecore_adapters.sqlalchemy.schema import strategies

__all__ = ["Strategies"]


class Strategies:
    """:class:`~tradecore.ports.StrategyRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, strategy: StrategyConfig) -> None:
        async with self._tx.one_write() as db:
            await connection_owned(self._tx, strategy.user_id, strategy.connection_id)
            await self._check_free(strategy, new=True)
            await db.execute(insert(strategies), [strategy_row(strategy)])

    async def get(self, user_id: str, strategy_id: str) -> StrategyConfig:
        return await self._one(user_id, strategies.c.id == strategy_id, f"id {strategy_id!r}")

    async def get_by_name(self, user_id: str, name: str) -> StrategyConfig:
        return await self._one(user_id, strategies.c.name == name, f"name {name!r}")

    async def list(self, user_id: str, *, active_only: bool = False) -> Sequence[StrategyConfig]:
        query = select(strategies).where(strategies.c.user_id == user_id)
        if active_only:
            query = query.where(strategies.c.active.is_(True))
        db = await self._tx.read()
        result = await db.execute(query.order_by(self._tx.text_order(strategies.c.name)))
        with fetching("strategies"):
            rows = result.mappings().all()
        return [strategy_from_row(row) for row in rows]

    async def update(self, strategy: StrategyConfig) -> None:
        # Everything but the state, which only save_state writes (a cycle may save it while
        # the user edits the strategy).
        row = strategy_row(strategy)
        async with self._tx.one_write() as db:
            if not await db.scalar(
                select(exists().where(self._owned(strategy.user_id, strategy.id)))
            ):
                raise NotFound(f"no strategy {strategy.id!r} for this user")
            await connection_owned(self._tx, strategy.user_id, strategy.connection_id)
            await self._check_free(strategy, new=False)
            result = await db.execute(
                update(strategies)
                .where(self._owned(strategy.user_id, strategy.id))
                .values({k: v for k, v in row.items() if k not in ("id", "user_id", "state")})
            )
            if result.rowcount == 0:
                raise NotFound(f"no strategy {strategy.id!r} for this user")

    async def save_state(self, user_id: str, strategy_id: str, state: Mapping[str, str]) -> None:
        values = {"state": dict(frozen_settings(state))}
        async with self._tx.one_write(cannot_conflict=True) as db:  # an UPDATE by key
            result = await db.execute(
                update(strategies).where(self._owned(user_id, strategy_id)).values(values)
            )
            if result.rowcount == 0:
                raise NotFound(f"no strategy {strategy_id!r} for this user")

    @staticmethod
    def _owned(user_id: str, strategy_id: str) -> Any:
        return (strategies.c.id == strategy_id) & (strategies.c.user_id == user_id)

    async def remove(self, user_id: str, strategy_id: str) -> None:
        async with self._tx.one_write() as db:
            result = await db.execute(
                delete(strategies).where(
                    strategies.c.id == strategy_id, strategies.c.user_id == user_id
                )
            )
            if result.rowcount == 0:
                raise NotFound(f"no strategy {strategy_id!r} for this user")

    async def _check_free(self, strategy: StrategyConfig, *, new: bool) -> None:
        db = await self._tx.read()
        same_name = (strategies.c.user_id == strategy.user_id) & (
            strategies.c.name == strategy.name
        )
        condition = (same_name | (strategies.c.id == strategy.id)) if new else same_name
        query = select(strategies.c.id).where(condition)
        if not new:
            query = query.where(strategies.c.id != strategy.id)
        if await db.scalar(query) is not None:
            raise AlreadyExists(
                f"a strategy with id {strategy.id!r} or name {strategy.name!r} exists"
            )

    async def _one(self, user_id: str, condition: Any, what: str) -> StrategyConfig:
        db = await self._tx.read()
        query = select(strategies).where(strategies.c.user_id == user_id, condition)
        result = await db.execute(query)
        with fetching("strategies"):
            row = result.mappings().first()
        if row is None:
            raise NotFound(f"no strategy with {what} for this user")
        return strategy_from_row(row)
