"""The in-memory tables and the layering that gives units of work their isolation.

A :class:`Table` is a dict of rows that may sit on top of a parent table: it records its own
changes (new rows and tombstones) and reads through to the parent for everything else. The shared
store is a root layer; a unit of work writes into a child layer of it; each statement runs in a
grandchild layer that is merged into the unit's layer only if the statement succeeds.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Generic, NamedTuple, TypeVar

import attrs

from tradecore.domain import (
    ApiToken,
    AutomationConfig,
    AutomationRun,
    BrokerConnection,
    DaemonInfo,
    EquityKey,
    EquityPoint,
    LeaseInterval,
    NotificationTarget,
    Order,
    Position,
    PositionKey,
    RiskLimits,
    StrategyConfig,
    Trade,
    TradeKey,
    TradingHalt,
    User,
)
from tradecore.domain.lease import LeaseSlot
from tradecore.errors import DomainError, NotFound
from tradecore.ports.venues import VenueEntry

__all__ = [
    "HALT",
    "CursorKey",
    "IntervalKey",
    "OrderKey",
    "StoredInterval",
    "StoredOrder",
    "Table",
    "Tables",
    "aware",
    "copy_entity",
    "drop_connection",
    "drop_user",
    "next_insertion",
    "owned_connection",
    "user_connection_ids",
]

K = TypeVar("K")
V = TypeVar("V")
E = TypeVar(
    "E",
    User,
    ApiToken,
    BrokerConnection,
    NotificationTarget,
    StrategyConfig,
    AutomationConfig,
    AutomationRun,
    RiskLimits,
)

CursorKey = tuple[str, str]
"""``(connection_id, account_id)``."""

OrderKey = tuple[str, str, str]
"""``(connection_id, account_id, client_order_id)``."""

HALT = "halt"
"""The key of the one row of :attr:`Tables.halt` (the global kill switch)."""

IntervalKey = tuple[str, int]
"""``(user_id, fencing)``: a user's fencing token names one lease, hence one audit interval."""


class StoredInterval(NamedTuple):
    """A lease audit record and when it was added (:func:`next_insertion`), for a stable order."""

    insertion: int
    interval: LeaseInterval


class StoredOrder(NamedTuple):
    """An order and when it was first added (:func:`next_insertion`): orders created at the same
    time are listed in insertion order."""

    insertion: int
    order: Order


class StoredTrade(NamedTuple):
    """A trade and when it was first added (:func:`next_insertion`): the tie-breaker of trades
    executed at the same time when paging (as the SQL repository's row number)."""

    insertion: int
    trade: Trade


_INSERTIONS = itertools.count(1)


def next_insertion() -> int:
    """A number greater than every one returned before (in this process), like a database's
    auto-incrementing id. Take it when the write is asked for, not in the operation, so that the
    replay at commit keeps it."""
    return next(_INSERTIONS)


class _Tombstone(enum.Enum):
    # Marks a row deleted in a layer while the parent layer still holds it.
    DELETED = "deleted"


_DELETED = _Tombstone.DELETED


class Table(Generic[K, V]):
    """Rows by key: a root table, or a layer of changes over a parent table.

    :param parent: the table this layer's changes apply to; ``None`` for a root table.
    """

    __slots__ = ("_parent", "_rows")

    def __init__(self, parent: Table[K, V] | None = None) -> None:
        self._parent = parent
        self._rows: dict[K, V | _Tombstone] = {}

    def get(self, key: K) -> V | None:
        """Return the row stored under ``key``, or ``None``."""
        if key in self._rows:
            row = self._rows[key]
            return None if isinstance(row, _Tombstone) else row
        return None if self._parent is None else self._parent.get(key)

    def items(self) -> Iterator[tuple[K, V]]:
        """Iterate over every visible ``(key, row)``; do not write to the table meanwhile."""
        if self._parent is not None:
            for key, row in self._parent.items():
                if key not in self._rows:
                    yield key, row
        for key, own in self._rows.items():
            if not isinstance(own, _Tombstone):
                yield key, own

    def __iter__(self) -> Iterator[K]:
        """Iterate over every visible key."""
        for key, _ in self.items():
            yield key

    def values(self) -> Iterator[V]:
        """Iterate over every visible row."""
        for _, row in self.items():
            yield row

    def put(self, key: K, row: V) -> None:
        """Insert or replace the row under ``key``."""
        self._rows[key] = row

    def delete(self, key: K) -> None:
        """Delete the row under ``key`` (nothing happens when there is none)."""
        if self._parent is None:
            self._rows.pop(key, None)
        else:
            self._rows[key] = _DELETED

    def apply(self) -> None:
        """Merge this layer's changes into its parent and forget them."""
        parent = self._parent
        if parent is None:
            raise RuntimeError("a root table has no parent to apply to")
        for key, row in self._rows.items():
            if isinstance(row, _Tombstone):
                parent.delete(key)
            else:
                parent.put(key, row)
        self._rows.clear()


class Tables:
    """One layer of every table of the store.

    :param parent: the layer these tables sit on; ``None`` for the shared root store.
    """

    __slots__ = (
        "api_tokens",
        "automation",
        "connections",
        "cursors",
        "daemons",
        "equity",
        "halt",
        "lease_intervals",
        "lease_slots",
        "notification_targets",
        "orders",
        "password_hashes",
        "positions",
        "risk_limits",
        "runs",
        "strategies",
        "trades",
        "users",
        "venue_entries",
        "venue_states",
    )

    def __init__(self, parent: Tables | None = None) -> None:
        self.users: Table[str, User] = Table(parent.users if parent else None)
        self.password_hashes: Table[str, str] = Table(parent.password_hashes if parent else None)
        self.api_tokens: Table[str, ApiToken] = Table(parent.api_tokens if parent else None)
        self.connections: Table[str, BrokerConnection] = Table(
            parent.connections if parent else None
        )
        self.notification_targets: Table[str, NotificationTarget] = Table(
            parent.notification_targets if parent else None
        )
        self.positions: Table[PositionKey, Position] = Table(parent.positions if parent else None)
        self.trades: Table[TradeKey, StoredTrade] = Table(parent.trades if parent else None)
        self.equity: Table[EquityKey, EquityPoint] = Table(parent.equity if parent else None)
        self.cursors: Table[CursorKey, str] = Table(parent.cursors if parent else None)
        self.orders: Table[OrderKey, StoredOrder] = Table(parent.orders if parent else None)
        self.strategies: Table[str, StrategyConfig] = Table(parent.strategies if parent else None)
        self.automation: Table[str, AutomationConfig] = Table(parent.automation if parent else None)
        self.runs: Table[str, AutomationRun] = Table(parent.runs if parent else None)
        self.risk_limits: Table[str, RiskLimits] = Table(parent.risk_limits if parent else None)
        self.halt: Table[str, TradingHalt] = Table(parent.halt if parent else None)
        self.lease_slots: Table[str, LeaseSlot] = Table(parent.lease_slots if parent else None)
        self.lease_intervals: Table[IntervalKey, StoredInterval] = Table(
            parent.lease_intervals if parent else None
        )
        self.daemons: Table[str, DaemonInfo] = Table(parent.daemons if parent else None)
        self.venue_states: Table[str, str] = Table(parent.venue_states if parent else None)
        self.venue_entries: Table[str, tuple[VenueEntry, ...]] = Table(
            parent.venue_entries if parent else None
        )

    def child(self) -> Tables:
        """Return a new, empty layer of changes over these tables."""
        return Tables(self)

    def apply(self) -> None:
        """Merge this layer into its parent."""
        for table in (
            self.users,
            self.password_hashes,
            self.api_tokens,
            self.connections,
            self.notification_targets,
            self.positions,
            self.trades,
            self.equity,
            self.cursors,
            self.orders,
            self.strategies,
            self.automation,
            self.runs,
            self.risk_limits,
            self.halt,
            self.lease_slots,
            self.lease_intervals,
            self.daemons,
            self.venue_states,
            self.venue_entries,
        ):
            table.apply()


def copy_entity(entity: E) -> E:
    """Return a copy of a mutable entity, so callers and the store never share one.

    Every field of the domain's ``@define`` entities holds an immutable value (strings, UTC
    datetimes, read-only mappings, :class:`~tradecore.domain.Secret`, frozen attrs values, tuples
    of them), so a shallow copy is a full one. ``copy.deepcopy`` is not an option: it cannot copy
    the read-only mappings.
    """
    return attrs.evolve(entity)


def aware(value: datetime, name: str) -> datetime:
    """Reject a naive datetime argument with a clear error."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise DomainError(f"{name} must be a timezone-aware datetime (UTC)")
    return value


def owned_connection(tables: Tables, user_id: str, connection_id: str) -> BrokerConnection:
    """Return the stored connection if it belongs to the user; raise :class:`NotFound` otherwise."""
    connection = tables.connections.get(connection_id)
    if connection is None or connection.user_id != user_id:
        raise NotFound(f"no connection {connection_id!r} for this user")
    return connection


def user_connection_ids(tables: Tables, user_id: str) -> set[str]:
    """Return the ids of the user's connections."""
    return {c.id for c in tables.connections.values() if c.user_id == user_id}


def drop_connection(tables: Tables, connection_id: str) -> None:
    """Delete a connection with its positions, trades, equity history, cursors, orders,
    strategies and venue."""
    tables.connections.delete(connection_id)
    tables.venue_states.delete(connection_id)
    tables.venue_entries.delete(connection_id)
    for position_key in [k for k in tables.positions if k[0] == connection_id]:
        tables.positions.delete(position_key)
    for trade_key in [k for k in tables.trades if k[0] == connection_id]:
        tables.trades.delete(trade_key)
    for equity_key in [k for k in tables.equity if k[0] == connection_id]:
        tables.equity.delete(equity_key)
    for cursor_key in [k for k in tables.cursors if k[0] == connection_id]:
        tables.cursors.delete(cursor_key)
    for order_key in [k for k in tables.orders if k[0] == connection_id]:
        tables.orders.delete(order_key)
    for strategy_id in [
        s.id for s in tables.strategies.values() if s.connection_id == connection_id
    ]:
        tables.strategies.delete(strategy_id)


def drop_user(tables: Tables, user_id: str) -> None:
    """Delete a user and everything it owns."""
    for connection_id in user_connection_ids(tables, user_id):
        drop_connection(tables, connection_id)
    for strategy_id in [s.id for s in tables.strategies.values() if s.user_id == user_id]:
        tables.strategies.delete(strategy_id)
    for run_id in [r.id for r in tables.runs.values() if r.user_id == user_id]:
        tables.runs.delete(run_id)
    for target_id in [t.id for t in tables.notification_targets.values() if t.user_id == user_id]:
        tables.notification_targets.delete(target_id)
    tables.automation.delete(user_id)
    tables.lease_slots.delete(user_id)
    for interval_key in [k for k in tables.lease_intervals if k[0] == user_id]:
        tables.lease_intervals.delete(interval_key)
    tables.risk_limits.delete(user_id)
    for token_id in [t.id for t in tables.api_tokens.values() if t.user_id == user_id]:
        tables.api_tokens.delete(token_id)
    tables.password_hashes.delete(user_id)
    tables.users.delete(user_id)
