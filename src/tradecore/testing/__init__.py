"""Test doubles and builders for tradecore and for plugin authors (a public, versioned API).

- :class:`FakeBroker` — a scriptable in-memory broker (failures, hooks, call log);
- :class:`FakeClock` — time that moves only when told;
- :class:`RecordingNotifier` — keeps every digest it is sent;
- :mod:`tradecore.testing.builders` — valid domain objects with sensible defaults;
- :mod:`tradecore.testing.contracts` — ``BrokerPortContract`` and ``RepositoryPortContract``, the
  pytest suites every implementation must pass (needs ``tradecore[testing]``; imported on demand,
  never from here, so this module does not need pytest).
"""

from __future__ import annotations

from tradecore.testing._fake_broker import FakeBroker
from tradecore.testing._fake_clock import FakeClock
from tradecore.testing._recording_notifier import RecordingNotifier

__all__ = ["FakeBroker", "FakeClock", "RecordingNotifier"]
