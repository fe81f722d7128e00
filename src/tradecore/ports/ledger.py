"""The ledger's repositories: what brokers report (positions, trades, trade-sync cursors) and the
orders tradecore sent. Part of the unit of work of :mod:`tradecore.ports.repository`, which
re-exports them; the rules there (scoped by user, read committed, exact decimals) hold here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from tradecore.domain import Order, Position, Trade
from tradecore.ports.paging import Page, PageKey

__all__ = ["CursorRepository", "OrderRepository", "PositionRepository", "TradeRepository"]


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

    async def page(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        symbol: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before: PageKey | None = None,
        limit: int,
    ) -> Page[Trade]:
        """At most ``limit`` of the user's trades, newest first (by ``executed_at``, then the
        order they were stored in), executed at or after ``since`` and before ``until``, of one
        connection, of one symbol (compared regardless of the case of ASCII letters), older
        than ``before`` (:mod:`tradecore.ports.paging`). Read from an index: a page costs the
        page, not the user's whole history. Another user's connection gives an empty page.

        :raises DomainError: ``limit`` is below 1, or a time is naive.
        """
        ...

    async def page_oldest_first(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        symbol: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: PageKey | None = None,
        limit: int,
    ) -> Page[Trade]:
        """:meth:`page` the other way round: at most ``limit`` of the user's trades, oldest
        first (by ``executed_at``, then the order they were stored in), with the same filters,
        newer than ``after``. The page's ``next`` is the key of its last (newest) row when a
        newer row matches; pass it back as ``after``. Read from the same indexes in the other
        direction, so walking every page reads each matching row once, in pages, and never
        the whole listing at a time.

        :raises DomainError: ``limit`` is below 1, or a time is naive.
        """
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

    async def keys(self, user_id: str, connection_id: str) -> Sequence[str]:
        """The accounts of the connection that have a stored cursor, sorted; none for a
        connection that is not this user's."""
        ...

    async def reset(self, user_id: str, connection_id: str, account_id: str) -> bool:
        """Drop the account's cursor, so its next sync starts from the beginning (trades already
        stored stay: a fill is never stored twice). ``False`` when none was stored.

        :raises NotFound: the connection is not this user's.
        """
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

    async def page(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        open_only: bool = False,
        before: PageKey | None = None,
        limit: int,
    ) -> Page[Order]:
        """At most ``limit`` of the user's orders, newest first (by creation, then insertion),
        of one connection, only non-terminal ones with ``open_only``, older than ``before``
        (:mod:`tradecore.ports.paging`). Another user's connection gives an empty page.

        :raises DomainError: ``limit`` is below 1.
        """
        ...
