"""The memory repository of risk: each user's limits and the global kill switch."""

from __future__ import annotations

from tradecore.domain import RiskLimits, TradingHalt
from tradecore.errors import NotFound
from tradecore_adapters.memory._session import Session
from tradecore_adapters.memory._store import HALT, Tables, copy_entity

__all__ = ["Risk"]


class Risk:
    """:class:`~tradecore.ports.RiskRepository` in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def get_limits(self, user_id: str) -> RiskLimits:
        def get_limits(tables: Tables) -> RiskLimits:
            limits = tables.risk_limits.get(user_id)
            return RiskLimits(user_id=user_id) if limits is None else copy_entity(limits)

        return self._session.read(get_limits)

    async def save_limits(self, limits: RiskLimits) -> None:
        row = copy_entity(limits)

        def save_limits(tables: Tables) -> None:
            if tables.users.get(row.user_id) is None:
                raise NotFound(f"no user {row.user_id!r}")
            tables.risk_limits.put(row.user_id, row)

        self._session.write(save_limits)

    async def get_halt(self) -> TradingHalt | None:
        def get_halt(tables: Tables) -> TradingHalt | None:
            return tables.halt.get(HALT)  # frozen: nothing to copy

        return self._session.read(get_halt)

    async def set_halt(self, halt: TradingHalt | None) -> None:
        def set_halt(tables: Tables) -> None:
            if halt is None:
                tables.halt.delete(HALT)
            else:
                tables.halt.put(HALT, halt)

        self._session.write(set_halt)
