"""Faults injected around any :class:`~tradecore.ports.BrokerPort`, whatever it speaks.

:class:`BrokerFaults` is the script a test arms and the record of what happened;
:class:`FaultyBroker` is a broker wrapped with it. The wrapper sits outside the adapter, so it
needs no HTTP library: it works the same on an httpx adapter, a vendor SDK's client or an
in-memory simulator. See docs/plugins/testing.md.
"""

from __future__ import annotations

import enum
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeAlias

from attrs import evolve, frozen

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
from tradecore.errors import BrokerUnavailable, OrderNotFound, OrderOutcomeUnknown
from tradecore.ports import BrokerContext, BrokerFactory, BrokerInfo, BrokerPort
from tradecore.testing._fake_broker import BROKER_METHODS

__all__ = ["BrokerFaults", "ErrorFor", "FaultyBroker"]

ErrorFor: TypeAlias = BaseException | Callable[[OrderRequest], BaseException]
"""An exception to raise, or a function making one from the order request it concerns."""

_MethodError: TypeAlias = BaseException | Callable[[], BaseException]


class _OrderFault(enum.Enum):
    LOSE_ANSWER = "the order is executed, then its answer is lost"
    FAIL_BEFORE_SEND = "the order fails before it is sent"


@frozen
class _Planned:
    fault: _OrderFault
    error: ErrorFor | None


class BrokerFaults:
    """The faults a test arms for the brokers wrapped with it, and what those brokers were
    asked. One instance may wrap several adapters (a "restarted process" builds new ones on the
    same venue): the record is shared.

    Order faults are queued and used by the next ``place_order`` calls, one each, in the order
    armed: :meth:`lose_answer` (the wrapped broker places the order, the caller gets an error)
    and :meth:`fail_before_send` (the wrapped broker never sees it). :meth:`hide_from_lookups`
    makes the next lookups answer :class:`~tradecore.errors.OrderNotFound`;
    :meth:`fail` makes any method raise. A method armed with :meth:`fail` raises before any
    order fault or hiding is considered.
    """

    def __init__(self) -> None:
        self._planned: deque[_Planned] = deque()
        self._hidden = 0
        self._failures: dict[str, tuple[_MethodError, int]] = {}
        self.calls: Counter[str] = Counter()
        """Calls of each asynchronous broker method on a wrapper, faulted ones included."""
        self.sent: list[OrderRequest] = []
        """Every order request the wrapped broker received, in order (whatever it answered)."""
        self.lookups: list[str] = []
        """The client id of every ``get_order_status`` call, hidden ones included."""

    # -- arming -----------------------------------------------------------------------------------

    def lose_answer(self, error: ErrorFor | None = None) -> None:
        """Let the next order reach the wrapped broker, then raise ``error`` instead of its
        answer, as an adapter does when the connection drops after sending.

        :param error: by default an :class:`~tradecore.errors.OrderOutcomeUnknown` carrying the
            request's client id.
        """
        self._planned.append(_Planned(_OrderFault.LOSE_ANSWER, error))

    def fail_before_send(self, error: ErrorFor | None = None) -> None:
        """Raise ``error`` for the next order without passing it on: nothing is placed.

        :param error: by default a :class:`~tradecore.errors.BrokerUnavailable` (a gateway that
            could not be reached).
        """
        self._planned.append(_Planned(_OrderFault.FAIL_BEFORE_SEND, error))

    def hide_from_lookups(self, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``get_order_status`` with
        :class:`~tradecore.errors.OrderNotFound` without asking the wrapped broker, as Binance
        reports a live order "does not exist" for a while after placing it.

        :raises ValueError: ``times`` is below 1.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        self._hidden += times

    def fail(self, method: str, error: _MethodError, *, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` raise ``error`` without reaching the
        wrapped broker (a vendor exception to check a caller's handling, or a tradecore error).

        :param method: an asynchronous broker method (``"get_positions"``, ``"aclose"``…).
        :param error: the exception (the same instance each time), or a function making one.
        :raises ValueError: ``method`` is not a broker method, or ``times`` is below 1.
        """
        if method not in BROKER_METHODS:
            raise ValueError(f"{method!r} is not one of {', '.join(sorted(BROKER_METHODS))}")
        if times < 1:
            raise ValueError("times must be at least 1")
        self._failures[method] = (error, times)

    def clear(self) -> None:
        """Disarm every fault (the record of calls is kept)."""
        self._planned.clear()
        self._hidden = 0
        self._failures.clear()

    @property
    def armed(self) -> tuple[str, ...]:
        """The faults armed and not used yet, in words (empty when all were used)."""
        words = [planned.fault.value for planned in self._planned]
        if self._hidden:
            words.append(f"the next {self._hidden} lookups are hidden")
        words += [
            f"the next {n} calls of {method} fail" for method, (_, n) in self._failures.items()
        ]
        return tuple(words)

    # -- building ---------------------------------------------------------------------------------

    def wrap(self, broker: BrokerPort) -> FaultyBroker:
        """``broker`` with these faults."""
        return FaultyBroker(broker, self)

    def factory(
        self,
        inner: BrokerFactory | Callable[[BrokerConnection, BrokerContext], BrokerPort],
        *,
        name: str | None = None,
    ) -> BrokerFactory:
        """A factory whose adapters are ``inner``'s, wrapped with these faults (settings,
        secrets and login kept), for services and cycles that build their own adapters."""
        if isinstance(inner, BrokerFactory):
            create = inner.create
            base = inner
        else:
            create = inner
            base = BrokerFactory(name=name or "faulty", description="faults", create=inner)

        def make(connection: BrokerConnection, context: BrokerContext) -> BrokerPort:
            return self.wrap(create(connection, context))

        return evolve(base, name=name or base.name, create=make)

    # -- used by FaultyBroker ---------------------------------------------------------------------

    def _enter(self, method: str) -> None:
        self.calls[method] += 1
        failure = self._failures.get(method)
        if failure is None:
            return
        error, times = failure
        if times == 1:
            del self._failures[method]
        else:
            self._failures[method] = (error, times - 1)
        raise error if isinstance(error, BaseException) else error()

    def _next_order_fault(self) -> _Planned | None:
        return self._planned.popleft() if self._planned else None

    def _hide(self) -> bool:
        if self._hidden <= 0:
            return False
        self._hidden -= 1
        return True


def _error(
    given: ErrorFor | None, default: Callable[[OrderRequest], BaseException], request: OrderRequest
) -> BaseException:
    if given is None:
        return default(request)
    return given if isinstance(given, BaseException) else given(request)


class FaultyBroker:
    """``inner`` with the faults armed on ``faults``; everything else is passed through.

    :param inner: any broker adapter.
    :param faults: the script and the record, possibly shared with other wrappers.
    """

    def __init__(self, inner: BrokerPort, faults: BrokerFaults) -> None:
        self.inner = inner
        self.faults = faults

    @property
    def info(self) -> BrokerInfo:
        """The wrapped broker's."""
        return self.inner.info

    async def place_order(self, request: OrderRequest) -> Order:
        """Pass ``request`` on once, unless an order fault is armed (see :class:`BrokerFaults`)."""
        self.faults._enter("place_order")
        planned = self.faults._next_order_fault()
        if planned is not None and planned.fault is _OrderFault.FAIL_BEFORE_SEND:
            raise _error(planned.error, self._unreachable, request)
        self.faults.sent.append(request)
        order = await self.inner.place_order(request)
        if planned is None:
            return order
        raise _error(planned.error, self._answer_lost, request)  # executed; the answer is lost

    async def get_order_status(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """The wrapped broker's answer, unless this lookup is hidden (``OrderNotFound``)."""
        self.faults._enter("get_order_status")
        self.faults.lookups.append(client_order_id)
        if self.faults._hide():
            raise OrderNotFound(
                f"Order does not exist. ({client_order_id}: hidden by BrokerFaults)",
                broker=self.info.name,
            )
        return await self.inner.get_order_status(account, client_order_id, instrument=instrument)

    async def search_order(self, request: OrderRequest, *, since: datetime) -> Order:
        """The wrapped broker's :class:`~tradecore.ports.OrderSearch` (tradecore uses it only
        when the wrapped broker declares ``order_search``).

        :raises AttributeError: the wrapped broker has none.
        """
        self.faults._enter("search_order")
        search = getattr(self.inner, "search_order", None)
        if search is None:
            raise AttributeError(f"{type(self.inner).__name__} has no search_order")
        order: Order = await search(request, since=since)
        return order

    async def authenticate(self) -> None:
        """Passed through (or the armed failure)."""
        self.faults._enter("authenticate")
        await self.inner.authenticate()

    async def refresh_auth_token(self) -> OAuthTokens | None:
        """Passed through (or the armed failure)."""
        self.faults._enter("refresh_auth_token")
        return await self.inner.refresh_auth_token()

    async def get_accounts(self) -> Sequence[Account]:
        """Passed through (or the armed failure)."""
        self.faults._enter("get_accounts")
        return await self.inner.get_accounts()

    async def get_positions(self, account: Account) -> Sequence[Position]:
        """Passed through (or the armed failure)."""
        self.faults._enter("get_positions")
        return await self.inner.get_positions(account)

    async def get_trades(self, account: Account, *, cursor: str | None = None) -> TradePage:
        """Passed through (or the armed failure)."""
        self.faults._enter("get_trades")
        return await self.inner.get_trades(account, cursor=cursor)

    async def get_assets(self) -> Sequence[Asset]:
        """Passed through (or the armed failure)."""
        self.faults._enter("get_assets")
        return await self.inner.get_assets()

    async def get_asset_price(self, instrument: Instrument) -> Quote:
        """Passed through (or the armed failure)."""
        self.faults._enter("get_asset_price")
        return await self.inner.get_asset_price(instrument)

    async def cancel_order(
        self, account: Account, client_order_id: str, *, instrument: Instrument
    ) -> Order:
        """Passed through (or the armed failure)."""
        self.faults._enter("cancel_order")
        return await self.inner.cancel_order(account, client_order_id, instrument=instrument)

    def api_figures(self) -> Mapping[str, str]:
        """The wrapped broker's figures."""
        return self.inner.api_figures()

    async def aclose(self) -> None:
        """Passed through (or the armed failure)."""
        self.faults._enter("aclose")
        await self.inner.aclose()

    # -- default errors ---------------------------------------------------------------------------

    def _answer_lost(self, request: OrderRequest) -> BaseException:
        return OrderOutcomeUnknown(
            f"no answer after {request.client_order_id} was sent (lost by BrokerFaults); the "
            "order may have been placed",
            broker=self.info.name,
            client_order_id=request.client_order_id,
        )

    def _unreachable(self, request: OrderRequest) -> BaseException:
        return BrokerUnavailable(
            f"{request.client_order_id} was not sent: the broker could not be reached (injected "
            "by BrokerFaults)",
            broker=self.info.name,
        )
