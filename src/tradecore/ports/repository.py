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
from datetime import datetime, timedelta
from types import TracebackType
from typing import Final, Protocol, Self, runtime_checkable

from tradecore.domain import (
    AutomationConfig,
    AutomationRun,
    BrokerConnection,
    DaemonInfo,
    Lease,
    LeaseInterval,
    NotificationTarget,
    Order,
    Position,
    RiskLimits,
    StrategyConfig,
    Trade,
    TradingHalt,
    Trigger,
    User,
)

__all__ = [
    "REPOSITORIES",
    "AutomationRepository",
    "ConnectionRepository",
    "CursorRepository",
    "DaemonRepository",
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


class PositionRepository(Protocol):
    """Position snapshots, one row per ``(connection, account, symbol)``."""

    async def sync_snapshot(
        self,
        user_id: str,
        connection_id: str,
        account_id: str,
        positions: Sequence[Position],
        *,
        as_of: datetime,
    ) -> int:
        """Make the stored positions of one account match a snapshot taken at ``as_of``.

        Each position is upserted unless the stored one is newer (an older snapshot never
        overwrites a newer one); stored positions of the account missing from the snapshot and
        older than ``as_of`` are deleted (they were closed). Returns how many positions were
        inserted or replaced (deletions do not count).

        :raises NotFound: the connection is not this user's.
        :raises DomainError: a position of the snapshot belongs to another connection or account.
        """
        ...

    async def list(self, user_id: str, *, connection_id: str | None = None) -> Sequence[Position]:
        """The user's positions, by connection, account and symbol."""
        ...


class TradeRepository(Protocol):
    """Fills, unique on ``(connection, account, symbol, broker_trade_id)``."""

    async def add_new(self, user_id: str, trades: Sequence[Trade]) -> int:
        """Insert the trades not stored yet; ignore the others (of duplicate keys the first is
        kept). Returns how many were new.

        :raises NotFound: a trade's connection is not this user's.
        """
        ...

    async def list(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> Sequence[Trade]:
        """The user's trades executed at or after ``since``, oldest first; with ``limit``, the
        newest ``limit`` of them (still oldest first)."""
        ...

    async def count(self, user_id: str, *, connection_id: str | None = None) -> int:
        """How many trades are stored."""
        ...


class CursorRepository(Protocol):
    """The incremental trade-sync cursor of each ``(connection, account)``."""

    async def get(self, user_id: str, connection_id: str, account_id: str) -> str | None:
        """The stored cursor, or ``None`` before the first sync."""
        ...

    async def set(self, user_id: str, connection_id: str, account_id: str, cursor: str) -> None:
        """Store the cursor. :raises NotFound: the connection is not this user's."""
        ...


class OrderRepository(Protocol):
    """Orders we sent or mean to send, unique on ``(connection, account, client_order_id)``."""

    async def add(self, user_id: str, order: Order) -> None:
        """Store a new order.

        :raises AlreadyExists: an order with its client id exists: it was already submitted.
        :raises NotFound: its connection is not this user's.
        """
        ...

    async def get(self, user_id: str, client_order_id: str) -> Order:
        """Find an order by client id among the user's orders.

        Client ids derive from intent keys that include the strategy id, so they are unique per
        user in practice; should two connections hold the same one, this raises
        :class:`~tradecore.errors.RepositoryError` rather than guess.

        :raises NotFound: no such order for this user.
        """
        ...

    async def update(self, user_id: str, order: Order) -> None:
        """Replace a stored order (found by client id). :raises NotFound: no such order."""
        ...

    async def list(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        strategy_id: str | None = None,
        open_only: bool = False,
        limit: int | None = None,
    ) -> Sequence[Order]:
        """The user's orders, oldest first (by creation, then insertion); with ``open_only``,
        only non-terminal ones; with ``strategy_id``, only that strategy's; with ``limit``, the
        newest ``limit`` of them (still oldest first)."""
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


class AutomationRepository(Protocol):
    """Each user's automation schedule."""

    async def get(self, user_id: str) -> AutomationConfig | None:
        """The stored config, or ``None`` when the user never configured automation."""
        ...

    async def get_for_update(self, user_id: str) -> AutomationConfig | None:
        """As :meth:`get`, holding the row locked until the unit ends, so that a control
        (pause, frequency…) and a scheduler finishing a cycle never lose each other's change
        (PostgreSQL ``FOR UPDATE``, SQLite ``BEGIN IMMEDIATE``)."""
        ...

    async def save(self, config: AutomationConfig) -> None:
        """Insert or replace the user's config. :raises NotFound: no such user."""
        ...

    async def list(self) -> Sequence[AutomationConfig]:
        """Every user's config (for the scheduler)."""
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


class RunRepository(Protocol):
    """The run ledger."""

    async def add(self, run: AutomationRun) -> None:
        """Store a run. :raises AlreadyExists: the id is taken. :raises NotFound: no such user."""
        ...

    async def update(self, run: AutomationRun) -> None:
        """Replace a stored run (steps added, finished). :raises NotFound: no such run."""
        ...

    async def get(self, user_id: str, run_id: str) -> AutomationRun:
        """:raises NotFound: no such run for this user."""
        ...

    async def list(self, user_id: str, *, limit: int = 20) -> Sequence[AutomationRun]:
        """The user's most recent runs, newest first."""
        ...

    async def prune(self, *, started_before: datetime | None, keep_per_user: int | None) -> int:
        """Delete runs (with their steps) that started before ``started_before``, and each
        user's runs beyond the newest ``keep_per_user``; ``None`` turns a rule off. Returns
        how many runs were deleted.

        :raises DomainError: ``keep_per_user`` is below 1.
        """
        ...


class LeaseRepository(Protocol):
    """Claims on users' cycles (how schedulers share them: docs/operations.md, "Several daemons:
    PostgreSQL"). Each user with an :class:`AutomationConfig` has one lease slot
    (:class:`~tradecore.domain.lease.LeaseSlot`); a claim takes it for ``ttl`` and increments the
    user's fencing token. Who may claim, when a slot is claimable and what a claim hands out is
    the domain's rule (:mod:`tradecore.domain.lease`), which every adapter applies. All lease
    arithmetic uses the store's clock (:meth:`now`: the database server's on PostgreSQL), never
    the clocks of several machines.

    Claims are meant for short units of work: claim, commit, run the cycle outside any
    transaction, then release in another short unit.
    """

    async def now(self) -> datetime:
        """The store's current time (UTC): the database server's on PostgreSQL, this host's
        on SQLite (one host only)."""
        ...

    async def claim_due(
        self, owner: str, *, ttl: timedelta, limit: int, trigger: Trigger
    ) -> Sequence[Lease]:
        """Claim up to ``limit`` users whose cycle is due (:meth:`AutomationConfig.is_due`)
        and whose lease is free or expired, earliest due first. Rows another claimer holds
        locked are skipped, never waited for (``FOR UPDATE SKIP LOCKED``). A claim that serves
        only a run request gets :attr:`Trigger.MANUAL`, otherwise ``trigger``.
        """
        ...

    async def claim(
        self, user_id: str, owner: str, *, ttl: timedelta, trigger: Trigger
    ) -> Lease | None:
        """Claim ``user_id``'s cycle now, whatever its schedule (``--force``, ``--user``, a
        cycle run by hand). The lease serves the user's slot if it is due and its run request
        if any. ``None`` while an unexpired lease is held, by anyone (this owner included).

        :raises NotFound: the user has no automation config.
        """
        ...

    async def renew(self, lease: Lease, *, ttl: timedelta) -> Lease | None:
        """Extend a held lease to ``now + ttl`` (the heartbeat); ``None`` when it was lost
        (taken over, or expired: an expired lease is never revived)."""
        ...

    async def confirm(self, lease: Lease) -> bool:
        """Whether ``lease`` is still held and unexpired, checked inside this unit's
        transaction so that it holds until the unit commits (the fencing check of every write
        a cycle makes)."""
        ...

    async def release(self, lease: Lease, *, completed: bool) -> bool:
        """End a held lease. ``completed``: the cycle ran, so the schedule moves on
        (:meth:`AutomationConfig.completed`); otherwise (shutdown) the schedule is left as it
        was so that another scheduler runs the cycle at once. ``False`` when the lease had
        been lost: nothing is changed then."""
        ...

    async def next_wake(self) -> datetime | None:
        """The earliest time a claim could find work: for a user not leased (or whose lease
        lapsed), its run request or due slot; for a leased user with a slot or request, the
        later of that time and the lease's expiry. ``None`` when nothing is scheduled. A lease
        expiring exactly now is neither renewable nor claimable yet."""
        ...

    async def intervals(self, user_id: str | None = None) -> Sequence[LeaseInterval]:
        """The lease audit, oldest first (of one user, or of all)."""
        ...

    async def prune_intervals(self, *, ended_before: datetime) -> int:
        """Delete audit records that ended before ``ended_before``; returns how many."""
        ...


class DaemonRepository(Protocol):
    """The registry of running schedulers (to show them, and to refuse a second host on
    SQLite)."""

    async def register(self, daemon: DaemonInfo) -> None:
        """Add or refresh (``seen_at`` = the store's now) a daemon's entry."""
        ...

    async def unregister(self, owner: str) -> None:
        """Remove a daemon's entry (at shutdown); a missing one is fine."""
        ...

    async def list(self) -> Sequence[DaemonInfo]:
        """Every registered daemon, by start time."""
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
