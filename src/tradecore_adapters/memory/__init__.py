"""The in-memory repository: a complete :class:`~tradecore.ports.RepositoryPort` with no database.

Use it in tests and anywhere persistence is not wanted::

    from tradecore_adapters.memory import MemoryRepository

    repository = MemoryRepository()
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.commit()

Units of work are real transactions (read-your-writes, nothing visible to others before
``commit``, rollback on exit), safe to run concurrently in one event loop. Nothing survives the
process.
"""

from __future__ import annotations

from tradecore_adapters.memory._web_sessions import MemoryWebSessions
from tradecore_adapters.memory.repository import MemoryRepository, MemoryUnitOfWork

__all__ = ["MemoryRepository", "MemoryUnitOfWork", "MemoryWebSessions"]
