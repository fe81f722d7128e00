"""The SQL repository of risk: each user's limits (``risk_limits``) and the global kill switch
(``trading_halt``, one row while trading is halted)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite

from tradecore.domain import RiskLimits, TradingHalt
from tradecore.errors import NotFound
from tradecore_adapters.sqlalchemy._rows import (
    fetching,
    halt_from_row,
    halt_row,
    risk_limits_from_row,
    risk_limits_row,
)
from tradecore_adapters.sqlalchemy._unit import Transaction
from tradecore_adapters.sqlalchemy.schema import risk_limits, trading_halt, users

__all__ = ["Risk"]

# The statements, built once, their values bound ("b_…") when run.
_LIMITS = select(risk_limits).where(risk_limits.c.user_id == bindparam("b_user_id"))
_USER_EXISTS = select(exists().where(users.c.id == bindparam("b_user_id")))
_HALT = select(trading_halt)
_NO_HALT = delete(trading_halt)


@functools.cache
def _save_limits(is_sqlite: bool, columns: tuple[str, ...]) -> Any:
    """The upsert of a ``risk_limits`` row of ``columns`` (its ``user_id`` first)."""
    statement = (sqlite.insert if is_sqlite else postgresql.insert)(risk_limits)
    return statement.on_conflict_do_update(
        index_elements=["user_id"],
        set_={name: statement.excluded[name] for name in columns if name != "user_id"},
    )


@functools.cache
def _set_halt(is_sqlite: bool) -> Any:
    statement = (sqlite.insert if is_sqlite else postgresql.insert)(trading_halt)
    return statement.on_conflict_do_update(
        index_elements=["id"],
        set_={"reason": statement.excluded.reason, "since": statement.excluded.since},
    )


class Risk:
    """:class:`~tradecore.ports.RiskRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get_limits(self, user_id: str) -> RiskLimits:
        db = await self._tx.read()
        result = await db.execute(_LIMITS, {"b_user_id": user_id})
        with fetching("risk_limits"):
            row = result.mappings().first()
        return RiskLimits(user_id=user_id) if row is None else risk_limits_from_row(row)

    async def save_limits(self, limits: RiskLimits) -> None:
        row = risk_limits_row(limits)
        async with self._tx.atomic() as db:
            if not await db.scalar(_USER_EXISTS, {"b_user_id": limits.user_id}):
                raise NotFound(f"no user with id {limits.user_id!r}")
            await db.execute(_save_limits(self._tx.sqlite, tuple(row)), [row])

    async def get_halt(self) -> TradingHalt | None:
        db = await self._tx.read()
        result = await db.execute(_HALT)
        with fetching("trading_halt"):
            row = result.mappings().first()
        return None if row is None else halt_from_row(row)

    async def set_halt(self, halt: TradingHalt | None) -> None:
        async with self._tx.atomic() as db:
            if halt is None:
                await db.execute(_NO_HALT)
                return
            await db.execute(_set_halt(self._tx.sqlite), [halt_row(halt)])
