"""Fencing: a cycle run under a lease writes nothing once the lease is lost.

:class:`FencedRepository` wraps the repository a leased cycle uses. Every unit of work it hands
out confirms the lease (owner and fencing token, unexpired: :meth:`LeaseRepository.confirm`)
inside its own transaction just before it commits, and before it locks a connection to renew an
OAuth token (the token endpoint rotates the refresh token: calling it without the lease could
lose the new one). A unit whose lease is gone raises :class:`~tradecore.errors.LeaseLost` and
commits nothing, so a process paused past its lease (or cut off from the database) cannot record
an order, a synced trade, a token or a run after another process took the cycle over
(M. Kleppmann, "How to do distributed locking", 2016). Orders are sent only after their
``PENDING_SUBMIT`` row was committed through such a unit, and :func:`confirm_lease` is called
again right before each is sent: a process stalled between the two sends nothing once its lease
is gone (that last check reads the lease as committed now, in a unit that writes nothing: it has
no commit to protect, so it takes no lock).

A simulated broker's venue (the paper broker's, ``BrokerContext.venue``) is the broker's side,
not the cycle's: it is written through :func:`unfenced`, as a real exchange executes what it is
sent whatever tradecore's leases say. What reaches the venue is still fenced where it matters:
an order is sent only after :func:`confirm_lease`, and what a sync brings back is written
through fenced units.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self, final

from tradecore.domain import BrokerConnection, Lease
from tradecore.errors import LeaseLost
from tradecore.ports import RepositoryPort, UnitOfWork
from tradecore.ports.repository import REPOSITORIES, ConnectionRepository

__all__ = ["FencedRepository", "LeaseGuard", "confirm_lease", "unfenced"]


class LeaseGuard:
    """The lease a cycle runs under, and whether it is known to be lost.

    The heartbeat (:mod:`tradecore.services.scheduler`) replaces :attr:`lease` when it renews
    it and sets :attr:`lost` when it cannot.
    """

    __slots__ = ("lease", "lost")

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.lost = False

    def error(self) -> LeaseLost:
        """The error that stops the cycle."""
        return LeaseLost(
            f"the lease on this cycle (run {self.lease.run_id}, fencing token "
            f"{self.lease.fencing}) was lost: another scheduler may have taken it over; "
            "nothing more is written"
        )

    async def check(self, uow: UnitOfWork) -> None:
        """Confirm the lease inside ``uow``'s transaction.

        :raises LeaseLost: it is lost (and stays lost for this guard).
        """
        if self.lost:
            raise self.error()
        if not await uow.leases.confirm(self.lease):
            self.lost = True
            raise self.error()


@final
class _FencedConnections:
    # Connection reads pass through; locking one (to renew its token) confirms the lease first.
    __slots__ = ("_guard", "_inner", "_uow")

    def __init__(self, inner: ConnectionRepository, uow: UnitOfWork, guard: LeaseGuard) -> None:
        self._inner, self._uow, self._guard = inner, uow, guard

    async def add(self, connection: BrokerConnection) -> None:
        await self._inner.add(connection)

    async def get(self, user_id: str, connection_id: str) -> BrokerConnection:
        return await self._inner.get(user_id, connection_id)

    async def get_by_name(self, user_id: str, name: str) -> BrokerConnection:
        return await self._inner.get_by_name(user_id, name)

    async def list(self, user_id: str, *, active_only: bool = False) -> list[BrokerConnection]:
        return list(await self._inner.list(user_id, active_only=active_only))

    async def get_for_update(self, user_id: str, connection_id: str) -> BrokerConnection:
        await self._guard.check(self._uow)
        return await self._inner.get_for_update(user_id, connection_id)

    async def update(self, connection: BrokerConnection) -> None:
        await self._inner.update(connection)

    async def remove(self, user_id: str, connection_id: str) -> None:
        await self._inner.remove(user_id, connection_id)


@final
class FencedUnitOfWork:
    """A unit of work that commits only while its lease holds (see the module docstring).

    Its repositories are the wrapped unit's (every one of
    :data:`~tradecore.ports.repository.REPOSITORIES`, looked up when used), except
    :attr:`connections`, whose ``get_for_update`` confirms the lease first.
    """

    def __init__(self, inner: UnitOfWork, guard: LeaseGuard) -> None:
        self._inner = inner
        self._guard = guard
        self.connections: ConnectionRepository = _FencedConnections(inner.connections, inner, guard)

    def __getattr__(self, name: str) -> Any:
        # Called only for what is not set above: the other repositories, the wrapped unit's.
        if name in REPOSITORIES:
            return getattr(self._inner, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        """Confirm the lease in this transaction, then commit.

        :raises LeaseLost: the lease is lost; nothing of this unit is committed.
        """
        try:
            await self._guard.check(self._inner)
        except LeaseLost:
            await self._inner.rollback()
            raise
        await self._inner.commit()

    async def rollback(self) -> None:
        """Discard this unit's uncommitted writes."""
        await self._inner.rollback()


@final
class FencedRepository:
    """The repository a leased cycle writes through: every unit is fenced by ``guard``.
    Closing it leaves the wrapped repository open (it is shared)."""

    __slots__ = ("_guard", "_inner")

    def __init__(self, inner: RepositoryPort, guard: LeaseGuard) -> None:
        self._inner = inner
        self._guard = guard

    def unit_of_work(self) -> UnitOfWork:
        """A fenced unit of work over the wrapped repository."""
        return FencedUnitOfWork(self._inner.unit_of_work(), self._guard)

    @property
    def fencing(self) -> int:
        """The fencing token of the lease (it identifies the claims made under it)."""
        return self._guard.lease.fencing

    @property
    def unfenced(self) -> RepositoryPort:
        """The wrapped repository, for the one write a lost lease must not stop: the record of
        a digest already sent, which the store accepts only while the digest is still claimed
        by :attr:`fencing` (:meth:`~tradecore.ports.RunRepository.record_digest`)."""
        return self._inner

    async def confirm_lease(self) -> None:
        """Confirm the lease as committed now, in a short unit of its own that writes nothing
        (:meth:`LeaseRepository.holds`: one read, no lock, since there is no commit to protect).

        :raises LeaseLost: it is lost (or expired, by the store's clock).
        """
        guard = self._guard
        if guard.lost:
            raise guard.error()
        async with self._inner.unit_of_work() as uow:
            held = await uow.leases.holds(guard.lease)
        if not held:
            guard.lost = True
            raise guard.error()

    async def aclose(self) -> None:
        """Nothing to release: the wrapped repository belongs to the scheduler."""


async def confirm_lease(repository: RepositoryPort) -> None:
    """Confirm the lease ``repository`` writes under, when it is a :class:`FencedRepository`
    (a cycle's); a repository without a lease (a command run by hand) has nothing to confirm.

    :raises LeaseLost: the lease is lost.
    """
    if isinstance(repository, FencedRepository):
        await repository.confirm_lease()


def unfenced(repository: RepositoryPort) -> RepositoryPort:
    """The repository under ``repository``'s fence (itself when it has none): where a broker's
    simulated venue is kept (see the module docstring)."""
    if isinstance(repository, FencedRepository):
        return repository.unfenced
    return repository
