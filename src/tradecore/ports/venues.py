"""Where a simulated broker keeps its venue: the :class:`VenueStore` tradecore hands it.

A simulated broker (the built-in ``paper`` broker, or a plugin's) plays both sides of the market:
it is the adapter *and* the exchange. Its exchange's records (orders, balances, fills) must
outlive the process, like a real exchange's, so that an order placed by ``tradecore order place``
is found, filled or cancelled by the next process. tradecore gives every broker factory a store
for them in ``BrokerContext.venue``, kept in the database with the rest of the ledger.

Per connection the store holds one *state* (a text the plugin writes, typically JSON: balances,
orders, counters) and an append-only log of *entries* (the fills), numbered by the plugin from 1.
Every change happens in a :meth:`VenueStore.transaction`: it locks the connection's venue (in
this process and in others sharing the database) until the block ends and commits what was
written when it ends normally, so two processes acting on one paper account never lose an
update. :meth:`VenueStore.snapshot` reads the venue as committed, without the lock.

Typical use::

    async with store.transaction() as venue:
        state = load(venue.state)            # read after the lock was taken
        fills = simulate(state)
        await venue.add_entries([VenueEntry(state.count + i, dump(f)) for i, f in ...])
        await venue.save(dump(state))        # committed when the block ends
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from attrs import field, frozen
from attrs.validators import ge, instance_of

__all__ = ["VenueEntry", "VenueRepository", "VenueSnapshot", "VenueStore", "VenueTransaction"]


@frozen
class VenueEntry:
    """One record of a venue's log (a fill), as the plugin wrote it.

    :param seq: its number in the connection's log, from 1, given by the plugin; unique.
    :param text: the plugin's own encoding of the record.
    """

    seq: int = field(validator=[instance_of(int), ge(1)])
    text: str = field(validator=instance_of(str))


class VenueSnapshot(Protocol):
    """The venue of one connection as committed, inside :meth:`VenueStore.snapshot`: read only,
    not locked."""

    @property
    def state(self) -> str | None:
        """The state as committed (``None``: never saved)."""
        ...

    async def entries(self, *, after: int, limit: int) -> Sequence[VenueEntry]:
        """Up to ``limit`` entries numbered above ``after``, by number."""
        ...


class VenueTransaction(VenueSnapshot, Protocol):
    """The locked venue of one connection, inside :meth:`VenueStore.transaction`; its
    :attr:`state` is read after the lock was taken."""

    async def save(self, state: str) -> None:
        """Replace the state (committed when the transaction's block ends normally)."""
        ...

    async def add_entries(self, entries: Sequence[VenueEntry]) -> None:
        """Append entries to the log.

        :raises AlreadyExists: an entry's ``seq`` is taken (nothing of this call is added).
        """
        ...

    async def clear(self) -> None:
        """Forget the state and every entry (a venue opened anew)."""
        ...


class VenueStore(Protocol):
    """The durable venue of one connection (``BrokerContext.venue``)."""

    def transaction(self) -> AbstractAsyncContextManager[VenueTransaction]:
        """Lock the venue until the block ends, in this process and in any other sharing the
        database; commit what was written when the block ends normally, discard it when it
        raises.

        :raises NotFound: the connection was removed.
        """
        ...

    def snapshot(self) -> AbstractAsyncContextManager[VenueSnapshot]:
        """Read the venue as committed now, without waiting for its lock and without writing:
        for a request that turns out to change nothing (a price, positions with nothing due), so
        that it neither waits for nor holds up the processes changing the venue. A request that
        would change the venue must redo its work in a :meth:`transaction`.
        """
        ...


class VenueRepository(Protocol):
    """The venues of simulated brokers, per connection (``UnitOfWork.venues``); the store's side
    of :class:`VenueStore`. Scoped by user like every repository: another user's connection is
    :class:`~tradecore.errors.NotFound`. Removing a connection removes its venue."""

    async def get_for_update(self, user_id: str, connection_id: str) -> str | None:
        """Lock the connection's venue until this unit of work ends, and return its state as
        read after the lock was taken (``None``: never saved).

        The lock is taken even when nothing is saved yet, so that a first save is serialised
        too (PostgreSQL: a row lock; SQLite: the database's write lock, one host).

        :raises NotFound: no such connection for this user.
        """
        ...

    async def get(self, user_id: str, connection_id: str) -> str | None:
        """The connection's venue state as committed, without locking it (``None``: never
        saved, or the connection is not this user's)."""
        ...

    async def save(self, user_id: str, connection_id: str, state: str) -> None:
        """Insert or replace the connection's venue state.

        :raises NotFound: no such connection for this user.
        """
        ...

    async def add_entries(
        self, user_id: str, connection_id: str, entries: Sequence[VenueEntry]
    ) -> None:
        """Append entries to the connection's log.

        :raises AlreadyExists: an entry's number is taken (nothing of this call is added).
        :raises NotFound: no such connection for this user.
        """
        ...

    async def entries(
        self, user_id: str, connection_id: str, *, after: int, limit: int
    ) -> Sequence[VenueEntry]:
        """Up to ``limit`` entries of the connection's log numbered above ``after``, by number;
        none for a connection that is not this user's."""
        ...

    async def clear(self, user_id: str, connection_id: str) -> None:
        """Delete the connection's venue state and log.

        :raises NotFound: no such connection for this user.
        """
        ...
