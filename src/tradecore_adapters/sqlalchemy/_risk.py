"""The SQL repository of risk: each user's limits (``risk_limits``) and the global kill switch
(``trading_halt``, one row while trading is halted)."""

from __future__ import annotations

from sqlalchemy import delete, exists, select

from tradecore.domain import RiskLimits, TradingHalt
from tradecore.errors import NotFound
from tradecore_adapters.sqlalchemy._ledger import upsert
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


class Risk:
    """:class:`~tradecore.ports.RiskRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get_limits(self, user_id: str) -> RiskLimits:
        db = await self._tx.read()
        result = await db.execute(select(risk_limits).where(risk_limits.c.user_id == user_id))
        with fetching("risk_limits"):
            row = result.mappings().first()
        return RiskLimits(user_id=user_id) if row is None else risk_limits_from_row(row)

    async def save_limits(self, limits: RiskLimits) -> None:
        row = risk_limits_row(limits)
        async with self._tx.atomic() as db:
            if not await db.scalar(select(exists().where(users.c.id == limits.user_id))):
                raise NotFound(f"no user with id {limits.user_id!r}")
            statement = upsert(self._tx, risk_limits)
            await db.execute(
                statement.on_conflict_do_update(
                    index_elements=["user_id"],
                    set_={name: statement.excluded[name] for name in row if name != "user_id"},
                ),
                [row],
            )

    async def get_halt(self) -> TradingHalt | None:
        db = await self._tx.read()
        result = await db.execute(select(trading_halt))
        with fetching("trading_halt"):
            row = result.mappings().first()
        return None if row is None else halt_from_row(row)

    async def set_halt(self, halt: TradingHalt | None) -> None:
        async with self._tx.atomic() as db:
            if halt is None:
                await db.execute(delete(trading_halt))
                return
            row = halt_row(halt)
            statement = upsert(self._tx, trading_halt)
            await db.execute(
                statement.on_conflict_do_update(
                    index_elements=["id"],
                    set_={"reason": statement.excluded.reason, "since": statement.excluded.since},
                ),
                [row],
            )
