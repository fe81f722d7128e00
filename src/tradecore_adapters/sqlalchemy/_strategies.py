"""The SQL repository of strategies (their settings, and the state a cycle saves)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, exists, insert, select, update
from sqlalchemy.sql import Select

from tradecore.domain import StrategyConfig
from tradecore.domain._checks import frozen_settings
from tradecore.errors import AlreadyExists, NotFound
from tradecore_adapters.sqlalchemy._directory import connection_owned
from tradecore_adapters.sqlalchemy._rows import fetching, strategy_from_row, strategy_row
from tradecore_adapters.sqlalchemy._unit import Transaction, text_order
from tradecore_adapters.sqlalchemy.schema import strategies

__all__ = ["Strategies"]

_c = strategies.c

# The statements, built once, their values bound ("b_…") when run.
# The strategy b_strategy_id of the user b_user_id.
_OWNED = (_c.id == bindparam("b_strategy_id")) & (_c.user_id == bindparam("b_user_id"))
_OWNED_EXISTS = select(exists().where(_OWNED))
_SAVE_STATE = update(strategies).where(_OWNED).values(state=bindparam("b_state"))
_REMOVE = delete(strategies).where(
    _c.id == bindparam("b_strategy_id"), _c.user_id == bindparam("b_user_id")
)
_INSERT = insert(strategies)
_BY_ID = select(strategies).where(
    _c.user_id == bindparam("b_user_id"), _c.id == bindparam("b_strategy_id")
)
_BY_NAME = select(strategies).where(
    _c.user_id == bindparam("b_user_id"), _c.name == bindparam("b_name")
)
_SAME_NAME = (_c.user_id == bindparam("b_user_id")) & (_c.name == bindparam("b_name"))
# Another strategy with the name, or (a new one) with the id.
_CLASH_NEW = select(_c.id).where(_SAME_NAME | (_c.id == bindparam("b_strategy_id")))
_CLASH = select(_c.id).where(_SAME_NAME).where(_c.id != bindparam("b_strategy_id"))


@functools.cache
def _listed(sqlite: bool, active_only: bool) -> Select[Any]:
    """The user's (``b_user_id``) strategies by name."""
    query = select(strategies).where(_c.user_id == bindparam("b_user_id"))
    if active_only:
        query = query.where(_c.active.is_(True))
    return query.order_by(text_order(_c.name, sqlite=sqlite))


@functools.cache
def _update(columns: tuple[str, ...]) -> Any:
    """The update of the strategy (``b_strategy_id``, ``b_user_id``), setting ``columns`` (from
    ``b_set_…``)."""
    return (
        update(strategies)
        .where(_OWNED)
        .values({name: bindparam(f"b_set_{name}") for name in columns})
    )


class Strategies:
    """:class:`~tradecore.ports.StrategyRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, strategy: StrategyConfig) -> None:
        async with self._tx.one_write() as db:
            await connection_owned(self._tx, strategy.user_id, strategy.connection_id)
            await self._check_free(strategy, new=True)
            await db.execute(_INSERT, [strategy_row(strategy)])

    async def get(self, user_id: str, strategy_id: str) -> StrategyConfig:
        return await self._one(
            _BY_ID, {"b_user_id": user_id, "b_strategy_id": strategy_id}, f"id {strategy_id!r}"
        )

    async def get_by_name(self, user_id: str, name: str) -> StrategyConfig:
        return await self._one(_BY_NAME, {"b_user_id": user_id, "b_name": name}, f"name {name!r}")

    async def list(self, user_id: str, *, active_only: bool = False) -> Sequence[StrategyConfig]:
        db = await self._tx.read()
        result = await db.execute(_listed(self._tx.sqlite, active_only), {"b_user_id": user_id})
        with fetching("strategies"):
            rows = result.mappings().all()
        return [strategy_from_row(row) for row in rows]

    async def update(self, strategy: StrategyConfig) -> None:
        # Everything but the state, which only save_state writes (a cycle may save it while
        # the user edits the strategy).
        row = strategy_row(strategy)
        owned = {"b_strategy_id": strategy.id, "b_user_id": strategy.user_id}
        async with self._tx.one_write() as db:
            if not (await db.execute(_OWNED_EXISTS, owned)).scalar():
                raise NotFound(f"no strategy {strategy.id!r} for this user")
            await connection_owned(self._tx, strategy.user_id, strategy.connection_id)
            await self._check_free(strategy, new=False)
            columns = tuple(k for k in row if k not in ("id", "user_id", "state"))
            result = await db.execute(
                _update(columns), owned | {f"b_set_{k}": row[k] for k in columns}
            )
            if result.rowcount == 0:
                raise NotFound(f"no strategy {strategy.id!r} for this user")

    async def save_state(self, user_id: str, strategy_id: str, state: Mapping[str, str]) -> None:
        values = {
            "b_strategy_id": strategy_id,
            "b_user_id": user_id,
            "b_state": dict(frozen_settings(state)),
        }
        async with self._tx.one_write(cannot_conflict=True) as db:  # an UPDATE by key
            result = await db.execute(_SAVE_STATE, values)
            if result.rowcount == 0:
                raise NotFound(f"no strategy {strategy_id!r} for this user")

    async def remove(self, user_id: str, strategy_id: str) -> None:
        async with self._tx.one_write() as db:
            result = await db.execute(_REMOVE, {"b_strategy_id": strategy_id, "b_user_id": user_id})
            if result.rowcount == 0:
                raise NotFound(f"no strategy {strategy_id!r} for this user")

    async def _check_free(self, strategy: StrategyConfig, *, new: bool) -> None:
        db = await self._tx.read()
        query = _CLASH_NEW if new else _CLASH
        parameters = {
            "b_user_id": strategy.user_id,
            "b_name": strategy.name,
            "b_strategy_id": strategy.id,
        }
        if await db.scalar(query, parameters) is not None:
            raise AlreadyExists(
                f"a strategy with id {strategy.id!r} or name {strategy.name!r} exists"
            )

    async def _one(self, query: Any, parameters: dict[str, str], what: str) -> StrategyConfig:
        db = await self._tx.read()
        result = await db.execute(query, parameters)
        with fetching("strategies"):
            row = result.mappings().first()
        if row is None:
            raise NotFound(f"no strategy with {what} for this user")
        return strategy_from_row(row)
