"""Order-placement faults for any :class:`~tradecore.ports.BrokerPort`, for the order protocol's
fault-injection tests (docs/orders.md): tradecore's own :class:`tradecore.testing.BrokerFaults`
(an answer lost after execution, a failure before sending, lookups that do not find an order
yet), plus what only these tests need: the process dying (:class:`Crash`) before the order
leaves or after the venue executed it.

One :class:`BrokerFaults` is shared by every wrapper built on it, so a "restarted process" (new
broker objects on the same venue) keeps the record of what reached the venue.
"""

from __future__ import annotations

from tradecore.domain import OrderRequest
from tradecore.testing import BrokerFaults as _BrokerFaults
from tradecore.testing import FaultyBroker

__all__ = ["BrokerFaults", "Crash", "FaultyBroker"]


class Crash(BaseException):
    """The process dies here.

    A :class:`BaseException`, so no ``except Exception`` of the code under test absorbs it (a
    killed process runs no handler either); only the test catches it.
    """


class BrokerFaults(_BrokerFaults):
    """:class:`tradecore.testing.BrokerFaults` with crashes."""

    def crash_before_send(self) -> None:
        """The process dies when it is about to send the next order."""

        def crash(request: OrderRequest) -> Crash:
            return Crash(f"the process died before sending {request.client_order_id}")

        self.fail_before_send(crash)

    def crash_after_execute(self) -> None:
        """The venue executes the next order, then the process dies before the answer is
        recorded."""

        def crash(request: OrderRequest) -> Crash:
            return Crash(f"the process died after {request.client_order_id} was executed")

        self.lose_answer(crash)

    @property
    def sent_ids(self) -> list[str]:
        """The client ids of :attr:`sent`."""
        return [request.client_order_id for request in self.sent]
