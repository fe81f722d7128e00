"""SQL repositories of what tradecore did: orders (durable intents first) and the run ledger."""

from __future__ import annotations

import builtins
import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Update,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from tradecore.domain import (
    AutomationRun,
    DigestDelivery,
    Order,
    OrderStatus,
    RecordedFigures,
    RunStats,
    TaskResult,
    checked_bounds,
)
from tradecore.errors import AlreadyExists, DomainError, NotFound, RepositoryError
from tradecore.ports.paging import Page, PageKey, check_page_limit, numbered_key
from tradecore_adapters.sqlalchemy._directory import connection_owned
from tradecore_adapters.sqlalchemy._rows import (
    fetching,
    order_from_row,
    order_row,
    run_from_row,
    run_row,
    step_from_row,
    step_row,
)
from tradecore_adapters.sqlalchemy._run_stats import last_successes, latest_figures, run_stats
from tradecore_adapters.sqlalchemy._unit import OneWrite, Transaction, refused_as, text_order
from tradecore_adapters.sqlalchemy.schema import automation_runs, orders, run_steps

__all__ = ["Orders", "Runs"]

_TERMINAL = [status.value for status in OrderStatus if status.is_terminal]

# The statements of the hot paths are built once, their values bound at each call (``b_…``, never
# a column's name, which an UPDATE's SET or an INSERT reserves), so that a call neither builds a
# statement nor computes its cache key again. Those whose text differs by dialect (``COLLATE
# "C"`` on PostgreSQL, see Transaction.text_order) are built once per dialect; those whose shape
# depends on the arguments, once per shape.

_ORDER_KEY = ("user_id", "connection_id", "account_id", "client_order_id")
_INSERT_ORDER = insert(orders)
_ORDER = (
    select(orders)
    .where(
        orders.c.user_id == bindparam("b_user_id"),
        orders.c.client_order_id == bindparam("b_client_order_id"),
    )
    .limit(2)
)
_INSERT_RUN = insert(automation_runs)
_INSERT_STEPS = insert(run_steps)
_DELETE_STEPS = delete(run_steps).where(run_steps.c.run_id == bindparam("b_run_id"))
_THE_RUN = (
    automation_runs.c.id == bindparam("b_id"),
    automation_runs.c.user_id == bindparam("b_user_id"),
)
_RUN = select(automation_runs).where(*_THE_RUN)
_RUN_EXISTS = select(exists().where(*_THE_RUN))
_CLAIM_DIGEST = (
    update(automation_runs)
    .where(
        *_THE_RUN,
        automation_runs.c.digest == DigestDelivery.PENDING.value,
        or_(
            automation_runs.c.digest_claim.is_(None),
            automation_runs.c.digest_claim <= bindparam("b_fencing"),
        ),
    )
    .values(digest_claim=bindparam("b_digest_claim"))
)
_STEPS = (
    select(run_steps)
    .where(run_steps.c.run_id.in_(bindparam("b_run_ids", expanding=True)))
    .order_by(run_steps.c.run_id, run_steps.c.position)
)


def _bound(row: Mapping[str, Any]) -> dict[str, Any]:
    """``row``'s values under the names of their bind parameters."""
    return {f"b_{name}": value for name, value in row.items()}


@functools.cache
def _update_order(columns: tuple[str, ...]) -> Update:
    # An order's row by its key; ``columns`` (order_row's others) set.
    return (
        update(orders)
        .where(*(orders.c[name] == bindparam(f"b_{name}") for name in _ORDER_KEY))
        .values({name: bindparam(f"b_{name}") for name in columns})
    )


@functools.cache
def _update_run(columns: tuple[str, ...], *, fenced: bool) -> Update:
    # A run's row by its key (and its digest's claim when ``fenced``); ``columns`` set.
    where = [*_THE_RUN]
    if fenced:
        where.append(automation_runs.c.digest_claim == bindparam("b_fencing"))
    return (
        update(automation_runs)
        .where(*where)
        .values({name: bindparam(f"b_{name}") for name in columns})
    )


@functools.cache
def _list_orders(
    *, by_connection: bool, by_strategy: bool, open_only: bool, limited: bool
) -> Select[Any]:
    query = select(orders).where(orders.c.user_id == bindparam("b_user_id"))
    if by_connection:
        query = query.where(orders.c.connection_id == bindparam("b_connection_id"))
    if by_strategy:
        query = query.where(orders.c.strategy_id == bindparam("b_strategy_id"))
    if open_only:
        query = query.where(orders.c.status.not_in(_TERMINAL))
    # By creation, then insertion (the surrogate id grows with every insert).
    keys = [orders.c.created_at, orders.c.id]
    if not limited:
        return query.order_by(*keys)
    return query.order_by(*(key.desc() for key in keys)).limit(bindparam("b_limit", type_=Integer))


@functools.cache
def _pending_digests(*, sqlite: bool) -> Select[Any]:
    return (
        select(automation_runs)
        .where(
            automation_runs.c.user_id == bindparam("b_user_id"),
            automation_runs.c.digest == DigestDelivery.PENDING.value,
            automation_runs.c.finished_at.is_not(None),
        )
        .order_by(automation_runs.c.started_at, text_order(automation_runs.c.id, sqlite=sqlite))
        .limit(bindparam("b_limit", type_=Integer))
    )


@functools.cache
def _list_runs(*, sqlite: bool) -> Select[Any]:
    return (
        select(automation_runs)
        .where(automation_runs.c.user_id == bindparam("b_user_id"))
        .order_by(
            automation_runs.c.started_at.desc(),
            text_order(automation_runs.c.id, sqlite=sqlite).desc(),
        )
        .limit(bindparam("b_limit", type_=Integer))
    )


class Orders:
    """:class:`~tradecore.ports.OrderRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, user_id: str, order: Order) -> None:
        async with self._tx.one_write() as db:
            # The owner is asked first, so that the key below can only clash with this user's
            # own order (another user's client ids are never revealed); the key answers for
            # itself (a unique constraint) instead of a read before the insert.
            await connection_owned(self._tx, user_id, order.request.connection_id)
            exists_already = AlreadyExists(
                f"an order with client id {order.client_order_id!r} exists"
            )
            with refused_as(unique=exists_already):
                await db.execute(_INSERT_ORDER, [order_row(user_id, order)])

    async def get(self, user_id: str, client_order_id: str) -> Order:
        db = await self._tx.read()
        result = await db.execute(
            _ORDER, {"b_user_id": user_id, "b_client_order_id": client_order_id}
        )
        with fetching("orders"):
            rows = result.mappings().all()
        if not rows:
            raise NotFound(f"no order with client id {client_order_id!r} for this user")
        if len(rows) > 1:
            raise RepositoryError(f"several orders of this user have client id {client_order_id!r}")
        return order_from_row(rows[0])

    async def update(self, user_id: str, order: Order) -> None:
        row = order_row(user_id, order)
        statement = _update_order(tuple(k for k in row if k not in _ORDER_KEY))
        async with self._tx.one_write(cannot_conflict=True) as db:  # an UPDATE by key
            result = await db.execute(statement, _bound(row))
            if result.rowcount == 0:
                raise NotFound(f"no order with client id {order.client_order_id!r} for this user")

    async def list(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        strategy_id: str | None = None,
        open_only: bool = False,
        limit: int | None = None,
    ) -> Sequence[Order]:
        if limit is not None and limit < 0:
            raise DomainError(f"limit must be zero or more, got {limit}")
        query = _list_orders(
            by_connection=connection_id is not None,
            by_strategy=strategy_id is not None,
            open_only=bool(open_only),
            limited=limit is not None,
        )
        db = await self._tx.read()
        result = await db.execute(
            query,
            {
                "b_user_id": user_id,
                "b_connection_id": connection_id,
                "b_strategy_id": strategy_id,
                "b_limit": limit,
            },
        )
        with fetching("orders"):
            rows = result.mappings().all()
        found = [order_from_row(row) for row in rows]
        return found if limit is None else found[::-1]

    async def page(
        self,
        user_id: str,
        *,
        connection_id: str | None = None,
        open_only: bool = False,
        before: PageKey | None = None,
        limit: int,
    ) -> Page[Order]:
        check_page_limit(limit)
        edge = numbered_key(before)
        # Newest first on (created_at, id), from the index ix_orders_user_id_created_at_id.
        query = select(orders).where(orders.c.user_id == user_id)
        if connection_id is not None:
            query = query.where(orders.c.connection_id == connection_id)
        if open_only:
            query = query.where(orders.c.status.not_in(_TERMINAL))
        if edge is not None:
            query = query.where(tuple_(orders.c.created_at, orders.c.id) < tuple_(*edge))
        query = query.order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit + 1)
        db = await self._tx.read()
        result = await db.execute(query)
        with fetching("orders"):
            rows = result.mappings().all()
        shown = rows[:limit]
        last = shown[-1] if len(rows) > limit else None
        return Page(
            items=tuple(order_from_row(row) for row in shown),
            next=None if last is None else PageKey(last["created_at"], last["id"]),
        )


class Runs:
    """:class:`~tradecore.ports.RunRepository` in SQL; steps in their own table."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, run: AutomationRun) -> None:
        if not run.steps:  # a run starting: one row
            async with self._tx.one_write() as block:
                await self._insert_run(block, run)
            return
        async with self._tx.atomic() as db:
            await self._insert_run(db, run)
            await self._insert_steps(run)

    async def _insert_run(self, db: AsyncConnection | OneWrite, run: AutomationRun) -> None:
        # The constraints answer (the run's primary key, its user's foreign key): no read first.
        with refused_as(
            unique=AlreadyExists(f"a run with id {run.id!r} exists"),
            foreign_key=NotFound(f"no user {run.user_id!r}"),
        ):
            await db.execute(_INSERT_RUN, [run_row(run)])

    async def update(self, run: AutomationRun) -> None:
        row = run_row(run)
        statement = _update_run(tuple(k for k in row if k not in ("id", "user_id")), fenced=False)
        async with self._tx.atomic() as db:
            result = await db.execute(statement, _bound(row))
            if result.rowcount == 0:
                raise NotFound(f"no run {run.id!r} for this user")
            await db.execute(_DELETE_STEPS, {"b_run_id": run.id})
            await self._insert_steps(run)

    async def pending_digests(self, user_id: str, *, limit: int) -> Sequence[AutomationRun]:
        if limit < 0:
            raise DomainError(f"limit must be zero or more, got {limit}")
        db = await self._tx.read()
        query = _pending_digests(sqlite=self._tx.sqlite)
        parameters = {"b_user_id": user_id, "b_limit": limit}
        rows = (await db.execute(query, parameters)).mappings().all()
        steps = await self._steps([row["id"] for row in rows])
        return [run_from_row(row, steps[row["id"]]) for row in rows]

    async def claim_digest(self, user_id: str, run_id: str, *, fencing: int) -> bool:
        # One conditional UPDATE: the row lock it takes makes a concurrent claim wait and then
        # see this one (PostgreSQL re-checks the WHERE; SQLite writes one at a time).
        async with self._tx.one_write(cannot_conflict=True) as db:  # an UPDATE by key
            result = await db.execute(
                _CLAIM_DIGEST,
                {
                    "b_id": run_id,
                    "b_user_id": user_id,
                    "b_fencing": fencing,
                    "b_digest_claim": fencing,
                },
            )
            if result.rowcount == 0:
                await self._check_run(user_id, run_id)
                return False
            return True

    async def record_digest(self, run: AutomationRun, *, fencing: int) -> bool:
        row = run_row(run)
        statement = _update_run(tuple(k for k in row if k not in ("id", "user_id")), fenced=True)
        async with self._tx.atomic() as db:
            result = await db.execute(statement, {**_bound(row), "b_fencing": fencing})
            if result.rowcount == 0:
                await self._check_run(run.user_id, run.id)
                return False
            await db.execute(_DELETE_STEPS, {"b_run_id": run.id})
            await self._insert_steps(run)
            return True

    async def _check_run(self, user_id: str, run_id: str) -> None:
        db = await self._tx.read()
        found = await db.scalar(_RUN_EXISTS, {"b_id": run_id, "b_user_id": user_id})
        if not found:
            raise NotFound(f"no run {run_id!r} for this user")

    async def _insert_steps(self, run: AutomationRun) -> None:
        if run.steps:
            db = await self._tx.write()
            rows = [step_row(run.id, n, step) for n, step in enumerate(run.steps)]
            await db.execute(_INSERT_STEPS, rows)

    async def get(self, user_id: str, run_id: str) -> AutomationRun:
        db = await self._tx.read()
        row = (await db.execute(_RUN, {"b_id": run_id, "b_user_id": user_id})).mappings().first()
        if row is None:
            raise NotFound(f"no run {run_id!r} for this user")
        steps = await self._steps([run_id])
        return run_from_row(row, steps[run_id])

    async def list(self, user_id: str, *, limit: int = 20) -> Sequence[AutomationRun]:
        if limit < 0:
            raise DomainError(f"limit must be zero or more, got {limit}")
        if limit == 0:
            return []
        db = await self._tx.read()
        query = _list_runs(sqlite=self._tx.sqlite)
        rows = (await db.execute(query, {"b_user_id": user_id, "b_limit": limit})).mappings().all()
        steps = await self._steps([row["id"] for row in rows])
        return [run_from_row(row, steps[row["id"]]) for row in rows]

    async def stats(self, *, bounds: Sequence[timedelta]) -> RunStats:
        return await run_stats(self._tx, checked_bounds(bounds))

    async def last_successes(self) -> Mapping[str, datetime]:
        return await last_successes(self._tx)

    async def latest_figures(self, *, since: datetime) -> Sequence[RecordedFigures]:
        return await latest_figures(self._tx, since)

    async def page(
        self, user_id: str, *, before: PageKey | None = None, limit: int
    ) -> Page[AutomationRun]:
        check_page_limit(limit)
        run_id = self._tx.text_order(automation_runs.c.id)
        query = select(automation_runs).where(automation_runs.c.user_id == user_id)
        if before is not None:
            query = query.where(
                tuple_(automation_runs.c.started_at, run_id) < tuple_(before.at, str(before.id))
            )
        query = query.order_by(automation_runs.c.started_at.desc(), run_id.desc()).limit(limit + 1)
        db = await self._tx.read()
        rows = (await db.execute(query)).mappings().all()
        shown = rows[:limit]
        steps = await self._steps([row["id"] for row in shown])
        last = shown[-1] if len(rows) > limit else None
        return Page(
            items=tuple(run_from_row(row, steps[row["id"]]) for row in shown),
            next=None if last is None else PageKey(last["started_at"], last["id"]),
        )

    async def prune(self, *, started_before: datetime | None, keep_per_user: int | None) -> int:
        if keep_per_user is not None and (
            isinstance(keep_per_user, bool) or not isinstance(keep_per_user, int)
        ):
            raise DomainError(f"keep_per_user must be a whole number, got {keep_per_user!r}")
        if keep_per_user is not None and keep_per_user < 1:
            raise DomainError(f"keep_per_user must be at least 1, got {keep_per_user}")
        rules: builtins.list[ColumnElement[bool]] = []
        if started_before is not None:
            rules.append(automation_runs.c.started_at < started_before)
        if keep_per_user is not None:
            # Each user's runs ranked newest first, in the order of list(); beyond the newest
            # keep_per_user they go.
            ranked = select(
                automation_runs.c.id,
                func.row_number()
                .over(
                    partition_by=automation_runs.c.user_id,
                    order_by=(
                        automation_runs.c.started_at.desc(),
                        self._tx.text_order(automation_runs.c.id).desc(),
                    ),
                )
                .label("newest"),
            ).subquery()
            excess = select(ranked.c.id).where(ranked.c.newest > keep_per_user)
            rules.append(automation_runs.c.id.in_(excess))
        if not rules:
            return 0
        doomed = select(automation_runs.c.id).where(or_(*rules))
        async with self._tx.atomic() as db:
            # The steps first: the foreign key cascades too, but this does not depend on it
            # (SQLite enforces foreign keys only when a connection turns them on).
            await db.execute(delete(run_steps).where(run_steps.c.run_id.in_(doomed)))
            result = await db.execute(delete(automation_runs).where(or_(*rules)))
            return result.rowcount

    async def _steps(self, run_ids: Sequence[str]) -> dict[str, builtins.list[TaskResult]]:
        found: dict[str, builtins.list[TaskResult]] = defaultdict(builtins.list)
        if not run_ids:
            return found
        db = await self._tx.read()
        for row in (await db.execute(_STEPS, {"b_run_ids": builtins.list(run_ids)})).mappings():
            found[row["run_id"]].append(step_from_row(row))
        return found
