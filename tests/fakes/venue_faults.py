"""Faults between the paper broker and its venue store (the database, for the paper broker):
what the broker's ``venue_faults`` fixture arms. The store is paper's only "transport", so a
lost answer is a commit whose acknowledgement never arrives, a timeout is a database that does
not answer, and a malformed answer is a stored venue of the wrong shape; a web page and a rate
limit have no counterpart there."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from tradecore.ports import VenueEntry, VenueSnapshot, VenueStore, VenueTransaction
from tradecore.testing import MALFORMED_BODY, FaultKind, ScriptedFaults

NO_WEB = "the paper venue is a database store, which answers no HTML page"
NO_LIMIT = "the paper venue is a database store, which has no rate limit"


class PaperFaults(ScriptedFaults):
    """:class:`ScriptedFaults` without the two faults a venue store cannot produce."""

    def answer_html_error_page(self) -> None:
        raise NotImplementedError(NO_WEB)

    def rate_limit(self, retry_after: int) -> None:
        raise NotImplementedError(NO_LIMIT)


class _Garbled:
    # A snapshot or transaction whose stored state is of the wrong shape.
    def __init__(self, inner: VenueSnapshot) -> None:
        self._inner = inner

    @property
    def state(self) -> str | None:
        return MALFORMED_BODY.decode()

    async def entries(self, *, after: int, limit: int) -> Sequence[VenueEntry]:
        return await self._inner.entries(after=after, limit=limit)

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def _orders(state: str | None) -> int:
    return 0 if state is None else len(json.loads(state).get("orders", ()))


class FaultyVenueStore:
    """``inner`` behind ``faults``: a transaction that adds an order is a placement."""

    def __init__(self, inner: VenueStore, faults: ScriptedFaults) -> None:
        self._inner = inner
        self._faults = faults

    def snapshot(self) -> AbstractAsyncContextManager[VenueSnapshot]:
        return self._snapshot()

    def transaction(self) -> AbstractAsyncContextManager[VenueTransaction]:
        return self._transaction()

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[VenueSnapshot]:
        fault = self._read_fault()
        async with self._inner.snapshot() as snapshot:
            yield _Garbled(snapshot) if fault is FaultKind.MALFORMED else snapshot  # type: ignore[misc]

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[VenueTransaction]:
        fault = self._read_fault()
        async with self._inner.transaction() as transaction:
            before = _orders(transaction.state)
            yield _Garbled(transaction) if fault is FaultKind.MALFORMED else transaction  # type: ignore[misc]
            placed = _orders(transaction.state) > before
        # Committed; now the acknowledgement of a placement may be lost on its way back.
        if placed:
            lost = self._faults.on_request(placement=True)
            if lost is not None and lost.kind is FaultKind.LOSE_ANSWER:
                raise ConnectionResetError("the database connection dropped after COMMIT")

    def _read_fault(self) -> FaultKind | None:
        fault = self._faults.on_request(placement=False)
        if fault is not None and fault.kind is FaultKind.TIMEOUT:
            raise TimeoutError("the database did not answer")
        return None if fault is None else fault.kind
