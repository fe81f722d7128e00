"""The repository port: a :class:`UnitOfWork` over per-aggregate repositories, all scoped by user.

Every method that reads or writes user data takes ``user_id`` first, and an adapter must never
return or change a row of another user: asking for another user's connection by id raises
:class:`~tradecore.errors.NotFound`, exactly as if it did not exist.

Writes become visible to other units of work only after :meth:`UnitOfWork.commit`; leaving the
``async with`` block without committing (or on an exception) rolls back. A unit reads at least
what other units committed ("read committed"). Amounts come back exactly as stored: a Decimal
keeps its digits (``Decimal("1.10")`` stays ``1.10``).

Typical use::

    async with repository.unit_of_work() as uow:
        await uow.trades.add_new(user.id, trades)
        await uow.cursors.set(user.id, connection.id, account.account_id, page.cursor)
        await uow.commit()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Final, Protocol, Self, runtime_checkable

from tradecore.domain import (
    ApiToken,
    BrokerConnection,
    NotificationTarget,
    RiskLimits,
    StrategyConfig,
    TradingHalt,
    User,
)
from tradecore.ports.automation import (
    AutomationRepository,
    DaemonRepository,
    LeaseRepository,
    RunRepository,
)
from tradecore.ports.equity import EquityRepository
from tradecore.ports.ledger import (
    CursorRepository,
    OrderRepository,
    PositionRepository,
    TradeRepository,
)
from tradecore.ports.venues import VenueRepository

__all__ = [
    "REPOSITORIES",
    "ApiTokenRepository",
    "AutomationRepository",
    "ConnectionRepository",
    "CursorRepository",
    "DaemonRepository",
    "EquityRepository",
    "LeaseRepository",
    "NotificationTargetRepository",
    "OrderRepository",
    "PositionRepository",
    "RepositoryPort",
    "RiskRepository",
    "RunRepository",
    "StrategyRepository",
    "TradeRepository",
    "UnitOfWork",
    "UserRepository",
    "VenueRepository",
]


class UserRepository(Protocol):
    """Users. Names are unique."""

    async def add(self, user: User) -> None:
        """Store a new user. :raises AlreadyExists: the id or name is taken."""
        ...

    async def get(self, user_id: str) -> User:
        """:raises NotFound: no such user."""
        ...

    async def get_by_name(self, name: str) -> User:
        """:raises NotFound: no user with that name."""
        ...

    async def rename(self, user_id: str, name: str) -> None:
        """Give the user a new name; everything it owns stays.

        :raises NotFound: no such user.
        :raises AlreadyExists: another user has that name.
        """
        ...

    async def list(self) -> Sequence[User]:
        """All users, by name."""
        ...

    async def remove(self, user_id: str) -> None:
        """Delete a user and everything it owns. :raises NotFound: no such user."""
        ...

    async def set_admin(self, user_id: str, is_admin: bool) -> None:
        """Make the user an administrator, or not. :raises NotFound: no such user."""
        ...

    async def set_language(self, user_id: str, language: str | None) -> None:
        """Store the user's language (``None``: their browser's). :raises NotFound: no such user."""
        ...

    async def set_password_hash(self, user_id: str, password_hash: str | None) -> None:
        """Store the hash of the user's password (``None``: the user has no password).

        :raises NotFound: no such user.
        """
        ...

    async def password_hash(self, user_id: str) -> str | None:
        """The stored hash of the user's password, ``None`` if it has none.

        :raises NotFound: no such user.
        """
        ...


class ApiTokenRepository(Protocol):
    """Users' API tokens, by digest (the token itself is never stored)."""

    async def add(self, token: ApiToken) -> None:
        """Store a new token.

        :raises NotFound: its user does not exist.
        :raises AlreadyExists: a token with that id or digest exists.
        """
        ...

    async def list(self, user_id: str) -> Sequence[ApiToken]:
        """The user's tokens, oldest first."""
        ...

    async def get(self, user_id: str, token_id: str) -> ApiToken:
        """:raises NotFound: no such token for this user."""
        ...

    async def find_by_digest(self, digest: str) -> ApiToken:
        """The token whose digest is ``digest``, whoever owns it.

        :raises NotFound: none.
        """
        ...

    async def touch(self, user_id: str, token_id: str, when: datetime) -> None:
        """Record that the token was used at ``when``. :raises NotFound: no such token."""
        ...

    async def remove(self, user_id: str, token_id: str) -> None:
        """Delete (revoke) a token. :raises NotFound: no such token for this user."""
        ...


class ConnectionRepository(Protocol):
    """Broker connections. Names are unique per user."""

    async def add(self, connection: BrokerConnection) -> None:
        """Store a new connection.

        :raises NotFound: its user does not exist.
        :raises AlreadyExists: the user already has a connection with that id or name.
        """
        ...

    async def get(self, user_id: str, connection_id: str) -> BrokerConnection:
        """:raises NotFound: no such connection for this user."""
        ...

    async def get_by_name(self, user_id: str, name: str) -> BrokerConnection:
        """:raises NotFound: no connection with that name for this user."""
        ...

    async def list(self, user_id: str, *, active_only: bool = False) -> Sequence[BrokerConnection]:
        """The user's connections, by name."""
        ...

    async def get_for_update(self, user_id: str, connection_id: str) -> BrokerConnection:
        """Read a connection and lock it until this unit of work commits, rolls back or ends.

        While it is locked, another unit's ``get_for_update`` of the same connection waits, in
        this process or another one sharing the database (PostgreSQL: a row lock; SQLite: the
        database's write lock, one host). What is returned is read after the lock was taken, so
        it includes everything committed before. Used to let one refresher at a time rotate
        OAuth tokens.

        :raises NotFound: no such connection for this user.
        """
        ...

    async def update(self, connection: BrokerConnection) -> None:
        """Replace a stored connection (settings, secrets, tokens, active flag).

        :raises NotFound: no such connection for its user.
        """
        ...

    async def remove(self, user_id: str, connection_id: str) -> None:
        """Delete a connection with its positions, trades, cursors, orders and strategies.

        :raises NotFound: no such connection for this user.
        """
        ...


class NotificationTargetRepository(Protocol):
    """Where each user's digests go. Names are unique per user."""

    async def add(self, target: NotificationTarget) -> None:
        """Store a new target.

        :raises NotFound: its user does not exist.
        :raises AlreadyExists: the user already has a target with that id or name.
        """
        ...

    async def get(self, user_id: str, target_id: str) -> NotificationTarget:
        """:raises NotFound: no such target for this user."""
        ...

    async def get_by_name(self, user_id: str, name: str) -> NotificationTarget:
        """:raises NotFound: no target with that name for this user."""
        ...

    async def list(
        self, user_id: str, *, active_only: bool = False
    ) -> Sequence[NotificationTarget]:
        """The user's targets, by name; with ``active_only``, only the active ones."""
        ...

    async def update(self, target: NotificationTarget) -> None:
        """Replace a stored target (name, notifier, settings, secrets, active flag).

        :raises NotFound: no such target for its user.
        :raises AlreadyExists: the new name is another of the user's targets'.
        """
        ...

    async def remove(self, user_id: str, target_id: str) -> None:
        """Delete a target. :raises NotFound: no such target for this user."""
        ...


class StrategyRepository(Protocol):
    """Strategy configurations. Names are unique per user."""

    async def add(self, strategy: StrategyConfig) -> None:
        """:raises AlreadyExists: the name is taken. :raises NotFound: its connection is not the
        user's."""
        ...

    async def get(self, user_id: str, strategy_id: str) -> StrategyConfig:
        """:raises NotFound: no such strategy for this user."""
        ...

    async def get_by_name(self, user_id: str, name: str) -> StrategyConfig:
        """:raises NotFound: no strategy with that name for this user."""
        ...

    async def list(self, user_id: str, *, active_only: bool = False) -> Sequence[StrategyConfig]:
        """The user's strategies, by name."""
        ...

    async def update(self, strategy: StrategyConfig) -> None:
        """Replace a stored strategy's name, parameters, active and dry-run flags; its
        :attr:`~StrategyConfig.state` is left as stored (see :meth:`save_state`).

        :raises NotFound: no such strategy for its user.
        :raises AlreadyExists: the new name is another of the user's strategies'.
        """
        ...

    async def save_state(self, user_id: str, strategy_id: str, state: Mapping[str, str]) -> None:
        """Replace what the strategy remembers between cycles.

        :raises NotFound: no such strategy for this user.
        """
        ...

    async def remove(self, user_id: str, strategy_id: str) -> None:
        """:raises NotFound: no such strategy for this user."""
        ...


class RiskRepository(Protocol):
    """Each user's risk limits, and the global kill switch."""

    async def get_limits(self, user_id: str) -> RiskLimits:
        """The user's limits; the defaults (:class:`RiskLimits` with only ``user_id``) when
        never set."""
        ...

    async def save_limits(self, limits: RiskLimits) -> None:
        """Insert or replace the user's limits. :raises NotFound: no such user."""
        ...

    async def get_halt(self) -> TradingHalt | None:
        """The engaged kill switch, or ``None`` when trading is allowed."""
        ...

    async def set_halt(self, halt: TradingHalt | None) -> None:
        """Engage the kill switch (replacing an engaged one) or release it with ``None``."""
        ...


@runtime_checkable
class UnitOfWork(Protocol):
    """One transaction over all repositories. Use it as an ``async with`` block.

    Its repositories are the attributes annotated here, and only here: :data:`REPOSITORIES`
    names them for code that handles them all alike (a wrapper delegating to a unit of work).
    """

    users: UserRepository
    connections: ConnectionRepository
    notification_targets: NotificationTargetRepository
    positions: PositionRepository
    trades: TradeRepository
    cursors: CursorRepository
    orders: OrderRepository
    strategies: StrategyRepository
    automation: AutomationRepository
    runs: RunRepository
    risk: RiskRepository
    leases: LeaseRepository
    daemons: DaemonRepository
    venues: VenueRepository
    api_tokens: ApiTokenRepository
    equity: EquityRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None:
        """Make this unit's writes durable and visible to others."""
        ...

    async def rollback(self) -> None:
        """Discard this unit's uncommitted writes."""
        ...


REPOSITORIES: Final[tuple[str, ...]] = tuple(UnitOfWork.__annotations__)
"""The names of a unit of work's repositories (``users``, ``connections``… ``daemons``), in the
order :class:`UnitOfWork` declares them, read from its annotations: the roster is written once."""


@runtime_checkable
class RepositoryPort(Protocol):
    """A store: it hands out units of work and is closed when the application stops."""

    def unit_of_work(self) -> UnitOfWork:
        """Start a new unit of work (enter it with ``async with``)."""
        ...

    async def aclose(self) -> None:
        """Release the store's resources (connection pools)."""
        ...
