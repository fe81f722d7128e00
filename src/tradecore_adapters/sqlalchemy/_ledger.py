"""SQL repositories of what brokers report: positions, trades and trade-sync cursors.

Trades go in as bulk ``INSERT … ON CONFLICT DO NOTHING`` statements on their natural key, through
the driver (:mod:`._trade_inserts`), so syncing the same fills again changes nothing.
Positions are upserted with ``ON CONFLICT DO UPDATE … WHERE stored.as_of <= new.as_of``: an older
snapshot never overwrites a newer one, even when two syncs race.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Delete,
    Integer,
    Select,
    bindparam,
    delete,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite

from tradecore.domain import Position, Trade
from tradecore.domain._checks import utc
from tradecore.errors import DomainError
from tradecore.ports.paging import Page, PageKey, check_page_limit, numbered_key
from tradecore_adapters.sqlalchemy._directory import connection_owned, connections_owned
from tradecore_adapters.sqlalchemy._rows import (
    fetching,
    position_from_row,
    position_row,
    trade_from_row,
)
from tradecore_adapters.sqlalchemy._trade_inserts import (
    insert_trades_postgresql,
    insert_trades_sqlite,
)
from tradecore_adapters.sqlalchemy._unit import Transaction, text_order
from tradecore_adapters.sqlalchemy.schema import positions, sync_cursors, trades

__all__ = ["Cursors", "Positions", "Trades", "upsert"]

_POSITION_KEY = ["connection_id", "account_id", "symbol"]


def upsert(tx: Transaction, table: Any) -> Any:
    """The dialect's ``INSERT`` that supports ``ON CONFLICT``."""
    return (sqlite.insert if tx.sqlite else postgresql.insert)(table)


# The statements below are built once (at import, or once per dialect or shape) and run with
# their values as bound parameters (``b_…``, never a column's name): building a statement and
# its cache key on every call cost a scheduler cycle about a fifth of its CPU on PostgreSQL.

_USER_ID: BindParameter[str] = bindparam("b_user_id")
_CONNECTION_ID: BindParameter[str] = bindparam("b_connection_id")
_ACCOUNT_ID: BindParameter[str] = bindparam("b_account_id")


@cache
def _position_upsert(on_sqlite: bool, columns: tuple[str, ...]) -> Any:
    # ``columns``: those of the rows written (their keys, in order).
    statement = (sqlite.insert if on_sqlite else postgresql.insert)(positions)
    return statement.on_conflict_do_update(
        index_elements=_POSITION_KEY,
        set_={name: statement.excluded[name] for name in columns if name not in _POSITION_KEY},
        where=positions.c.as_of <= statement.excluded.as_of,
    ).returning(positions.c.symbol)


_POSITIONS_CLOSED = delete(positions).where(
    positions.c.connection_id == _CONNECTION_ID,
    positions.c.account_id == _ACCOUNT_ID,
    positions.c.as_of < bindparam("b_taken_at"),
)
_POSITIONS_CLOSED_BUT = _POSITIONS_CLOSED.where(
    positions.c.symbol.not_in(bindparam("b_kept", expanding=True))
)


@cache
def _positions_of_user(sqlite: bool, of_connection: bool) -> Select[Any]:
    query = select(positions).where(positions.c.user_id == _USER_ID)
    if of_connection:
        query = query.where(positions.c.connection_id == _CONNECTION_ID)
    return query.order_by(
        text_order(positions.c.connection_id, sqlite=sqlite),
        text_order(positions.c.account_id, sqlite=sqlite),
        text_order(positions.c.symbol, sqlite=sqlite),
    )


@cache
def _trades_of_user(sqlite: bool, of_connection: bool, since: bool, limited: bool) -> Select[Any]:
    query = select(trades).where(trades.c.user_id == _USER_ID)
    if of_connection:
        query = query.where(trades.c.connection_id == _CONNECTION_ID)
    if since:
        query = query.where(trades.c.executed_at >= bindparam("b_since"))
    keys = [
        trades.c.executed_at,
        text_order(trades.c.broker_trade_id, sqlite=sqlite),
        text_order(trades.c.connection_id, sqlite=sqlite),
        text_order(trades.c.account_id, sqlite=sqlite),
        text_order(trades.c.symbol, sqlite=sqlite),
    ]
    if not limited:
        return query.order_by(*keys)
    return query.order_by(*(key.desc() for key in keys)).limit(bindparam("b_limit", type_=Integer))


_CURSOR = select(sync_cursors.c.cursor).where(
    sync_cursors.c.user_id == _USER_ID,
    sync_cursors.c.connection_id == _CONNECTION_ID,
    sync_cursors.c.account_id == _ACCOUNT_ID,
)


@cache
def _cursor_upsert(on_sqlite: bool) -> Any:
    statement = (sqlite.insert if on_sqlite else postgresql.insert)(sync_cursors)
    return statement.on_conflict_do_update(
        index_elements=["connection_id", "account_id"],
        set_={"cursor": statement.excluded.cursor},
    )


_CURSOR_KEYS = (
    select(sync_cursors.c.account_id)
    .where(sync_cursors.c.user_id == _USER_ID, sync_cursors.c.connection_id == _CONNECTION_ID)
    .order_by(sync_cursors.c.account_id)
)
_CURSOR_DELETE: Delete = delete(sync_cursors).where(
    sync_cursors.c.user_id == _USER_ID,
    sync_cursors.c.connection_id == _CONNECTION_ID,
    sync_cursors.c.account_id == _ACCOUNT_ID,
)


def _aware(value: datetime, name: str) -> datetime:
    try:
        return utc(value)
    except DomainError as exc:
        raise DomainError(f"{name}: {exc}") from None


class Positions:
    """:class:`~tradecore.ports.PositionRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def sync_snapshot(
        self,
        user_id: str,
        connection_id: str,
        account_id: str,
        positions_: Sequence[Position],
        *,
        as_of: datetime,
    ) -> int:
        taken_at = _aware(as_of, "as_of")
        latest: dict[str, Position] = {}
        for position in positions_:
            if position.connection_id != connection_id or position.account_id != account_id:
                raise DomainError(
                    f"position {position.instrument.symbol!r} is not of account {account_id!r} "
                    f"of connection {connection_id!r}"
                )
            kept = latest.get(position.instrument.symbol)
            if kept is None or kept.as_of <= position.as_of:
                latest[position.instrument.symbol] = position
        async with self._tx.atomic() as db:
            await connection_owned(self._tx, user_id, connection_id)
            written = 0
            if latest:
                rows = [position_row(user_id, p) for p in latest.values()]
                statement = _position_upsert(self._tx.sqlite, tuple(rows[0]))
                result = await db.execute(statement, rows)
                written = len(result.all())
            closed = {
                "b_connection_id": connection_id,
                "b_account_id": account_id,
                "b_taken_at": taken_at,
            }
            if latest:
                await db.execute(_POSITIONS_CLOSED_BUT, {**closed, "b_kept": list(latest)})
            else:
                await db.execute(_POSITIONS_CLOSED, closed)
            return written

    async def list(self, user_id: str, *, connection_id: str | None = None) -> Sequence[Position]:
        query = _positions_of_user(self._tx.sqlite, connection_id is not None)
        db = await self._tx.read()
        parameters = {"b_user_id": user_id}
        if connection_id is not None:
            parameters["b_connection_id"] = connection_id
        result = await db.execute(query, parameters)
        return [position_from_row(row) for row in result.mappings()]


class Trades:
    """:class:`~tradecore.ports.TradeRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add_new(self, user_id: str, trades_: Sequence[Trade]) -> int:
        if not trades_:
            return 0
        async with self._tx.atomic() as db:
            await connections_owned(self._tx, user_id, {trade.connection_id for trade in trades_})
            if self._tx.sqlite:
                # In order, ON CONFLICT DO NOTHING: of duplicate keys the first is kept.
                return await insert_trades_sqlite(db, user_id, trades_)
            kept: dict[tuple[str, str, str, str], Trade] = {}
            for trade in trades_:
                kept.setdefault(trade.key, trade)  # of duplicate keys the first is kept
            return await insert_trades_postgresql(db, user_id, kept.values())

    async def list(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> Sequence[Trade]:
        if limit is not None and limit < 0:
            raise DomainError(f"limit must be zero or more, got {limit}")
        parameters: dict[str, Any] = {"b_user_id": user_id}
        if connection_id is not None:
            parameters["b_connection_id"] = connection_id
        if since is not None:
            parameters["b_since"] = _aware(since, "since")
        if limit is not None:
            parameters["b_limit"] = limit
        query = _trades_of_user(
            self._tx.sqlite, connection_id is not None, since is not None, limit is not None
        )
        db = await self._tx.read()
        found = [trade_from_row(row) for row in (await db.execute(query, parameters)).mappings()]
        return found if limit is None else found[::-1]

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
        return await self._page(
            user_id,
            connection_id=connection_id,
            symbol=symbol,
            since=since,
            until=until,
            edge=before,
            limit=limit,
            newest_first=True,
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
        return await self._page(
            user_id,
            connection_id=connection_id,
            symbol=symbol,
            since=since,
            until=until,
            edge=after,
            limit=limit,
            newest_first=False,
        )

    async def _page(
        self,
        user_id: str,
        *,
        connection_id: str | None,
        symbol: str | None,
        since: datetime | None,
        until: datetime | None,
        edge: PageKey | None,
        limit: int,
        newest_first: bool,
    ) -> Page[Trade]:
        check_page_limit(limit)
        key = numbered_key(edge)
        # On (executed_at, id), newest or oldest first: the index ix_trades_user_id_executed_at_id
        # (or the one with connection_id) gives the rows in that order from the key on, so the
        # database stops after limit + 1 rows (one more tells whether there is a next page).
        query = select(trades).where(trades.c.user_id == user_id)
        if connection_id is not None:
            query = query.where(trades.c.connection_id == connection_id)
        if symbol is not None:
            wanted = symbol.strip().translate(_ASCII_LOWER)
            query = query.where(self._ascii_lower(trades.c.symbol) == wanted)
        if since is not None:
            query = query.where(trades.c.executed_at >= _aware(since, "since"))
        if until is not None:
            query = query.where(trades.c.executed_at < _aware(until, "until"))
        position = tuple_(trades.c.executed_at, trades.c.id)
        if key is not None:
            query = query.where(
                position < tuple_(*key) if newest_first else position > tuple_(*key)
            )
        if newest_first:
            query = query.order_by(trades.c.executed_at.desc(), trades.c.id.desc())
        else:
            query = query.order_by(trades.c.executed_at, trades.c.id)
        db = await self._tx.read()
        result = await db.execute(query.limit(limit + 1))
        with fetching("trades"):
            rows = result.mappings().all()
        shown = rows[:limit]
        last = shown[-1] if len(rows) > limit else None
        return Page(
            items=tuple(trade_from_row(row) for row in shown),
            next=None if last is None else PageKey(last["executed_at"], last["id"]),
        )

    def _ascii_lower(self, column: ColumnElement[str]) -> ColumnElement[str]:
        # ASCII letters to lower case, and nothing else, on both backends: SQLite's lower()
        # folds only ASCII; PostgreSQL's follows the locale, so it is spelled out there.
        if self._tx.sqlite:
            return func.lower(column)
        return func.translate(column, _UPPER, _UPPER.lower())

    async def count(self, user_id: str, *, connection_id: str | None = None) -> int:
        query = select(func.count()).select_from(trades).where(trades.c.user_id == user_id)
        if connection_id is not None:
            query = query.where(trades.c.connection_id == connection_id)
        db = await self._tx.read()
        return int(await db.scalar(query) or 0)


_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_LOWER = str.maketrans(_UPPER, _UPPER.lower())


class Cursors:
    """:class:`~tradecore.ports.CursorRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, user_id: str, connection_id: str, account_id: str) -> str | None:
        db = await self._tx.read()
        value: str | None = await db.scalar(
            _CURSOR,
            {"b_user_id": user_id, "b_connection_id": connection_id, "b_account_id": account_id},
        )
        return value

    async def set(self, user_id: str, connection_id: str, account_id: str, cursor: str) -> None:
        async with self._tx.one_write(cannot_conflict=True) as db:  # an upsert
            await connection_owned(self._tx, user_id, connection_id)
            await db.execute(
                _cursor_upsert(self._tx.sqlite),
                [
                    {
                        "user_id": user_id,
                        "connection_id": connection_id,
                        "account_id": account_id,
                        "cursor": cursor,
                    }
                ],
            )

    async def keys(self, user_id: str, connection_id: str) -> Sequence[str]:
        db = await self._tx.read()
        found = await db.scalars(
            _CURSOR_KEYS, {"b_user_id": user_id, "b_connection_id": connection_id}
        )
        return list(found)

    async def reset(self, user_id: str, connection_id: str, account_id: str) -> bool:
        async with self._tx.one_write() as db:
            await connection_owned(self._tx, user_id, connection_id)
            result = await db.execute(
                _CURSOR_DELETE,
                {
                    "b_user_id": user_id,
                    "b_connection_id": connection_id,
                    "b_account_id": account_id,
                },
            )
            return bool(result.rowcount)
