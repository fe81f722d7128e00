"""Memory repositories of what tradecore did: the order ledger and the run ledger."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from attrs import evolve

from tradecore.domain import (
    AutomationRun,
    DigestDelivery,
    Order,
    RecordedFigures,
    RunStats,
    checked_bounds,
)
from tradecore.errors import AlreadyExists, DomainError, NotFound, RepositoryError
from tradecore.ports.paging import Page, PageKey, check_page_limit, numbered_key
from tradecore_adapters.memory._run_stats import last_successes, latest_figures, run_stats
from tradecore_adapters.memory._session import Session
from tradecore_adapters.memory._store import (
    OrderKey,
    StoredOrder,
    Tables,
    aware,
    copy_entity,
    next_insertion,
    owned_connection,
    user_connection_ids,
)

__all__ = ["Orders", "Runs"]


class Orders:
    """:class:`~tradecore.ports.OrderRepository` in memory.

    Orders are unique on ``(connection, account, client_order_id)``. :meth:`get` looks an order up
    by client id alone, so two orders of one user sharing a client id on different connections or
    accounts make it raise :class:`~tradecore.errors.RepositoryError` rather than guess.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, user_id: str, order: Order) -> None:
        key = _key(order)
        stored = StoredOrder(next_insertion(), order)

        def add(tables: Tables) -> None:
            owned_connection(tables, user_id, order.request.connection_id)
            if tables.orders.get(key) is not None:
                raise AlreadyExists(f"an order with client id {order.client_order_id!r} exists")
            tables.orders.put(key, stored)

        self._session.write(add)

    async def get(self, user_id: str, client_order_id: str) -> Order:
        def get(tables: Tables) -> Order:
            owned = user_connection_ids(tables, user_id)
            found = [
                stored.order
                for key, stored in tables.orders.items()
                if key[0] in owned and key[2] == client_order_id
            ]
            if not found:
                raise NotFound(f"no order with client id {client_order_id!r} for this user")
            if len(found) > 1:
                raise RepositoryError(
                    f"{len(found)} orders of this user have client id {client_order_id!r}"
                )
            return found[0]

        return self._session.read(get)

    async def update(self, user_id: str, order: Order) -> None:
        key = _key(order)

        def update(tables: Tables) -> None:
            stored = tables.orders.get(key)
            if (
                order.request.connection_id not in user_connection_ids(tables, user_id)
                or stored is None
            ):
                raise NotFound(f"no order with client id {order.client_order_id!r} for this user")
            tables.orders.put(key, StoredOrder(stored.insertion, order))

        self._session.write(update)

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

        def list_(tables: Tables) -> list[Order]:
            owned = user_connection_ids(tables, user_id)
            if connection_id is not None:
                owned &= {connection_id}
            rows = sorted(
                (
                    stored
                    for key, stored in tables.orders.items()
                    if key[0] in owned
                    and (strategy_id is None or stored.order.strategy_id == strategy_id)
                    and not (open_only and stored.order.is_terminal)
                ),
                key=_order_order,
            )
            if limit is not None:
                rows = rows[len(rows) - limit :] if limit else []
            return [stored.order for stored in rows]

        return self._session.read(list_)

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

        def page(tables: Tables) -> Page[Order]:
            owned = user_connection_ids(tables, user_id)
            if connection_id is not None:
                owned &= {connection_id}
            rows = sorted(
                (
                    stored
                    for key, stored in tables.orders.items()
                    if key[0] in owned
                    and not (open_only and stored.order.is_terminal)
                    and (edge is None or _order_order(stored) < edge)
                ),
                key=_order_order,
                reverse=True,
            )
            shown = rows[:limit]
            last = shown[-1] if len(rows) > limit else None
            return Page(
                items=tuple(stored.order for stored in shown),
                next=None if last is None else PageKey(*_order_order(last)),
            )

        return self._session.read(page)


class Runs:
    """:class:`~tradecore.ports.RunRepository` in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, run: AutomationRun) -> None:
        row = copy_entity(run)

        def add(tables: Tables) -> None:
            if tables.users.get(row.user_id) is None:
                raise NotFound(f"no user {row.user_id!r}")
            if tables.runs.get(row.id) is not None:
                raise AlreadyExists(f"a run with id {row.id!r} exists")
            tables.runs.put(row.id, row)

        self._session.write(add)

    async def update(self, run: AutomationRun) -> None:
        row = copy_entity(run)

        def update(tables: Tables) -> None:
            stored = _owned_run(tables, row.user_id, row.id)
            tables.runs.put(row.id, evolve(row, digest_claim=stored.digest_claim))

        self._session.write(update)

    async def pending_digests(self, user_id: str, *, limit: int) -> Sequence[AutomationRun]:
        if limit < 0:
            raise DomainError(f"limit must be zero or more, got {limit}")

        def pending(tables: Tables) -> list[AutomationRun]:
            rows = sorted(
                (
                    r
                    for r in tables.runs.values()
                    if r.user_id == user_id
                    and r.finished_at is not None
                    and r.digest is DigestDelivery.PENDING
                ),
                key=_newest_first,
            )
            return [copy_entity(r) for r in rows[:limit]]

        return self._session.read(pending)

    async def claim_digest(self, user_id: str, run_id: str, *, fencing: int) -> bool:
        # The run's row lock, held until the unit ends, stands in for the UPDATE's row lock.
        await self._session.lock(f"run:{run_id}")
        if not self._session.read(
            lambda tables: _claimable(_owned_run(tables, user_id, run_id), fencing)
        ):
            return False

        def claim(tables: Tables) -> None:
            stored = _owned_run(tables, user_id, run_id)
            if not _claimable(stored, fencing):
                raise RepositoryError(f"the digest of run {run_id!r} was claimed meanwhile")
            tables.runs.put(run_id, evolve(stored, digest_claim=fencing))

        self._session.write(claim)
        return True

    async def record_digest(self, run: AutomationRun, *, fencing: int) -> bool:
        row = copy_entity(run)
        await self._session.lock(f"run:{row.id}")
        if self._session.read(lambda t: _owned_run(t, row.user_id, row.id).digest_claim) != fencing:
            return False

        def record(tables: Tables) -> None:
            stored = _owned_run(tables, row.user_id, row.id)
            if stored.digest_claim != fencing:
                raise RepositoryError(f"the digest of run {row.id!r} was claimed meanwhile")
            tables.runs.put(row.id, evolve(row, digest_claim=fencing))

        self._session.write(record)
        return True

    async def get(self, user_id: str, run_id: str) -> AutomationRun:
        def get(tables: Tables) -> AutomationRun:
            return copy_entity(_owned_run(tables, user_id, run_id))

        return self._session.read(get)

    async def list(self, user_id: str, *, limit: int = 20) -> Sequence[AutomationRun]:
        if limit < 0:
            raise DomainError(f"limit must be zero or more, got {limit}")

        def list_(tables: Tables) -> list[AutomationRun]:
            rows = sorted(
                (r for r in tables.runs.values() if r.user_id == user_id),
                key=_newest_first,
                reverse=True,
            )
            return [copy_entity(r) for r in rows[:limit]]

        return self._session.read(list_)

    async def stats(self, *, bounds: Sequence[timedelta]) -> RunStats:
        checked = checked_bounds(bounds)
        return self._session.read(lambda tables: run_stats(tables, checked))

    async def last_successes(self) -> Mapping[str, datetime]:
        return self._session.read(last_successes)

    async def latest_figures(self, *, since: datetime) -> Sequence[RecordedFigures]:
        moment = aware(since, "since")
        return self._session.read(lambda tables: latest_figures(tables, moment))

    async def page(
        self, user_id: str, *, before: PageKey | None = None, limit: int
    ) -> Page[AutomationRun]:
        check_page_limit(limit)
        edge = None if before is None else (before.at, str(before.id))

        def page(tables: Tables) -> Page[AutomationRun]:
            rows = sorted(
                (
                    r
                    for r in tables.runs.values()
                    if r.user_id == user_id and (edge is None or _newest_first(r) < edge)
                ),
                key=_newest_first,
                reverse=True,
            )
            shown = rows[:limit]
            last = shown[-1] if len(rows) > limit else None
            return Page(
                items=tuple(copy_entity(r) for r in shown),
                next=None if last is None else PageKey(last.started_at, last.id),
            )

        return self._session.read(page)

    async def prune(self, *, started_before: datetime | None, keep_per_user: int | None) -> int:
        if keep_per_user is not None and keep_per_user < 1:
            raise DomainError(f"keep_per_user must be 1 or more, got {keep_per_user}")
        if started_before is not None:
            aware(started_before, "started_before")

        # A rule, not a list of ids: replayed at commit, it also prunes runs committed meanwhile,
        # and keeps each user's newest runs as they are then.
        def prune(tables: Tables) -> int:
            doomed: set[str] = set()
            by_user: dict[str, list[AutomationRun]] = {}
            for run in tables.runs.values():
                if started_before is not None and run.started_at < started_before:
                    doomed.add(run.id)
                by_user.setdefault(run.user_id, []).append(run)
            if keep_per_user is not None:
                for runs in by_user.values():
                    runs.sort(key=_newest_first, reverse=True)
                    doomed.update(run.id for run in runs[keep_per_user:])
            for run_id in doomed:
                tables.runs.delete(run_id)
            return len(doomed)

        return self._session.write(prune)


def _newest_first(run: AutomationRun) -> tuple[datetime, str]:
    # The order of Runs.list (reversed): by start, then id.
    return (run.started_at, run.id)


def _key(order: Order) -> OrderKey:
    request = order.request
    return (request.connection_id, request.account_id, request.client_order_id)


def _order_order(stored: StoredOrder) -> tuple[datetime, int]:
    # By creation, then insertion: as the SQL repository's auto-incrementing id.
    return (stored.order.created_at, stored.insertion)


def _claimable(run: AutomationRun, fencing: int) -> bool:
    # Pending, and not claimed by a newer lease than ``fencing``.
    return run.digest is DigestDelivery.PENDING and (
        run.digest_claim is None or run.digest_claim <= fencing
    )


def _owned_run(tables: Tables, user_id: str, run_id: str) -> AutomationRun:
    run = tables.runs.get(run_id)
    if run is None or run.user_id != user_id:
        raise NotFound(f"no run {run_id!r} for this user")
    return run
