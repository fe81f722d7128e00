"""Contract suites: subclass one in your tests and provide its fixtures.

- :class:`BrokerPortContract` — fixtures ``broker`` and ``tradable_instrument`` (and the
  optional ``venue_faults``, a :class:`VenueFaults`, and others: see its docstring);
- :class:`RepositoryPortContract` — fixture ``repository``;
- :class:`SharedLimitsContract` — fixtures ``limits`` and ``second``.

They need pytest and pytest-asyncio (``pip install 'tradecore[testing]'``), which is why
:mod:`tradecore.testing` itself never imports this package.
"""

from __future__ import annotations

from tradecore.testing._venue_faults import VenueFaults
from tradecore.testing.contracts.broker import BrokerPortContract
from tradecore.testing.contracts.limits import SharedLimitsContract
from tradecore.testing.contracts.repository import RepositoryPortContract

__all__ = ["BrokerPortContract", "RepositoryPortContract", "SharedLimitsContract", "VenueFaults"]
