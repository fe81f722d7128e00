"""The in-memory :class:`~tradecore.ports.RepositoryPort`: :class:`MemoryRepository`."""

from __future__ import annotations

from types import TracebackType
from typing import Self, final

from tradecore.errors import RepositoryError
from tradecore.ports import Clock, SharedLimits
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
    RepositoryPort,
    RiskRepository,
    RunRepository,
    StrategyRepository,
    TradeRepository,
    UnitOfWork,
    UserRepository,
    VenueRepository,
)
from tradecore_adapters.clock import SystemClock
from tradecore_adapters.memory._api_tokens import ApiTokens
from tradecore_adapters.memory._directory import (
    Automation,
    Connections,
    NotificationTargets,
    Strategies,
    Users,
)
from tradecore_adapters.memory._equity import Equity
from tradecore_adapters.memory._journal import Orders, Runs
from tradecore_adapters.memory._leases import Daemons, Leases
from tradecore_adapters.memory._ledger import Cursors, Positions, Trades
from tradecore_adapters.memory._risk import Risk
from tradecore_adapters.memory._session import RowLocks, Session
from tradecore_adapters.memory._store import Tables
from tradecore_adapters.memory._venues import Venues
from tradecore_adapters.memory._web_sessions import MemoryWebSessions
from tradecore_adapters.shared_limits import LocalLimits

__all__ = ["MemoryRepository", "MemoryUnitOfWork"]


@final
class MemoryUnitOfWork:
    """One transaction over a :class:`MemoryRepository`; use it as an ``async with`` block.

    It sees its own writes at once and what other units commit as soon as they commit. Its own
    writes reach the store only on :meth:`commit`; leaving the block without committing, or on
    an exception, discards them. A unit may commit several times; after each commit it goes on
    with an empty transaction. Using it outside its block raises
    :class:`~tradecore.errors.RepositoryError`.

    Create it with :meth:`MemoryRepository.unit_of_work`.

    :param session: its transaction.
    :param clock: the store's clock for :attr:`leases` and :attr:`daemons` (the system clock
        when ``None``).
    """

    __slots__ = ("_session", *REPOSITORIES)

    def __init__(self, session: Session, clock: Clock | None = None) -> None:
        self._session = session
        store_clock: Clock = clock if clock is not None else SystemClock()
        self.users: UserRepository = Users(session)
        self.connections: ConnectionRepository = Connections(session)
        self.notification_targets: NotificationTargetRepository = NotificationTargets(session)
        self.positions: PositionRepository = Positions(session)
        self.trades: TradeRepository = Trades(session)
        self.cursors: CursorRepository = Cursors(session)
        self.orders: OrderRepository = Orders(session)
        self.strategies: StrategyRepository = Strategies(session)
        self.automation: AutomationRepository = Automation(session)
        self.runs: RunRepository = Runs(session)
        self.risk: RiskRepository = Risk(session)
        self.leases: LeaseRepository = Leases(session, store_clock)
        self.daemons: DaemonRepository = Daemons(session, store_clock)
        self.venues: VenueRepository = Venues(session)
        self.api_tokens: ApiTokenRepository = ApiTokens(session)
        self.equity: EquityRepository = Equity(session)

    async def __aenter__(self) -> Self:
        self._session.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Discard whatever was not committed."""
        self._session.end()

    async def commit(self) -> None:
        """Apply this unit's writes to the store, all at once, and make them visible to others.

        Rules are checked again against what others committed meanwhile; if one fails (a name
        taken, a connection removed…) its error is raised, nothing is applied, and the unit's
        pending writes are discarded.

        :raises AlreadyExists: a natural key was taken by another unit since the write.
        :raises NotFound: a row the writes depend on was removed by another unit.
        """
        self._session.commit()

    async def rollback(self) -> None:
        """Discard this unit's uncommitted writes."""
        self._session.rollback()


@final
class MemoryRepository:
    """A :class:`~tradecore.ports.RepositoryPort` that keeps everything in process memory.

    It is the store of unit tests and of ``--dry`` runs: nothing survives the process. It obeys
    the whole port (scoping by user, natural keys, ordering, transactions), so code tested against
    it behaves the same on a database. Several units of work may run concurrently in one event
    loop; each commit applies atomically, and writes committed by one unit are never lost by
    another's commit. Entities are copied in and out: changing a returned object changes nothing
    stored until it is written back.

    :param clock: the store's clock, which all lease arithmetic uses (as a database server's
        clock would); the system clock by default. Tests pass a
        :class:`~tradecore.testing.FakeClock`.

    Example::

        repository = MemoryRepository()
        async with repository.unit_of_work() as uow:
            await uow.users.add(user)
            await uow.commit()
        await repository.aclose()
    """

    __slots__ = ("_clock", "_closed", "_limits", "_locks", "_sessions", "_store")

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._store = Tables()
        self._locks = RowLocks()
        self._limits = LocalLimits()
        self._sessions = MemoryWebSessions()
        self._closed = False

    def shared_limits(self) -> LocalLimits:
        """The limits every adapter using this repository obeys together (in this process:
        nothing is shared with another one); see :class:`~tradecore.ports.SharedLimits`."""
        return self._limits

    def web_sessions(self) -> MemoryWebSessions:
        """The browser sessions of the web front end on this repository; see
        :class:`~tradecore.ports.WebSessionRepository`."""
        return self._sessions

    def unit_of_work(self) -> MemoryUnitOfWork:
        """Start a new unit of work (enter it with ``async with``).

        :raises RepositoryError: the repository was closed.
        """
        if self._closed:
            raise RepositoryError("the memory repository is closed")
        return MemoryUnitOfWork(Session(self._store, self._locks), self._clock)

    async def aclose(self) -> None:
        """Close the repository; later :meth:`unit_of_work` calls fail. Closing twice is fine."""
        self._closed = True


def _conforms(
    repository: MemoryRepository, unit: MemoryUnitOfWork
) -> tuple[RepositoryPort, UnitOfWork, SharedLimits]:
    # Never called: lets mypy check that the classes implement the port.
    return repository, unit, repository.shared_limits()
