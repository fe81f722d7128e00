"""The SQL unit of work: one :class:`Transaction` shared by every SQL repository, the top of this
package (the repositories import only the transaction, never this module)."""

from __future__ import annotations

from types import TracebackType
from typing import Self, final

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tradecore.ports.repository import (
    REPOSITORIES,
    ApiTokenRepository,
    AutomationRepository,
    ConnectionRepository,
    CursorRepository,
    DaemonRepository,
    EquityRepository,
    LeaseRepository,
    NotificationTargetRepository,
    OrderRepository,
    PositionRepository,
    RiskRepository,
    RunRepository,
    StrategyRepository,
    TradeRepository,
    UserRepository,
    VenueRepository,
)
from tradecore_adapters.encryption import KeyRing
from tradecore_adapters.sqlalchemy._api_tokens import ApiTokens
from tradecore_adapters.sqlalchemy._automation import Automation
from tradecore_adapters.sqlalchemy._daemons import SqlDaemons
from tradecore_adapters.sqlalchemy._directory import Connections, Users
from tradecore_adapters.sqlalchemy._equity import Equity
from tradecore_adapters.sqlalchemy._journal import Orders, Runs
from tradecore_adapters.sqlalchemy._leases import SqlLeases
from tradecore_adapters.sqlalchemy._ledger import Cursors, Positions, Trades
from tradecore_adapters.sqlalchemy._risk import Risk
from tradecore_adapters.sqlalchemy._strategies import Strategies
from tradecore_adapters.sqlalchemy._targets import NotificationTargets
from tradecore_adapters.sqlalchemy._unit import Transaction, database_error
from tradecore_adapters.sqlalchemy._venues import Venues

__all__ = ["SqlUnitOfWork"]


@final
class SqlUnitOfWork:
    """One transaction over a :class:`~tradecore_adapters.sqlalchemy.SqlRepository`.

    Use it as an ``async with`` block; leaving it without :meth:`commit` rolls back. Create it
    with :meth:`SqlRepository.unit_of_work`.
    """

    __slots__ = ("_tx", *REPOSITORIES)

    def __init__(self, engine: AsyncEngine, key_ring: KeyRing) -> None:
        self._tx = Transaction(engine)
        self.users: UserRepository = Users(self._tx)
        self.connections: ConnectionRepository = Connections(self._tx, key_ring)
        self.notification_targets: NotificationTargetRepository = NotificationTargets(
            self._tx, key_ring
        )
        self.positions: PositionRepository = Positions(self._tx)
        self.trades: TradeRepository = Trades(self._tx)
        self.cursors: CursorRepository = Cursors(self._tx)
        self.orders: OrderRepository = Orders(self._tx)
        self.strategies: StrategyRepository = Strategies(self._tx)
        self.automation: AutomationRepository = Automation(self._tx)
        self.runs: RunRepository = Runs(self._tx)
        self.risk: RiskRepository = Risk(self._tx)
        leases = SqlLeases(self._tx)
        self.leases: LeaseRepository = leases
        self.daemons: DaemonRepository = SqlDaemons(self._tx, leases)
        self.venues: VenueRepository = Venues(self._tx)
        self.api_tokens: ApiTokenRepository = ApiTokens(self._tx)
        self.equity: EquityRepository = Equity(self._tx)

    async def __aenter__(self) -> Self:
        self._tx.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed; a driver error leaves as one sentence."""
        try:
            await self._tx.end()
        finally:
            if isinstance(exc, DBAPIError):  # it wins over a failed rollback's error
                raise database_error(exc) from None

    async def commit(self) -> None:
        """Make this unit's writes durable and visible to others."""
        await self._tx.commit()

    async def rollback(self) -> None:
        """Discard this unit's uncommitted writes."""
        await self._tx.rollback()
