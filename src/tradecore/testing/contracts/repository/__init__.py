"""The contract every :class:`~tradecore.ports.RepositoryPort` implementation must pass.

Subclass :class:`RepositoryPortContract` in a test module and provide a ``repository`` fixture
that yields a fresh, empty store and closes it afterwards::

    from tradecore.testing.contracts.repository import RepositoryPortContract

    class TestMemoryRepository(RepositoryPortContract):
        @pytest.fixture
        async def repository(self):
            repository = MemoryRepository()
            yield repository
            await repository.aclose()

The tests assume what the :mod:`tradecore.ports.repository` docstrings promise, plus what this
suite pins down where they are silent:

- decimals come back *unchanged*: same value and same ``str`` (a fixed-scale column that pads
  ``0.1`` to ``0.100000`` fails);
- of several trades with one key, the first added is kept (insert-or-ignore);
- a list or count filtered by another user's connection is empty, and that connection's cursor
  is ``None``: as if it did not exist, not :class:`~tradecore.errors.NotFound`;
- ``sync_snapshot`` counts the positions it inserted or replaced (0 for a stale snapshot).

Tests are marked ``asyncio`` explicitly, so they also run under pytest-asyncio's strict mode
(an async ``repository`` fixture then needs ``@pytest_asyncio.fixture``). The property test needs
hypothesis; without it, it is skipped. The helpers :func:`add_owner`, :func:`add_connection` and
:func:`committing` are public for adapter-specific tests.

Ids from :mod:`tradecore.testing.builders` are derived from names, so a test that removes a user
or a connection and adds one with the same name again checks that no old row comes back.

:cvar serializes_writes: ``True`` for a store that runs one write transaction at a time (SQLite):
    the concurrency test then lets both units *read* before either commits, but not both *write*.
    A store must always let a unit read while another has uncommitted writes.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from tradecore.ports.repository import RepositoryPort
from tradecore.testing.contracts.repository._accounts import AccountTests
from tradecore.testing.contracts.repository._connections import (
    ConnectionLockTests,
    ConnectionTests,
)
from tradecore.testing.contracts.repository._digests import DigestTests
from tradecore.testing.contracts.repository._equity import EquityTests
from tradecore.testing.contracts.repository._helpers import (
    Owner,
    add_connection,
    add_owner,
    committing,
)
from tradecore.testing.contracts.repository._isolation import IsolationTests
from tradecore.testing.contracts.repository._lease_lifecycle import LeaseLifecycleTests
from tradecore.testing.contracts.repository._leases import LeaseTests
from tradecore.testing.contracts.repository._notification_targets import NotificationTargetTests
from tradecore.testing.contracts.repository._orders import OrderTests
from tradecore.testing.contracts.repository._paging import PagingTests
from tradecore.testing.contracts.repository._positions_and_cursors import PositionAndCursorTests
from tradecore.testing.contracts.repository._risk import RiskTests
from tradecore.testing.contracts.repository._run_stats import RunStatsTests
from tradecore.testing.contracts.repository._runs import RunPruneTests, RunTests
from tradecore.testing.contracts.repository._strategies_and_automation import (
    StrategyAndAutomationTests,
)
from tradecore.testing.contracts.repository._trades import TradeTests
from tradecore.testing.contracts.repository._transactions import TransactionTests
from tradecore.testing.contracts.repository._users import UserTests
from tradecore.testing.contracts.repository._venues import VenueTests

__all__ = [
    "Owner",
    "RepositoryPortContract",
    "add_connection",
    "add_owner",
    "committing",
]


# pytest collects inherited tests base class first (reverse MRO), so the mixins are listed last
# concern first: the suite then runs users, connections, notification targets, ... transactions,
# in that order.
class RepositoryPortContract(
    VenueTests,
    TransactionTests,
    IsolationTests,
    PagingTests,
    LeaseLifecycleTests,
    LeaseTests,
    EquityTests,
    PositionAndCursorTests,
    TradeTests,
    OrderTests,
    DigestTests,
    RunStatsTests,
    RunPruneTests,
    RunTests,
    RiskTests,
    StrategyAndAutomationTests,
    NotificationTargetTests,
    ConnectionLockTests,
    ConnectionTests,
    AccountTests,
    UserTests,
):
    """pytest base class: the behaviour every repository adapter shares.

    Fixture a subclass provides: ``repository`` (a fresh, empty store; close it afterwards).
    """

    serializes_writes: ClassVar[bool] = False

    @pytest.fixture
    def repository(self) -> RepositoryPort:
        """Override: yield a fresh, empty repository and close it afterwards."""
        pytest.fail(f"{type(self).__name__} must provide a 'repository' fixture")
