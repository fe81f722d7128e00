"""Memory repositories of what brokers report: positions, trades and the trade-sync cursors.

Positions and trades are frozen values, stored and returned as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tradecore.domain import Position, Trade
from tradecore.errors import DomainError
from tradecore.ports.paging import Page, PageKey, check_page_limit, numbered_key
from tradecore_adapters.memory._session import Session
from tradecore_adapters.memory._store import (
    StoredTrade,
    Tables,
    aware,
    next_insertion,
    owned_connection,
    user_connection_ids,
)

__all__ = ["Cursors", "Positions", "Trades"]


class Positions:
    """:class:`~tradecore.ports.PositionRepository` in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def sync_snapshot(
        self,
        user_id: str,
        connection_id: str,
        account_id: str,
        positions: Sequence[Position],
        *,
        as_of: datetime,
    ) -> int:
        # Counts the rows inserted or replaced; deletions of closed positions are not counted.
        snapshot = tuple(positions)
        taken_at = aware(as_of, "as_of")
        for position in snapshot:
            if position.connection_id != connection_id or position.account_id != account_id:
                raise DomainError(
                    f"position {position.instrument.symbol!r} is not of account {account_id!r} "
                    f"of connection {connection_id!r}"
                )

        def sync_snapshot(tables: Tables) -> int:
            owned_connection(tables, user_id, connection_id)
            written = 0
            for position in snapshot:
                stored = tables.positions.get(position.key)
                if stored is None or stored.as_of <= position.as_of:
                    tables.positions.put(position.key, position)
                    written += 1
            present = {position.key for position in snapshot}
            closed = [
                key
                for key, stored in tables.positions.items()
                if key[0] == connection_id
                and key[1] == account_id
                and key not in present
                and stored.as_of < taken_at
            ]
            for key in closed:
                tables.positions.delete(key)
            return written

        return self._session.write(sync_snapshot)

    async def list(self, user_id: str, *, connection_id: str | None = None) -> Sequence[Position]:
        def list_(tables: Tables) -> list[Position]:
            owned = _connections(tables, user_id, connection_id)
            rows = [p for p in tables.positions.values() if p.connection_id in owned]
            return sorted(rows, key=lambda p: p.key)

        return self._session.read(list_)


class Trades:
    """:class:`~tradecore.ports.TradeRepository` in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def add_new(self, user_id: str, trades: Sequence[Trade]) -> int:
        # Numbered when asked for, so that the replay at commit keeps the numbers.
        batch = tuple(StoredTrade(next_insertion(), trade) for trade in trades)

        def add_new(tables: Tables) -> int:
            for connection_id in {stored.trade.connection_id for stored in batch}:
                owned_connection(tables, user_id, connection_id)
            new = 0
            for stored in batch:
                if tables.trades.get(stored.trade.key) is None:
                    tables.trades.put(stored.trade.key, stored)
                    new += 1
            return new

        return self._session.write(add_new)

    async def list(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> Sequence[Trade]:
        start = None if since is None else aware(since, "since")
        if limit is not None and limit < 0:
            raise DomainError(f"limit must be zero or more, got {limit}")

        def list_(tables: Tables) -> list[Trade]:
            owned = _connections(tables, user_id, connection_id)
            rows = sorted(
                (
                    t
                    for t in (stored.trade for stored in tables.trades.values())
                    if t.connection_id in owned and (start is None or t.executed_at >= start)
                ),
                key=_trade_order,
            )
            if limit is None:
                return rows
            return rows[len(rows) - limit :] if limit else []

        return self._session.read(list_)

    async def count(self, user_id: str, *, connection_id: str | None = None) -> int:
        def count(tables: Tables) -> int:
            owned = _connections(tables, user_id, connection_id)
            return sum(1 for s in tables.trades.values() if s.trade.connection_id in owned)

        return self._session.read(count)

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
        return self._page(
            user_id, connection_id, symbol, since, until, before, limit, newest_first=True
        )

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
        return self._page(
            user_id, connection_id, symbol, since, until, after, limit, newest_first=False
        )

    def _page(
        self,
        user_id: str,
        connection_id: str | None,
        symbol: str | None,
        since: datetime | None,
        until: datetime | None,
        edge_key: PageKey | None,
        limit: int,
        *,
        newest_first: bool,
    ) -> Page[Trade]:
        check_page_limit(limit)
        start = None if since is None else aware(since, "since")
        end = None if until is None else aware(until, "until")
        wanted = None if symbol is None else _ascii_lower(symbol.strip())
        edge = numbered_key(edge_key)

        def beyond(position: tuple[datetime, int]) -> bool:
            # Strictly past the edge, in the direction of the listing.
            if edge is None:
                return True
            return position < edge if newest_first else position > edge

        def page(tables: Tables) -> Page[Trade]:
            owned = _connections(tables, user_id, connection_id)
            rows = sorted(
                (
                    (stored.trade.executed_at, stored.insertion, stored.trade)
                    for stored in tables.trades.values()
                    if stored.trade.connection_id in owned
                    and (start is None or stored.trade.executed_at >= start)
                    and (end is None or stored.trade.executed_at < end)
                    and (wanted is None or _ascii_lower(stored.trade.instrument.symbol) == wanted)
                    and beyond((stored.trade.executed_at, stored.insertion))
                ),
                key=lambda row: (row[0], row[1]),
                reverse=newest_first,
            )
            shown = rows[:limit]
            more = len(rows) > limit
            return Page(
                items=tuple(row[2] for row in shown),
                next=PageKey(shown[-1][0], shown[-1][1]) if more else None,
            )

        return self._session.read(page)


class Cursors:
    """:class:`~tradecore.ports.CursorRepository` in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def get(self, user_id: str, connection_id: str, account_id: str) -> str | None:
        def get(tables: Tables) -> str | None:
            if connection_id not in user_connection_ids(tables, user_id):
                return None
            return tables.cursors.get((connection_id, account_id))

        return self._session.read(get)

    async def set(self, user_id: str, connection_id: str, account_id: str, cursor: str) -> None:
        def set_(tables: Tables) -> None:
            owned_connection(tables, user_id, connection_id)
            tables.cursors.put((connection_id, account_id), cursor)

        self._session.write(set_)

    async def keys(self, user_id: str, connection_id: str) -> Sequence[str]:
        def keys(tables: Tables) -> list[str]:
            if connection_id not in user_connection_ids(tables, user_id):
                return []
            return sorted(key[1] for key in tables.cursors if key[0] == connection_id)

        return self._session.read(keys)

    async def reset(self, user_id: str, connection_id: str, account_id: str) -> bool:
        def reset(tables: Tables) -> bool:
            owned_connection(tables, user_id, connection_id)
            key = (connection_id, account_id)
            if tables.cursors.get(key) is None:
                return False
            tables.cursors.delete(key)
            return True

        return self._session.write(reset)


def _connections(tables: Tables, user_id: str, connection_id: str | None) -> set[str]:
    # The user's connection ids, narrowed to ``connection_id`` when given; another user's
    # connection gives the empty set, as if it did not exist.
    owned = user_connection_ids(tables, user_id)
    return owned if connection_id is None else owned & {connection_id}


def _ascii_lower(text: str) -> str:
    # Case folding of ASCII letters only, as SQL's lower() does on every backend we support.
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _trade_order(trade: Trade) -> tuple[datetime, str, str, str, str]:
    return (
        trade.executed_at,
        trade.broker_trade_id,
        trade.connection_id,
        trade.account_id,
        trade.instrument.symbol,
    )
