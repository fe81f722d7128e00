"""The transaction behind a memory unit of work: a private layer of changes and an operation log.

Every write is a synchronous *operation* (a function of the tables). The session runs it in a
fresh layer over its own pending changes, keeps the result only if it succeeds, and logs it. On
commit it replays the log on a fresh layer over the shared store and merges that layer in one
step, with no ``await`` in between: operations re-check their rules against what others committed
meanwhile (a name taken, a connection removed…), and a failure applies nothing. Because
operations, not row images, are replayed, concurrent units that touch different rows never undo
each other's work.

Reads see the shared store as committed now, plus the unit's own pending writes (read committed).

Row locks (:class:`RowLocks`) stand in for a database's: a unit holds the ones it took until it
commits, rolls back or ends; :meth:`Session.lock` waits for a row another unit holds and
:meth:`Session.try_lock` skips it (``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from tradecore.errors import RepositoryError
from tradecore_adapters.memory._store import Tables

__all__ = ["Operation", "RowLocks", "Session"]

R = TypeVar("R")

Operation = Callable[[Tables], R]
"""A read or write against one layer of tables. Writes must depend only on their arguments and
the tables, because they run again at commit."""


class _RowLock:
    # Who holds one row (a session, or _HANDED_OVER while a woken waiter has not run yet) and
    # who waits for it, first come first served.
    __slots__ = ("holder", "waiters")

    def __init__(self) -> None:
        self.holder: object | None = None
        self.waiters: deque[asyncio.Future[None]] = deque()


_HANDED_OVER = object()


class RowLocks:
    """The row locks of one memory repository, shared by all its units of work.

    A lock is held by one session at a time; :meth:`acquire` waits (in arrival order) and
    :meth:`try_acquire` never does (``FOR UPDATE SKIP LOCKED``).
    """

    __slots__ = ("_locks",)

    def __init__(self) -> None:
        self._locks: dict[str, _RowLock] = {}

    def try_acquire(self, key: str, holder: object) -> bool:
        """Take the lock of row ``key`` for ``holder`` if nobody holds or waits for it."""
        lock = self._locks.setdefault(key, _RowLock())
        if lock.holder is None and not lock.waiters:
            lock.holder = holder
            return True
        return False

    async def acquire(self, key: str, holder: object) -> None:
        """Take the lock of row ``key`` for ``holder``, waiting while another holds it."""
        if self.try_acquire(key, holder):
            return
        lock = self._locks[key]
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lock.waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release(key)  # handed over, then cancelled before it could run: pass it on
            elif waiter in lock.waiters:
                lock.waiters.remove(waiter)
            raise
        lock.holder = holder

    def release(self, key: str) -> None:
        """Give back the lock of row ``key``, handing it to the first live waiter."""
        lock = self._locks[key]
        lock.holder = None
        while lock.waiters:
            waiter = lock.waiters.popleft()
            if not waiter.done():
                lock.holder = _HANDED_OVER
                waiter.set_result(None)
                return


class Session:
    """The state of one unit of work over the shared ``store``.

    :param store: the root tables every unit commits to.
    :param locks: the repository's row locks; a unit holds the ones it took until it commits,
        rolls back or ends.
    """

    __slots__ = ("_active", "_held", "_locks", "_log", "_pending", "_store")

    def __init__(self, store: Tables, locks: RowLocks | None = None) -> None:
        self._store = store
        self._locks = locks if locks is not None else RowLocks()
        self._held: set[str] = set()
        self._pending: Tables | None = None
        self._log: list[Callable[[Tables], object]] = []
        self._active = False

    async def lock(self, key: str) -> None:
        """Take the lock of row ``key`` (waiting while another unit holds it)."""
        self._check_active()
        if key in self._held:
            return
        await self._locks.acquire(key, self)
        self._held.add(key)

    def try_lock(self, key: str) -> bool:
        """Take the lock of row ``key`` unless another unit holds it (never waits); ``True``
        when this unit holds it now."""
        self._check_active()
        if key in self._held:
            return True
        if not self._locks.try_acquire(key, self):
            return False
        self._held.add(key)
        return True

    def _release(self) -> None:
        held, self._held = self._held, set()
        for key in held:
            self._locks.release(key)

    def begin(self) -> None:
        """Start the transaction (entering the ``async with`` block)."""
        if self._active:
            raise RepositoryError("this unit of work is already in use; start a new one")
        self._active = True
        self._discard()

    def end(self) -> None:
        """Discard what was not committed, release the locks and close the transaction."""
        self._discard()
        self._release()
        self._active = False

    def read(self, operation: Operation[R]) -> R:
        """Run a read-only operation on the committed store plus this unit's pending writes."""
        self._check_active()
        return operation(self._pending if self._pending is not None else self._store)

    def write(self, operation: Operation[R]) -> R:
        """Run a write operation; keep its effects (and log it) only if it succeeds."""
        self._check_active()
        if self._pending is None:
            self._pending = self._store.child()
        statement = self._pending.child()
        result = operation(statement)
        statement.apply()
        self._log.append(operation)
        return result

    def commit(self) -> None:
        """Replay the logged writes on the shared store, all or nothing; then start afresh.

        Whatever happens, the unit's pending writes are gone afterwards: when a replayed operation
        raises, the error propagates and nothing is applied.
        """
        self._check_active()
        log = self._log
        self._discard()
        try:
            staging = self._store.child()
            for operation in log:
                operation(staging)
            staging.apply()
        finally:
            self._release()

    def rollback(self) -> None:
        """Discard the pending writes and release the locks."""
        self._check_active()
        self._discard()
        self._release()

    def _discard(self) -> None:
        self._pending = None
        self._log = []

    def _check_active(self) -> None:
        if not self._active:
            raise RepositoryError("use a unit of work inside its `async with` block")
