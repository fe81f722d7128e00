"""Order-placement faults for any :class:`~tradecore.ports.BrokerPort`, for the order protocol's
fault-injection tests (docs/orders.md).

The paper venue answers every order at once and cannot be scripted; the Binance and Saxo fakes
can lose an answer but cannot make the process die. :class:`FaultyBroker` wraps a real adapter
(a :class:`~tradecore_adapters.paper.broker.PaperBroker` on a shared venue, or the Binance/Saxo
adapters on their fakes) and, for the next ``place_order`` calls, as queued on its
:class:`BrokerFaults`:

* :meth:`BrokerFaults.lose_answer`: the venue executes the order, then the caller gets the error
  an adapter raises when the answer never came (a read timeout after sending:
  :class:`~tradecore.errors.OrderOutcomeUnknown`, or :class:`~tradecore.errors.BrokerUnavailable`);
* :meth:`BrokerFaults.fail_before_send`: the error is raised and the venue never sees the order;
* :meth:`BrokerFaults.crash_before_send` / :meth:`BrokerFaults.crash_after_execute`: the process
  dies (:class:`Crash`) before the venue sees the order, or after it executed it but before the
  caller could record the answer.

:meth:`BrokerFaults.hide_from_lookups` makes the next lookups answer "not found" whatever the
venue holds (Binance's documented lag: a live order reported as "Order does not exist." for up
to a minute). Everything else is delegated unchanged. One :class:`BrokerFaults` is shared by
every wrapper built on it, so a "restarted process" (new broker objects on the same venue) keeps
the record of what reached the venue.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from attrs import frozen

from tradecore.domain import (
    Account,
    Asset,
    BrokerConnection,
    Instrument,
    OAuthTokens,
    Order,
    OrderRequest,
    Position,
    Quote,
    TradePage,
)
from tradecore.errors import BrokerError, OrderNotFound, OrderOutcomeUnknown
from tradecore.ports import BrokerContext, BrokerFactory, BrokerInfo, BrokerPort

__all__ = ["BrokerFaults", "Crash", "Fault", "FaultyBroker"]


class Crash(BaseException):
    """The process dies here.

    A :class:`BaseException`, so no ``except Exception`` of the code under test absorbs it (a
    killed process runs no handler either); only the test catches it.
    """


class Fault(enum.Enum):
    """What the next ``place_order`` does instead of answering normally."""

    LOSE_ANSWER = "executed on the venue, then the answer is lost"
    FAIL_BEFORE_SEND = "an error before the order leaves"
    CRASH_BEFORE_SEND = "the process dies before the order leaves"
    CRASH_AFTER_EXECUTE = "the process dies after the venue executed the order"


@frozen
class _Planned:
    fault: Fault
    error: Callable[[OrderRequest], BrokerError] | None = None


def _answer_lost(kind: type[BrokerError]) -> Callable[[OrderRequest], BrokerError]:
    def make(request: OrderRequest) -> BrokerError:
        text = "read timed out after the order request was sent; the order may have been placed"
        if issubclass(kind, OrderOutcomeUnknown):
            return kind(text, broker="faulty", client_order_id=request.client_order_id)
        return kind(text, broker="faulty")

    return make


class BrokerFaults:
    """The faults queued for ``place_order`` and what reached the venue, shared by every
    :class:`FaultyBroker` built on it."""

    def __init__(self) -> None:
        self._planned: deque[_Planned] = deque()
        self._hidden = 0
        self.sent: list[OrderRequest] = []
        """Every ``place_order`` that reached the venue, in order (executed or refused there)."""
        self.lookups: list[str] = []
        """The client id of every ``get_order_status`` call, hidden ones included."""

    # -- scripting -----------------------------------------------------------------------------

    def lose_answer(self, kind: type[BrokerError] = OrderOutcomeUnknown) -> None:
        """The next order is executed on the venue, then ``kind`` is raised as if the answer
        was lost (``OrderOutcomeUnknown`` is what the adapters raise on a read timeout after
        sending; ``BrokerUnavailable`` what a careless one might)."""
        self._planned.append(_Planned(Fault.LOSE_ANSWER, _answer_lost(kind)))

    def fail_before_send(self, error: BrokerError) -> None:
        """The next order raises ``error`` without reaching the venue."""
        self._planned.append(_Planned(Fault.FAIL_BEFORE_SEND, lambda _: error))

    def crash_before_send(self) -> None:
        """The process dies when it is about to send the next order."""
        self._planned.append(_Planned(Fault.CRASH_BEFORE_SEND))

    def crash_after_execute(self) -> None:
        """The venue executes the next order, then the process dies before the answer is
        recorded."""
        self._planned.append(_Planned(Fault.CRASH_AFTER_EXECUTE))

    def hide_from_lookups(self, times: int) -> None:
        """The next ``times`` lookups answer "not found" (the venue is not asked)."""
        self._hidden += times

    @property
    def pending(self) -> tuple[Fault, ...]:
        """Faults queued and not used yet."""
        return tuple(planned.fault for planned in self._planned)

    @property
    def sent_ids(self) -> list[str]:
        """The client ids of :attr:`sent`."""
        return [request.client_order_id for request in self.sent]

    # -- building ------------------------------------------------------------------------------

    def wrap(self, broker: BrokerPort) -> FaultyBroker:
        """``broker`` with these faults."""
        return FaultyBroker(broker, self)

    def factory(
        self,
        inner: BrokerFactory | Callable[[BrokerConnection, BrokerContext], BrokerPort],
        *,
        name: str | None = None,
    ) -> BrokerFactory:
        """A broker factory whose adapters are ``inner``'s, wrapped with these faults."""
        create = inner.create if isinstance(inner, BrokerFactory) else inner
        factory_name = name or (inner.name if isinstance(inner, BrokerFactory) else "faulty")

        def make(connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
            return self.wrap(create(connection, context))

        return BrokerFactory(
            name=factory_name, description="a broker with scripted order faults", create=make
        )

    # -- used by FaultyBroker ------------------------------------------------------------------

    def _next(self) -> _Planned | None:
        return self._planned.popleft() if self._planned else None

    def _hide(self) -> bool:
        if self._hidden <= 0:
            return False
        self._hidden -= 1
        return True


class FaultyBroker:
    """``inner`` with the faults of ``faults`` on ``place_order`` and ``get_order_status``."""

    def __init__(self, inner: BrokerPort, faults: BrokerFaults) -> None:
        self.inner = inner
        self.faults = faults

    @property
    def info(self) -> BrokerInfo:
        return self.inner.info

    async def place_order(self, request: OrderRequest) -> Order:
        planned = self.faults._next()
        if planned is None:
            self.faults.sent.append(request)
            return await self.inner.place_order(request)
        if planned.fault is Fault.CRASH_BEFORE_SEND:
            raise Crash(f"the process died before sending {request.client_order_id}")
        if planned.fault is Fault.FAIL_BEFORE_SEND:
            assert planned.error is not None
            raise planned.error(request)
        self.faults.sent.append(request)
        await self.inner.place_order(request)  # executed; what it answered is lost
        if planned.fault is Fault.CRASH_AFTER_EXECUTE:
            raise Crash(f"the process died after {request.client_order_id} was executed")
        assert planned.error is not None
        raise planned.error(request)

    async def get_order_status(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        self.faults.lookups.append(client_order_id)
        if self.faults._hide():
            raise OrderNotFound(
                f"Order does not exist. ({client_order_id}, hidden by the test)", broker="faulty"
            )
        return await self.inner.get_order_status(account, client_order_id, instrument=instrument)

    # -- delegated unchanged -------------------------------------------------------------------

    async def search_order(self, request: OrderRequest, *, since: datetime) -> Order:
        """The wrapped broker's :class:`~tradecore.ports.OrderSearch` (it is used only when the
        wrapped broker declares ``order_search``)."""
        search = getattr(self.inner, "search_order", None)
        if search is None:
            raise AttributeError(f"{type(self.inner).__name__} has no search_order")
        order: Order = await search(request, since=since)
        return order

    async def authenticate(self) -> None:
        await self.inner.authenticate()

    async def refresh_auth_token(self) -> OAuthTokens | None:
        return await self.inner.refresh_auth_token()

    async def get_accounts(self) -> Sequence[Account]:
        return await self.inner.get_accounts()

    async def get_positions(self, account: Account) -> Sequence[Position]:
        return await self.inner.get_positions(account)

    async def get_trades(self, account: Account, *, cursor: str | None = None) -> TradePage:
        return await self.inner.get_trades(account, cursor=cursor)

    async def get_assets(self) -> Sequence[Asset]:
        return await self.inner.get_assets()

    async def get_asset_price(self, instrument: Instrument) -> Quote:
        return await self.inner.get_asset_price(instrument)

    async def cancel_order(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        return await self.inner.cancel_order(account, client_order_id, instrument=instrument)

    def api_figures(self) -> Mapping[str, str]:
        return self.inner.api_figures()

    async def aclose(self) -> None:
        await self.inner.aclose()
