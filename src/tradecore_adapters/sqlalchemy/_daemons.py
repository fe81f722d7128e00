"""SQL repository of the daemon registry (:class:`~tradecore.ports.DaemonRepository`): the
schedulers running on the database, each registered under its owner name with the store's clock
as its last sign of life (read through :class:`~._leases.SqlLeases`, whose clock it is)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.sql import Select

from tradecore.domain import DaemonInfo
from tradecore_adapters.sqlalchemy._leases import SqlLeases
from tradecore_adapters.sqlalchemy._rows import daemon_from_row, daemon_row, fetching
from tradecore_adapters.sqlalchemy._unit import Transaction, text_order
from tradecore_adapters.sqlalchemy.schema import automation_daemons

__all__ = ["SqlDaemons"]

_DAEMON_DELETE = delete(automation_daemons).where(
    automation_daemons.c.owner == bindparam("b_owner")
)
_DAEMON_INSERT = insert(automation_daemons)


@functools.cache
def _daemons(sqlite: bool) -> Select[Any]:
    owner = automation_daemons.c.owner
    return select(automation_daemons).order_by(
        automation_daemons.c.started_at, text_order(owner, sqlite=sqlite)
    )


@functools.cache
def _daemon_update(columns: tuple[str, ...]) -> Any:
    """The registration of the daemon ``b_owner``, setting ``columns``."""
    return (
        update(automation_daemons)
        .where(automation_daemons.c.owner == bindparam("b_owner"))
        .values({name: bindparam(f"b_set_{name}") for name in columns})
    )


class SqlDaemons:
    """:class:`~tradecore.ports.DaemonRepository` in SQL."""

    def __init__(self, tx: Transaction, leases: SqlLeases) -> None:
        self._tx = tx
        self._leases = leases

    async def register(self, daemon: DaemonInfo) -> None:
        async with self._tx.atomic() as db:
            now = await self._leases.now()
            row = daemon_row(daemon) | {"seen_at": now}
            columns = tuple(k for k in row if k != "owner")
            result = await db.execute(
                _daemon_update(columns),
                {"b_owner": daemon.owner} | {f"b_set_{k}": row[k] for k in columns},
            )
            if result.rowcount == 0:
                await db.execute(_DAEMON_INSERT, [row])

    async def unregister(self, owner: str) -> None:
        async with self._tx.atomic() as db:
            await db.execute(_DAEMON_DELETE, {"b_owner": owner})

    async def list(self) -> Sequence[DaemonInfo]:
        db = await self._tx.read()
        result = await db.execute(_daemons(self._tx.sqlite))
        with fetching("automation_daemons"):
            rows = result.mappings().all()
        return [daemon_from_row(row) for row in rows]
