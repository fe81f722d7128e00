"""Transport faults for the broker contract: the :class:`VenueFaults` protocol a test fixture
provides, and :class:`ScriptedFaults`, a ready implementation to wire into any transport.

A fault is armed for every matching request until :meth:`VenueFaults.clear`: an adapter that
retries a read meets the same fault again, so it must end with the right error, never succeed
on a fault it never saw. Nothing here imports an HTTP library; docs/plugins/writing.md
("Testing") shows the few lines that connect :class:`ScriptedFaults` to an ``httpx`` transport
or to a fake server behind a vendor SDK.
"""

from __future__ import annotations

import enum
from typing import Protocol, runtime_checkable

from attrs import frozen

__all__ = [
    "HTML_ERROR_PAGE",
    "MALFORMED_BODY",
    "Fault",
    "FaultKind",
    "ScriptedFaults",
    "VenueFaults",
]


@runtime_checkable
class VenueFaults(Protocol):
    """What the ``venue_faults`` fixture of
    :class:`~tradecore.testing.contracts.BrokerPortContract` returns: switches on the path
    between the broker under test and its venue (a fake server, a mock transport).

    Each switch applies to every matching request from the moment it is armed until
    :meth:`clear`. A venue that cannot produce a fault (a simulated venue has no rate limiter)
    raises :class:`NotImplementedError` with the reason from that method; the check using it
    skips with that reason.
    """

    def lose_answers_after_execution(self) -> None:
        """Order placements reach the venue and are executed, then the connection drops
        before the answer arrives (a reset or a read timeout, as the transport has it)."""
        ...

    def answer_malformed(self) -> None:
        """Every request other than a placement is answered with success and a body the venue
        never sends (well-formed, but of the wrong shape: a JSON object with none of the
        expected fields, say)."""
        ...

    def answer_html_error_page(self) -> None:
        """Every request other than a placement is answered with a 5xx status and an HTML page,
        as a proxy or load balancer in front of the venue does."""
        ...

    def time_out(self) -> None:
        """Every request other than a placement gets no answer (the read times out)."""
        ...

    def rate_limit(self, retry_after: int) -> None:
        """Every request other than a placement is refused by the venue's rate limiter, which
        asks to wait ``retry_after`` whole seconds, the way the venue says it (Binance's
        ``Retry-After``, Saxo's ``X-RateLimit-*-Reset``)."""
        ...

    def clear(self) -> None:
        """Disarm every fault: requests reach the venue and its answers come back again."""
        ...

    def placements(self) -> int:
        """How many order placements the venue has received so far (answered or not)."""
        ...


class FaultKind(enum.Enum):
    """Which fault a request meets."""

    LOSE_ANSWER = "lose_answer"
    """Let the venue execute the request, then drop the connection instead of answering."""
    MALFORMED = "malformed"
    HTML_ERROR_PAGE = "html_error_page"
    TIMEOUT = "timeout"
    RATE_LIMIT = "rate_limit"


@frozen
class Fault:
    """The fault one request meets; ``retry_after`` is set for :attr:`FaultKind.RATE_LIMIT`."""

    kind: FaultKind
    retry_after: int | None = None


MALFORMED_BODY = b'{"unexpected": [null, {"nested": true}]}'
"""What :meth:`ScriptedFaults.answer_malformed` suggests a transport answers: JSON with none
of the fields any venue documents."""

HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>upstream connect error</p></body></html>"
)
"""What :meth:`ScriptedFaults.answer_html_error_page` suggests a transport answers (status 502)."""


class ScriptedFaults:
    """A :class:`VenueFaults` that only remembers what is armed and counts placements.

    Wire it into the place every request passes (an ``httpx`` transport, a fake server's
    handler): call :meth:`on_request` once per request the venue would receive, and act on the
    :class:`Fault` it returns (``None``: answer normally). :data:`MALFORMED_BODY` and
    :data:`HTML_ERROR_PAGE` are ready bodies.
    """

    def __init__(self) -> None:
        self._placement_fault: Fault | None = None
        self._read_fault: Fault | None = None
        self._placements = 0

    def lose_answers_after_execution(self) -> None:
        """Arm :attr:`FaultKind.LOSE_ANSWER` for placements."""
        self._placement_fault = Fault(FaultKind.LOSE_ANSWER)

    def answer_malformed(self) -> None:
        """Arm :attr:`FaultKind.MALFORMED` for every other request."""
        self._read_fault = Fault(FaultKind.MALFORMED)

    def answer_html_error_page(self) -> None:
        """Arm :attr:`FaultKind.HTML_ERROR_PAGE` for every other request."""
        self._read_fault = Fault(FaultKind.HTML_ERROR_PAGE)

    def time_out(self) -> None:
        """Arm :attr:`FaultKind.TIMEOUT` for every other request."""
        self._read_fault = Fault(FaultKind.TIMEOUT)

    def rate_limit(self, retry_after: int) -> None:
        """Arm :attr:`FaultKind.RATE_LIMIT` (``retry_after`` seconds) for every other request."""
        if retry_after < 1:
            raise ValueError("retry_after must be at least 1 second")
        self._read_fault = Fault(FaultKind.RATE_LIMIT, retry_after)

    def clear(self) -> None:
        """Disarm every fault (the placement count stays)."""
        self._placement_fault = self._read_fault = None

    def placements(self) -> int:
        """Placements seen by :meth:`on_request`."""
        return self._placements

    def on_request(self, *, placement: bool) -> Fault | None:
        """Record one request on its way to the venue and return the fault it meets.

        :param placement: the request places an order (counted, and the only kind that meets
            :attr:`FaultKind.LOSE_ANSWER`); every other request meets the read faults.
        """
        if placement:
            self._placements += 1
            return self._placement_fault
        return self._read_fault
