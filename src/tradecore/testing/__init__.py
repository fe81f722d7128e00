"""Test doubles and builders for tradecore and for plugin authors (a public, versioned API).

- :class:`FakeBroker` — a scriptable in-memory broker (failures, hooks, call log);
- :class:`BrokerFaults` and :class:`FaultyBroker` — faults injected around any broker (an answer
  lost after the order was placed, a failure before sending, an order hidden from lookups, any
  error on any method), with a count of the calls of each method;
- :func:`replay_recorded_responses` — recorded HTTP exchanges replayed to an httpx-based broker
  (imports httpx only when called);
- :class:`FakeClock` — time that moves only when told;
- :class:`RecordingNotifier` — keeps every digest it is sent;
- :class:`ScriptedFaults` — a :class:`VenueFaults` to wire into a transport or fake server, for
  the fault checks of ``BrokerPortContract``;
- :mod:`tradecore.testing.builders` — valid domain objects with sensible defaults;
- :mod:`tradecore.testing.contracts` — ``BrokerPortContract`` and ``RepositoryPortContract``, the
  pytest suites every implementation must pass (needs ``tradecore[testing]``; imported on demand,
  never from here, so this module does not need pytest).
"""

from __future__ import annotations

from tradecore.testing._fake_broker import FakeBroker
from tradecore.testing._fake_clock import FakeClock
from tradecore.testing._faults import BrokerFaults, FaultyBroker
from tradecore.testing._recording_notifier import RecordingNotifier
from tradecore.testing._venue_faults import (
    HTML_ERROR_PAGE,
    MALFORMED_BODY,
    Fault,
    FaultKind,
    ScriptedFaults,
    VenueFaults,
)
from tradecore.testing.replay import (
    RecordedResponses,
    UnexpectedRequest,
    replay_recorded_responses,
)

__all__ = [
    "HTML_ERROR_PAGE",
    "MALFORMED_BODY",
    "BrokerFaults",
    "FakeBroker",
    "FakeClock",
    "Fault",
    "FaultKind",
    "FaultyBroker",
    "RecordedResponses",
    "RecordingNotifier",
    "ScriptedFaults",
    "UnexpectedRequest",
    "VenueFaults",
    "replay_recorded_responses",
]
